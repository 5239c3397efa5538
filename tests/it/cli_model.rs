//! `--save`, `sgtsne resume` and `sgtsne transform` as a user runs them.

use crate::common;

use std::path::Path;

use common::{read_embedding, run};

fn write_points(path: &Path, n: usize, d: usize, seed: u64) {
    let mut rng = sgtsne::util::Rng::new(seed);
    let mut s = String::new();
    for i in 0..n {
        let row: Vec<String> = (0..d)
            .map(|a| {
                format!(
                    "{}",
                    8.0 * ((i % 3) * (a == 0) as usize) as f64 + rng.normal()
                )
            })
            .collect();
        s.push_str(&row.join(" "));
        s.push('\n');
    }
    std::fs::write(path, s).unwrap();
}

fn ok(o: &std::process::Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// 60 iterations, saved, then 90 resumed: the same bytes as 150 in one run.
#[test]
fn resume_continues_a_saved_run_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    common::write_mtx(&d.join("g.mtx"), &common::random_coo(1500, 3, 8, 2));
    for dim in ["1", "3"] {
        ok(&run(
            &[
                "g.mtx", "-d", dim, "-m", "60", "--save", "m.npz", "-o", "a.txt", "-q",
            ],
            d,
        ));
        ok(&run(
            &[
                "resume", "m.npz", "-m", "90", "-o", "b.txt", "--save", "m2.npz", "-q",
            ],
            d,
        ));
        ok(&run(
            &["g.mtx", "-d", dim, "-m", "150", "-o", "c.txt", "-q"],
            d,
        ));
        let b = std::fs::read(d.join("b.txt")).unwrap();
        assert_eq!(b, std::fs::read(d.join("c.txt")).unwrap(), "dim {dim}");
        assert!(d.join("m2.npz").exists());
    }
}

/// `resume -o FILE --save MODEL` writes both or neither: a model that
/// cannot be written (here /dev/full, written through as a device) leaves
/// no embedding behind either.
#[test]
fn resume_writes_both_outputs_or_neither() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    common::write_mtx(&d.join("g.mtx"), &common::random_coo(300, 3, 8, 2));
    ok(&run(
        &["g.mtx", "-m", "10", "--save", "m.npz", "-o", "a.txt", "-q"],
        d,
    ));
    let o = run(
        &[
            "resume",
            "m.npz",
            "-m",
            "5",
            "-o",
            "b.txt",
            "--save",
            "/dev/full",
            "-q",
        ],
        d,
    );
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/dev/full"), "{err}");
    assert!(!d.join("b.txt").exists(), "the embedding was written alone");
    assert_eq!(common::names(d), ["a.txt", "g.mtx", "m.npz"]);
}

/// Points in, a model out, new points placed: one row per new point, and
/// the same rows whether placed alone or in a larger batch.
#[test]
fn transform_places_new_points_from_a_saved_model() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_points(&d.join("train.txt"), 400, 6, 1);
    write_points(&d.join("new.txt"), 40, 6, 2);
    let head: String = std::fs::read_to_string(d.join("new.txt"))
        .unwrap()
        .lines()
        .take(10)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(d.join("new10.txt"), head).unwrap();
    ok(&run(
        &[
            "train.txt",
            "--perplexity",
            "10",
            "--save",
            "m.npz",
            "-o",
            "t.txt",
            "-q",
        ],
        d,
    ));
    ok(&run(
        &["transform", "m.npz", "new.txt", "-o", "p.txt", "-q"],
        d,
    ));
    ok(&run(
        &["transform", "m.npz", "new10.txt", "-o", "p10.txt", "-q"],
        d,
    ));
    let all = read_embedding(&d.join("p.txt"));
    let ten = read_embedding(&d.join("p10.txt"));
    assert_eq!(all.len(), 40);
    assert!(all
        .iter()
        .all(|r| r.len() == 2 && r.iter().all(|v| v.is_finite())));
    assert_eq!(&all[..10], &ten[..]);
    // 40 new points: auto searched exactly; the graph walk is asked for,
    // and finds the same neighbours on this small, clustered model.
    for (knn, out) in [("exact", "pe.txt"), ("approx", "pa.txt")] {
        ok(&run(
            &[
                "transform",
                "m.npz",
                "new.txt",
                "--knn",
                knn,
                "-o",
                out,
                "-q",
            ],
            d,
        ));
        assert_eq!(read_embedding(&d.join(out)), all, "--knn {knn}");
    }
}

/// Wrong kinds, corrupt models and bad new points: exit 2, a message
/// naming the file, no output.
#[test]
fn transform_and_resume_refuse_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_points(&d.join("train.txt"), 300, 4, 1);
    write_points(&d.join("wide.txt"), 5, 7, 1);
    std::fs::write(d.join("nan.txt"), "1 2 3 4\n1 nan 3 4\n").unwrap();
    std::fs::write(
        d.join("edges.mtx"),
        "%%MatrixMarket matrix coordinate real general\n300 1 1\n1 1 1.0\n",
    )
    .unwrap();
    ok(&run(
        &[
            "train.txt",
            "--perplexity",
            "10",
            "-m",
            "50",
            "--save",
            "m.npz",
            "-q",
        ],
        d,
    ));
    let bytes = std::fs::read(d.join("m.npz")).unwrap();
    std::fs::write(d.join("short.npz"), &bytes[..bytes.len() / 2]).unwrap();
    let at = |name: &[u8]| bytes.windows(name.len()).position(|w| w == name).unwrap() + 200;
    let mut flipped = bytes.clone();
    flipped[at(b"coords.npy")] ^= 1;
    std::fs::write(d.join("flipped.npz"), flipped).unwrap();
    let mut flipped_p = bytes.clone();
    flipped_p[at(b"p_colidx.npy")] ^= 1;
    std::fs::write(d.join("flipped-p.npz"), flipped_p).unwrap();
    std::fs::write(d.join("foreign.npz"), b"just some text").unwrap();
    let cases: [(&[&str], &str); 10] = [
        (&["transform", "m.npz", "edges.mtx"], "fitted on points"),
        (&["transform", "m.npz", "wide.txt"], "7 dimensions"),
        (&["transform", "m.npz", "nan.txt"], "nan.txt:2"),
        (&["transform", "short.npz", "train.txt"], "short.npz"),
        (&["transform", "flipped.npz", "train.txt"], "flipped.npz"),
        (&["transform", "foreign.npz", "train.txt"], "foreign.npz"),
        (&["resume", "short.npz"], "short.npz"),
        (&["resume", "flipped-p.npz"], "flipped-p.npz"),
        (
            &["transform", "m.npz", "train.txt", "--knn", "annoy"],
            "--knn",
        ),
        (&["transform", "m.npz", "train.txt", "--eta", "-1"], "--eta"),
    ];
    for (args, needle) in cases {
        let mut a = args.to_vec();
        a.extend(["-o", "out.txt"]);
        let o = run(&a, d);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: '{err}' lacks '{needle}'");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!d.join("out.txt").exists(), "{args:?} left an output");
    }
}
