//! The Matrix Market reader: every field and symmetry, gzip, and each malformed case.

use std::io::Write;
use std::path::Path;

use sgtsne::io::mtx::read_matrix_market;
use sgtsne::Error;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn triplets(c: &sgtsne::graph::Coo) -> Vec<(u32, u32, f64)> {
    let mut v: Vec<_> = (0..c.vals.len())
        .map(|k| (c.rows[k], c.cols[k], c.vals[k]))
        .collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

#[test]
fn reads_real_general_with_comments_and_blank_lines() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "a.mtx",
        "%%MatrixMarket matrix coordinate real general\n% a comment\n\n3 3 3\n1 2 0.5\n3 1 2e-1\n\n2 3 7\n",
    );
    let c = read_matrix_market(&p).unwrap();
    assert_eq!(c.n, 3);
    assert_eq!(triplets(&c), vec![(0, 1, 0.5), (1, 2, 7.0), (2, 0, 0.2)]);
}

#[test]
fn reads_integer_and_pattern_fields() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "i.mtx",
        "%%MatrixMarket matrix coordinate integer general\n2 2 2\n1 2 3\n2 1 4\n",
    );
    assert_eq!(
        triplets(&read_matrix_market(&p).unwrap()),
        vec![(0, 1, 3.0), (1, 0, 4.0)]
    );
    let p = write(
        d.path(),
        "p.mtx",
        "%%MatrixMarket matrix coordinate pattern general\n3 3 2\n1 2\n3 2\n",
    );
    assert_eq!(
        triplets(&read_matrix_market(&p).unwrap()),
        vec![(0, 1, 1.0), (2, 1, 1.0)]
    );
}

#[test]
fn symmetric_files_are_expanded() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "s.mtx",
        "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n2 1 0.5\n3 1 0.25\n2 2 9\n",
    );
    let c = read_matrix_market(&p).unwrap();
    assert_eq!(
        triplets(&c),
        vec![
            (0, 1, 0.5),
            (0, 2, 0.25),
            (1, 0, 0.5),
            (1, 1, 9.0),
            (2, 0, 0.25)
        ]
    );
}

#[test]
fn symmetric_files_hold_one_triangle_either_one() {
    let d = tempfile::tempdir().unwrap();
    let lower =
        "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n2 1 0.5\n3 1 0.25\n2 2 9\n";
    let upper =
        "%%MatrixMarket matrix coordinate real symmetric\n3 3 3\n1 2 0.5\n2 2 9\n1 3 0.25\n";
    let want = triplets(&read_matrix_market(&write(d.path(), "l.mtx", lower)).unwrap());
    let got = triplets(&read_matrix_market(&write(d.path(), "u.mtx", upper)).unwrap());
    assert_eq!(got, want);
    // Both triangles: named at the first entry on the other side, even
    // where the count is more than one triangle can hold.
    let both =
        "%%MatrixMarket matrix coordinate real symmetric\n2 2 4\n% c\n2 1 1\n1 1 1\n1 2 1\n2 2 1\n";
    let e = read_matrix_market(&write(d.path(), "b.mtx", both))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("b.mtx:6:") && e.contains("(1, 2) lies above") && e.contains("line 4"),
        "{e}"
    );
}

#[test]
fn line_ends_and_latin1_comments() {
    let d = tempfile::tempdir().unwrap();
    let unix = "%%MatrixMarket matrix coordinate real general\n% x\n3 3 2\n1 2 0.5\n3 1 2\n";
    let want = triplets(&read_matrix_market(&write(d.path(), "n.mtx", unix)).unwrap());
    for (name, text) in [
        ("crlf.mtx", unix.replace('\n', "\r\n")),
        ("cr.mtx", unix.replace('\n', "\r")),
    ] {
        let got = read_matrix_market(&write(d.path(), name, &text)).unwrap();
        assert_eq!(triplets(&got), want, "{name}");
    }
    let mut latin = unix.as_bytes().to_vec();
    latin.splice(47..48, *b"\xE9");
    assert_eq!(latin[46], b'%');
    let p = d.path().join("latin.mtx");
    std::fs::write(&p, &latin).unwrap();
    assert_eq!(triplets(&read_matrix_market(&p).unwrap()), want);
}

