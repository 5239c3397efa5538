//! Point readers: .npy, delimited text, bh_tsne's data.dat.

use std::path::Path;

use sgtsne::io::bhtsne::read_data_dat;
use sgtsne::io::points::{read_npy, read_text, write_npy, InputFormat};
use sgtsne::points::Points;
use sgtsne::util::Rng;

fn pts(n: usize, d: usize, seed: u64) -> Points {
    let mut rng = Rng::new(seed);
    Points::try_new(n, d, (0..n * d).map(|_| rng.normal() * 3.0).collect()).unwrap()
}

fn npy_bytes(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
        if fortran { "True" } else { "False" }
    );
    let pad = (64 - (10 + dict.len() + 1) % 64) % 64;
    let mut v = b"\x93NUMPY\x01\x00".to_vec();
    v.extend(((dict.len() + pad + 1) as u16).to_le_bytes());
    v.extend(dict.as_bytes());
    v.extend(vec![b' '; pad]);
    v.push(b'\n');
    v.extend(data);
    v
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn err(r: sgtsne::Result<Points>) -> String {
    format!("{}", r.expect_err("expected an error"))
}

#[test]
fn npy_round_trip_and_variants() {
    let dir = tempfile::tempdir().unwrap();
    let p = pts(37, 5, 1);
    let mut buf = Vec::new();
    write_npy(&mut buf, &p).unwrap();
    assert_eq!(read_npy(&write(dir.path(), "a.npy", &buf)).unwrap(), p);

    // f32, Fortran order: element (i, j) at j * n + i.
    let (n, d) = (4, 3);
    let mut raw = Vec::new();
    for j in 0..d {
        for i in 0..n {
            raw.extend(((10 * i + j) as f32).to_le_bytes());
        }
    }
    let q = read_npy(&write(
        dir.path(),
        "f.npy",
        &npy_bytes("<f4", true, "(4, 3)", &raw),
    ))
    .unwrap();
    for i in 0..n {
        for j in 0..d {
            assert_eq!(q.row(i)[j], (10 * i + j) as f64);
        }
    }
    // Big-endian f64 and uint8, 1-D shape.
    let be: Vec<u8> = [1.5f64, -2.0, 7.25]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let q = read_npy(&write(
        dir.path(),
        "b.npy",
        &npy_bytes(">f8", false, "(3,)", &be),
    ))
    .unwrap();
    assert_eq!(q.as_slice(), &[1.5, -2.0, 7.25]);
    let q = read_npy(&write(
        dir.path(),
        "u.npy",
        &npy_bytes("|u1", false, "(2, 2)", &[0, 255, 3, 4]),
    ))
    .unwrap();
    assert_eq!(q.as_slice(), &[0.0, 255.0, 3.0, 4.0]);
}

#[test]
fn npy_rejects_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let d8: Vec<u8> = (0..6).flat_map(|i| (i as f64).to_le_bytes()).collect();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "truncated",
            npy_bytes("<f8", false, "(2, 3)", &d8[..40]),
            "truncated",
        ),
        (
            "lying",
            npy_bytes("<f8", false, "(1000000000000, 3)", &d8),
            "needs",
        ),
        ("3d", npy_bytes("<f8", false, "(1, 2, 3)", &d8), "shape"),
        (
            "complex",
            npy_bytes("<c16", false, "(3,)", &d8),
            "unsupported",
        ),
        ("magic", b"\x93NUMPX\x01\x00\x00\x00".to_vec(), "magic"),
        ("short", b"\x93NU".to_vec(), "ends inside"),
        ("empty", npy_bytes("<f8", false, "(0, 3)", &[]), "empty"),
        (
            "nan",
            npy_bytes(
                "<f8",
                false,
                "(1, 2)",
                &[1.0f64, f64::NAN]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect::<Vec<_>>(),
            ),
            "coordinate 2",
        ),
    ];
    for (name, bytes, want) in cases {
        let path = write(dir.path(), &format!("{name}.npy"), &bytes);
        let e = err(read_npy(&path));
        assert!(e.contains(want), "{name}: '{e}' does not mention '{want}'");
        assert!(
            e.contains(&format!("{name}.npy")),
            "{name}: '{e}' does not name the file"
        );
    }
}

#[test]
fn text_points_csv_tsv_whitespace() {
    let dir = tempfile::tempdir().unwrap();
    let a = read_text(&write(dir.path(), "a.csv", b"x,y,z\n1,2,3\n4,5,6\n")).unwrap();
    let b = read_text(&write(
        dir.path(),
        "b.tsv",
        b"# comment\n1\t2\t3\n\n4\t5\t6\n",
    ))
    .unwrap();
    let c = read_text(&write(dir.path(), "c.txt", b"1 2 3\r\n4  5 6\r\n")).unwrap();
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!((a.n(), a.d()), (2, 3));

    let e = err(read_text(&write(dir.path(), "ragged.csv", b"1,2,3\n4,5\n")));
    assert!(e.contains("ragged.csv:2:"), "{e}");
    let e = err(read_text(&write(dir.path(), "bad.csv", b"1,2\n3,abc\n")));
    assert!(e.contains("bad.csv:2:") && e.contains("abc"), "{e}");
    let e = err(read_text(&write(dir.path(), "nan.csv", b"1,2\n3,nan\n")));
    assert!(e.contains("nan.csv:2:") && e.contains("not finite"), "{e}");
    let e = err(read_text(&write(dir.path(), "none.csv", b"# nothing\n")));
    assert!(e.contains("no data"), "{e}");
}

#[test]
fn text_points_one_separator_no_empty_fields() {
    let dir = tempfile::tempdir().unwrap();
    let want = read_text(&write(dir.path(), "w.txt", b"1 2.5 3\n4 5 6\n")).unwrap();
    // Spaces around separators, a BOM, a Latin-1 comment, CR-only and
    // CRLF line ends, a header: all the same two points.
    for (name, bytes) in [
        ("sp.csv", &b"1 , 2.5,3\n4,5 ,6\n"[..]),
        ("semi.csv", b"1;2.5;3\n4;5;6\n"),
        ("tab.tsv", b"1\t2.5 \t3\n4\t5\t6\n"),
        ("bom.csv", b"\xEF\xBB\xBF1,2.5,3\n4,5,6\n"),
        ("bomh.csv", b"\xEF\xBB\xBFx,y,z\n1,2.5,3\n4,5,6\n"),
        ("latin1.txt", b"# caf\xE9 au lait\n1 2.5 3\n4 5 6\n"),
        ("cr.txt", b"1 2.5 3\r4 5 6\r"),
        ("crlf.txt", b"# x\r\n1 2.5 3\r\n\r\n4 5 6\r\n"),
    ] {
        let got = read_text(&write(dir.path(), name, bytes));
        assert_eq!(got.as_ref().ok(), Some(&want), "{name}: {got:?}");
    }
    for (name, bytes, line, what) in [
        (
            "dec.csv",
            &b"1,5;2,25\n3,5;4,5\n"[..],
            ":1:",
            "decimal commas",
        ),
        ("dec2.csv", b"1;2\n3,5;4\n", ":2:", "decimal commas"),
        ("mixed.txt", b"1 2\n3,4\n", ":2:", "one separator"),
        ("empty.csv", b"1,,3\n4,5,6\n", ":1:", "field 2 is empty"),
        ("empty2.csv", b"1,2,3\n4,,6\n", ":2:", "field 2 is empty"),
        ("trail.csv", b"1,2,3,\n4,5,6,\n", ":1:", "trailing ','"),
        ("tabs.tsv", b"1\t2\t3\n4\t\t6\n", ":2:", "field 2 is empty"),
        ("binary.txt", b"1 2\n3 \xE9\n", ":2:", "not valid text"),
    ] {
        let e = err(read_text(&write(dir.path(), name, bytes)));
        assert!(
            e.contains(&format!("{name}{line}")) && e.contains(what),
            "{name}: {e}"
        );
    }
    // An error quotes a bounded piece of a long field, never the line.
    let long = format!("1 2\n3 x{}\n", "y".repeat(100_000));
    let e = err(read_text(&write(dir.path(), "long.txt", long.as_bytes())));
    assert!(
        e.contains("long.txt:2:") && e.len() < 300,
        "{} bytes",
        e.len()
    );
}