#[test]
fn header_is_case_insensitive_and_gzip_is_detected() {
    let d = tempfile::tempdir().unwrap();
    let text = "%%MatrixMarket MATRIX Coordinate REAL General\n2 2 1\n1 2 1.5\n";
    let p = d.path().join("g.mtx.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&p).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(text.as_bytes()).unwrap();
    enc.finish().unwrap();
    assert_eq!(
        triplets(&read_matrix_market(&p).unwrap()),
        vec![(0, 1, 1.5)]
    );
}

/// Each malformed file must give a parse error naming the right line.
#[test]
fn malformed_files_give_line_and_reason() {
    let cases: &[(&str, u64, &str)] = &[
        ("", 0, "empty file"),
        ("hello\n", 1, "not a Matrix Market file"),
        (
            "%%MatrixMarket matrix coordinate complex general\n1 1 1\n1 1 1 0\n",
            1,
            "complex",
        ),
        (
            "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n",
            1,
            "array",
        ),
        (
            "%%MatrixMarket matrix coordinate real skew-symmetric\n2 2 1\n2 1 1\n",
            1,
            "skew-symmetric",
        ),
        (
            "%%MatrixMarket matrix coordinate real hermitian\n2 2 1\n2 1 1\n",
            1,
            "hermitian",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n",
            2,
            "missing size line",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 3 1\n1 1 1\n",
            2,
            "not square",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1\n",
            3,
            "out of range",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 2 1\n0 1 1\n",
            3,
            "out of range",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 -1\n",
            3,
            "negative",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 nan\n",
            3,
            "not finite",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 inf\n",
            3,
            "not finite",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 abc\n",
            3,
            "not a number",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2\n",
            3,
            "missing value",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 1 4\n",
            3,
            "too many fields",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 2 3\n1 2 1\n2 1 1\n",
            4,
            "declares 3",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 1\n2 1 1\n",
            4,
            "more entries",
        ),
        (
            "%%MatrixMarket matrix coordinate integer general\n2 2 1\n1 2 1.5\n",
            3,
            "not an integer",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 2 x\n",
            2,
            "entry count",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n0 0 0\n",
            2,
            "no rows",
        ),
        (
            "%%MatrixMarket matrix coordinate real general\n2 2 9\n",
            2,
            "exceeds",
        ),
    ];
    let d = tempfile::tempdir().unwrap();
    for (k, (text, line, needle)) in cases.iter().enumerate() {
        let p = write(d.path(), &format!("bad{k}.mtx"), text);
        match read_matrix_market(&p) {
            Err(Error::Parse { path, line: l, msg }) => {
                assert_eq!(path, p, "case {k}");
                assert_eq!(l, *line, "case {k}: {msg}");
                assert!(msg.contains(needle), "case {k}: '{msg}' lacks '{needle}'");
            }
            other => panic!("case {k} ({text:?}) gave {other:?}"),
        }
    }
}

/// A header may claim an absurd entry count: nothing is allocated from it,
/// and the short data are reported.
#[test]
fn huge_claimed_count_fails_fast() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "huge.mtx",
        "%%MatrixMarket matrix coordinate real general\n1000000000 1000000000 1000000000000\n1 2 1\n",
    );
    match read_matrix_market(&p) {
        Err(Error::Parse { line, msg, .. }) => {
            assert_eq!(line, 3);
            assert!(msg.contains("after 1 entries"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn binary_garbage_and_corrupt_gzip_are_errors() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("bin.mtx");
    std::fs::write(&p, [0xffu8, 0xfe, 0x00, 0x12, 0x80, 0x0a]).unwrap();
    assert!(matches!(read_matrix_market(&p), Err(Error::Parse { .. })));
    let p = d.path().join("bad.mtx.gz");
    std::fs::write(&p, [0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7]).unwrap();
    assert!(matches!(read_matrix_market(&p), Err(Error::Parse { .. })));
    let p = d.path().join("missing.mtx");
    assert!(matches!(read_matrix_market(&p), Err(Error::Io { .. })));
}

#[test]
fn overlong_line_is_rejected() {
    let d = tempfile::tempdir().unwrap();
    let mut text = String::from("%%MatrixMarket matrix coordinate real general\n% ");
    text.push_str(&"x".repeat(3 << 20));
    let p = write(d.path(), "long.mtx", &text);
    match read_matrix_market(&p) {
        Err(Error::Parse { line, msg, .. }) => {
            assert_eq!(line, 2);
            assert!(msg.contains("longer"), "{msg}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn write_then_read_round_trips() {
    let coo = sgtsne::graph::Coo {
        n: 3,
        rows: vec![0, 2, 1],
        cols: vec![1, 0, 2],
        vals: vec![0.1, 1.0 / 3.0, 7e-300],
    };
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("rt.mtx");
    let mut f = std::fs::File::create(&p).unwrap();
    sgtsne::io::mtx::write_matrix_market(&mut f, &coo).unwrap();
    drop(f);
    let back = read_matrix_market(&p).unwrap();
    assert_eq!(triplets(&back), triplets(&coo));
}