#[test]
fn input_format_by_name_then_content() {
    let dir = tempfile::tempdir().unwrap();
    let f = |name: &str, bytes: &[u8]| InputFormat::detect(&write(dir.path(), name, bytes));
    assert_eq!(f("g.mtx.gz", b"").unwrap(), InputFormat::Mtx);
    assert_eq!(f("p.NPY", b"").unwrap(), InputFormat::Npy);
    assert_eq!(f("p.csv", b"").unwrap(), InputFormat::Text);
    assert_eq!(f("data.dat", b"").unwrap(), InputFormat::BhTsne);
    assert_eq!(
        f("graph", b"%%MatrixMarket matrix coordinate real general\n").unwrap(),
        InputFormat::Mtx
    );
    assert_eq!(f("points", b"\x93NUMPY\x01\x00").unwrap(), InputFormat::Npy);
    assert!(f("mystery", b"hello").is_err());
}

#[allow(clippy::too_many_arguments)]
fn data_dat(
    n: i32,
    d: i32,
    theta: f64,
    perp: f64,
    dims: i32,
    iters: i32,
    x: &[f64],
    seed: Option<i32>,
) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(n.to_le_bytes());
    v.extend(d.to_le_bytes());
    v.extend(theta.to_le_bytes());
    v.extend(perp.to_le_bytes());
    v.extend(dims.to_le_bytes());
    v.extend(iters.to_le_bytes());
    for x in x {
        v.extend(x.to_le_bytes());
    }
    if let Some(s) = seed {
        v.extend(s.to_le_bytes());
    }
    v
}

#[test]
fn data_dat_reads_and_rejects() {
    let dir = tempfile::tempdir().unwrap();
    let p = pts(10, 3, 4);
    let job = read_data_dat(&write(
        dir.path(),
        "a.dat",
        &data_dat(10, 3, 0.5, 5.0, 2, 300, p.as_slice(), Some(7)),
    ))
    .unwrap();
    assert_eq!(job.points, p);
    assert_eq!(
        (
            job.theta,
            job.perplexity,
            job.no_dims,
            job.max_iter,
            job.seed
        ),
        (0.5, 5.0, 2, 300, Some(7))
    );
    let job = read_data_dat(&write(
        dir.path(),
        "b.dat",
        &data_dat(10, 3, 0.0, 5.0, 3, 10, p.as_slice(), Some(-1)),
    ))
    .unwrap();
    assert_eq!(job.seed, None);
    let job = read_data_dat(&write(
        dir.path(),
        "c.dat",
        &data_dat(10, 3, 0.0, 5.0, 1, 10, p.as_slice(), None),
    ))
    .unwrap();
    assert_eq!(job.seed, None);

    let mut trunc = data_dat(10, 3, 0.5, 5.0, 2, 300, p.as_slice(), None);
    trunc.truncate(100);
    let mut nan = p.as_slice().to_vec();
    nan[4] = f64::NAN;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("trunc", trunc, "truncated"),
        ("short", vec![1, 2, 3], "shorter"),
        (
            "dims",
            data_dat(10, 3, 0.5, 5.0, 4, 300, p.as_slice(), None),
            "no_dims",
        ),
        (
            "neg",
            data_dat(-10, 3, 0.5, 5.0, 2, 300, &[], None),
            "positive",
        ),
        (
            "big",
            data_dat(i32::MAX, i32::MAX, 0.5, 5.0, 2, 300, p.as_slice(), None),
            "truncated",
        ),
        (
            "perp",
            data_dat(10, 3, 0.5, -5.0, 2, 300, p.as_slice(), None),
            "perplexity",
        ),
        (
            "nan",
            data_dat(10, 3, 0.5, 5.0, 2, 300, &nan, None),
            "point 2 coordinate 2",
        ),
        (
            "extra",
            {
                let mut v = data_dat(10, 3, 0.5, 5.0, 2, 300, p.as_slice(), Some(1));
                v.push(0);
                v
            },
            "inconsistent",
        ),
    ];
    for (name, bytes, want) in cases {
        let path = write(dir.path(), &format!("{name}.dat"), &bytes);
        let e = format!("{}", read_data_dat(&path).expect_err(name));
        assert!(e.contains(want), "{name}: '{e}' does not mention '{want}'");
        assert!(e.contains(&format!("{name}.dat")), "{name}: '{e}'");
    }
}
