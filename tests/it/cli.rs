//! The binary as a process: real files in temp dirs, exit codes, output bytes.

use crate::common;

use std::path::Path;

use common::{read_embedding, run};

use common::example;

fn small_graph(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("g.mtx");
    common::write_mtx(&p, &common::random_coo(300, 2, 8, 42));
    p
}

#[test]
fn embeds_in_1d_2d_3d_with_finite_rows() {
    let d = tempfile::tempdir().unwrap();
    let g = example();
    for dim in ["1", "2", "3"] {
        let out = d.path().join(format!("e{dim}.txt"));
        let o = run(
            &[
                g.to_str().unwrap(),
                "--dim",
                dim,
                "--max-iter",
                "120",
                "-o",
                out.to_str().unwrap(),
            ],
            d.path(),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let rows = read_embedding(&out);
        assert_eq!(rows.len(), 2000);
        assert!(rows
            .iter()
            .all(|r| r.len() == dim.parse::<usize>().unwrap() && r.iter().all(|v| v.is_finite())));
        let err = String::from_utf8_lossy(&o.stderr);
        let last = err.lines().last().unwrap();
        assert!(
            last.starts_with("time: total ") && last.contains(", final KL "),
            "{last}"
        );
        assert!(err.contains("iteration     1: KL"), "{err}");
    }
}

#[test]
fn same_seed_same_bytes_for_any_thread_count() {
    let d = tempfile::tempdir().unwrap();
    let g = example();
    let mut outs = Vec::new();
    for (k, threads) in ["1", "2", "3", "2"].iter().enumerate() {
        let out = d.path().join(format!("o{k}.txt"));
        let o = run(
            &[
                g.to_str().unwrap(),
                "--dim",
                "2",
                "--max-iter",
                "80",
                "--repulsion",
                "grid",
                "--seed",
                "7",
                "-p",
                threads,
                "-o",
                out.to_str().unwrap(),
                "-q",
            ],
            d.path(),
        );
        assert!(o.status.success());
        assert!(o.stderr.is_empty(), "--quiet prints nothing");
        outs.push(std::fs::read(&out).unwrap());
    }
    assert!(outs.iter().all(|o| o == &outs[0]));
    let out = d.path().join("other.txt");
    run(
        &[
            g.to_str().unwrap(),
            "--max-iter",
            "80",
            "--repulsion",
            "grid",
            "--seed",
            "8",
            "-o",
            out.to_str().unwrap(),
        ],
        d.path(),
    );
    assert_ne!(
        std::fs::read(&out).unwrap(),
        outs[0],
        "another seed gives another embedding"
    );
}

#[test]
fn bits_do_not_depend_on_threads_in_every_dimension() {
    let d = tempfile::tempdir().unwrap();
    let g = small_graph(d.path());
    for dim in ["1", "3"] {
        for rep in ["exact", "grid"] {
            let mut outs = Vec::new();
            for threads in ["1", "3"] {
                let out = d.path().join(format!("t{dim}{rep}{threads}.txt"));
                let o = run(
                    &[
                        g.to_str().unwrap(),
                        "-d",
                        dim,
                        "-m",
                        "60",
                        "--repulsion",
                        rep,
                        "-p",
                        threads,
                        "-o",
                        out.to_str().unwrap(),
                    ],
                    d.path(),
                );
                assert!(o.status.success());
                outs.push(std::fs::read(&out).unwrap());
            }
            assert_eq!(outs[0], outs[1], "d={dim} {rep}");
        }
    }
}

#[test]
fn output_numbers_read_back_exactly_and_formats_follow_the_extension() {
    let d = tempfile::tempdir().unwrap();
    let g = small_graph(d.path());
    let txt = d.path().join("e.txt");
    let npy = d.path().join("e.npy");
    let csv = d.path().join("e.csv");
    let bin = d.path().join("e.bin");
    for out in [&txt, &npy, &csv, &bin] {
        let o = run(
            &[g.to_str().unwrap(), "-m", "50", "-o", out.to_str().unwrap()],
            d.path(),
        );
        assert!(o.status.success());
    }
    let rows = read_embedding(&txt);
    let raw = std::fs::read(&bin).unwrap();
    let vals: Vec<f64> = raw
        .chunks(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let flat: Vec<f64> = rows.iter().flatten().copied().collect();
    assert_eq!(vals, flat, "text numbers must parse back to the exact f64");
    let npy_bytes = std::fs::read(&npy).unwrap();
    assert_eq!(&npy_bytes[..6], b"\x93NUMPY");
    let hlen = u16::from_le_bytes([npy_bytes[8], npy_bytes[9]]) as usize;
    let header = std::str::from_utf8(&npy_bytes[10..10 + hlen]).unwrap();
    assert!(
        header.contains("'shape': (300, 2)") && header.contains("'<f8'"),
        "{header}"
    );
    assert_eq!((10 + hlen) % 64, 0);
    assert_eq!(&npy_bytes[10 + hlen..], &raw[..]);
    let csv_text = std::fs::read_to_string(&csv).unwrap();
    let first: Vec<f64> = csv_text
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(|t| t.parse().unwrap())
        .collect();
    assert_eq!(first, rows[0]);
}

#[test]
fn stdout_output_and_init_lands_on_the_right_vertices() {
    let d = tempfile::tempdir().unwrap();
    let g = small_graph(d.path());
    // Distinct coordinates per vertex; with 0 iterations and METIS reordering
    // inside, the output must be the input, row for row.
    let init = d.path().join("init.txt");
    let text: String = (0..300)
        .map(|i| format!("{} {}\n", i as f64 * 0.5, -(i as f64) * 0.25))
        .collect();
    std::fs::write(&init, &text).unwrap();
    for order in ["auto", "metis", "rcm", "none"] {
        let o = run(
            &[
                g.to_str().unwrap(),
                "--init",
                init.to_str().unwrap(),
                "--max-iter",
                "0",
                "--order",
                order,
                "-o",
                "-",
            ],
            d.path(),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let rows: Vec<Vec<f64>> = String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(|l| l.split_whitespace().map(|t| t.parse().unwrap()).collect())
            .collect();
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(
                r,
                &vec![i as f64 * 0.5, -(i as f64) * 0.25],
                "order {order}, vertex {i}"
            );
        }
    }
}

/// The library checks the settings and names its parameters; the command
/// line names them as its flags, before reading the input.
#[test]
fn library_errors_are_reported_with_flag_names() {
    let d = tempfile::tempdir().unwrap();
    let g = small_graph(d.path());
    let gs = g.to_str().unwrap();
    let cases: [(&[&str], &str); 11] = [
        (
            &[gs, "--momentum", "1"],
            "invalid --momentum: must be in [0, 1), got 1",
        ),
        (
            &[gs, "--final-momentum", "-0.1"],
            "invalid --final-momentum: must be in [0, 1)",
        ),
        (
            &[gs, "--grid-h", "20"],
            "invalid --grid-h: must be in (0, 10], got 20",
        ),
        (&[gs, "--init", "pca"], "--init pca needs point coordinates"),
        (
            &[gs, "--dof", "0"],
            "invalid --dof: must be a positive number",
        ),
        (
            &[gs, "--exaggeration", "-1"],
            "invalid --exaggeration: must be a positive number",
        ),
        (&[gs, "--late-start", "5"], "--late-exaggeration"),
        (
            &[gs, "--max-iter", "20000000"],
            "invalid --max-iter: must be at most",
        ),
        (
            &[gs, "--alpha", "-3"],
            "invalid --alpha: must be a positive number",
        ),
        (
            &["missing.mtx", "--lambda", "0"],
            "invalid --lambda: must be a positive",
        ),
        (&[gs, "--eta", "1e300", "--max-step", "0"], "(see --eta)"),
    ];
    for (args, needle) in cases {
        let out = d.path().join("out.txt");
        let mut a = args.to_vec();
        a.extend(["-o", out.to_str().unwrap()]);
        let o = run(&a, d.path());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: '{err}' lacks '{needle}'");
        assert!(!out.exists(), "{args:?} left an output");
    }
}

/// --momentum and --final-momentum reach the run: the report records
/// them and each changes the result.
#[test]
fn momentum_flags_reach_the_run() {
    let d = tempfile::tempdir().unwrap();
    let g = small_graph(d.path());
    let gs = g.to_str().unwrap();
    let mut outputs = Vec::new();
    for (i, flags) in [
        &[][..],
        &["--momentum", "0.8"][..],
        &["--final-momentum", "0.6"][..],
    ]
    .into_iter()
    .enumerate()
    {
        let (out, rep) = (format!("y{i}.txt"), format!("r{i}.json"));
        let mut a = vec![gs, "--max-iter", "60", "--early-iter", "20", "-q"];
        a.extend(["-o", &out, "--report", &rep]);
        a.extend(flags);
        let o = run(&a, d.path());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.path().join(&rep)).unwrap()).unwrap();
        let want = |flag: &str, default: f64| {
            flags
                .iter()
                .position(|f| *f == flag)
                .map_or(default, |p| flags[p + 1].parse().unwrap())
        };
        let params = &r["parameters"];
        assert_eq!(
            params["momentum"],
            want("--momentum", sgtsne::defaults::MOMENTUM)
        );
        assert_eq!(
            params["final_momentum"],
            want("--final-momentum", sgtsne::defaults::FINAL_MOMENTUM)
        );
        outputs.push(std::fs::read(d.path().join(&out)).unwrap());
    }
    assert!(outputs[0] != outputs[1], "--momentum changed nothing");
    assert!(outputs[0] != outputs[2], "--final-momentum changed nothing");
}

/// Each bad input: exit code 2, one message naming the problem, no output file.
#[test]
fn bad_inputs_exit_2_with_a_message_and_no_output() {
    let d = tempfile::tempdir().unwrap();
    let g = small_graph(d.path());
    let gs = g.to_str().unwrap();
    let bad_mtx = d.path().join("bad.mtx");
    std::fs::write(
        &bad_mtx,
        "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 2 0.5\n4 1 1\n",
    )
    .unwrap();
    let short_init = d.path().join("short.txt");
    std::fs::write(&short_init, "1 2\n3 4\n").unwrap();
    let bad_init = d.path().join("badinit.txt");
    std::fs::write(&bad_init, "1 2\n3 x\n").unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["missing.mtx"], "missing.mtx"),
        (
            vec![bad_mtx.to_str().unwrap()],
            "bad.mtx:4: row index 4 out of range",
        ),
        (vec![gs, "--dim", "4"], "--dim"),
        (vec![gs, "--lambda", "-1"], "--lambda"),
        (vec![gs, "--lambda", "nan"], "--lambda"),
        (vec![gs, "--eta", "0"], "--eta"),
        (vec![gs, "--alpha", "abc"], "--alpha"),
        (vec![gs, "--repulsion", "fast"], "--repulsion"),
        (
            vec![gs, "--init", short_init.to_str().unwrap()],
            "2 rows, but the graph has 300",
        ),
        (
            vec![gs, "--init", bad_init.to_str().unwrap()],
            "badinit.txt:2: 'x' is not a number",
        ),
        (
            vec![gs, "-o", "/nonexistent-dir/out.txt"],
            "/nonexistent-dir/out.txt",
        ),
    ];
    for (k, (args, needle)) in cases.iter().enumerate() {
        let out = d.path().join(format!("out{k}.txt"));
        let mut a = args.clone();
        if !a.contains(&"-o") {
            a.extend(["-o", out.to_str().unwrap()]);
        }
        let o = run(&a, d.path());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "case {k} {args:?}: {err}");
        assert!(err.contains(needle), "case {k}: '{err}' lacks '{needle}'");
        assert!(!err.contains("panicked"), "case {k}: {err}");
        assert!(!out.exists(), "case {k} left an output file");
    }
    // Nothing but the inputs is left in the directory (no temp files).
    let names: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
}

#[test]
fn help_teaches_and_version_prints() {
    let d = tempfile::tempdir().unwrap();
    let o = run(&["--help"], d.path());
    assert!(o.status.success());
    let h = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--dim",
        "--lambda",
        "--eta",
        "--seed",
        "--init",
        "--threads",
        "--output",
        "--repulsion",
        "--grid-h",
        "--order",
        "Examples:",
    ] {
        assert!(h.contains(flag), "--help lacks {flag}");
    }
    let o = run(&["--version"], d.path());
    assert!(String::from_utf8_lossy(&o.stdout).contains(env!("CARGO_PKG_VERSION")));
}

/// The real single-cell graph in 2D with default settings (skipped, with a
/// message, when ../shared is not beside the clone; a failure in CI).
#[test]
fn pbmc_graph_embeds() {
    let Some(g) = common::pbmc_graph() else {
        common::cannot_run(
            "pbmc_graph_embeds",
            "../shared/data/sgtsnepi/pbmc-graph.tar.gz not found",
        );
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("pbmc.txt");
    let o = run(
        &[
            g.to_str().unwrap(),
            "--max-iter",
            "300",
            "-o",
            out.to_str().unwrap(),
        ],
        d.path(),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("8381 vertices"), "{err}");
    let rows = read_embedding(&out);
    assert_eq!(rows.len(), 8381);
    let kl: f64 = err
        .lines()
        .last()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(kl.is_finite() && kl > 0.0 && kl < 4.0, "final KL {kl}");
}

/// Runs the binary in `dir` under a shell's address-space limit (KiB).
fn run_limited(args: &[&str], dir: &Path, kib: u64) -> std::process::Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
        .arg(common::bin())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run sgtsne under sh")
}

/// A start spanning ±10,000 once needed a 5 GB grid; the grid cap keeps
/// the whole run small, and the coarsening is said once. Under `auto` in
/// 2D the exact sum of 1,001 points is far cheaper than the capped grid:
/// it is taken instead, and that is said once.
#[test]
fn a_wide_start_stays_within_memory_and_is_said_once() {
    let d = tempfile::tempdir().unwrap();
    let n = 1001u32;
    common::write_ring(&d.path().join("ring.mtx"), n);
    for (dim, repulsion) in [("2", "grid"), ("3", "grid"), ("2", "auto")] {
        let init: String = (0..n)
            .map(|i| {
                let t = i as f64 / n as f64 * std::f64::consts::TAU;
                let row = [1e4 * t.cos(), 1e4 * t.sin(), 1e4 * (2.0 * t).sin()];
                let k = dim.parse::<usize>().unwrap();
                row[..k].iter().map(|v| format!("{v} ")).collect::<String>() + "\n"
            })
            .collect();
        std::fs::write(d.path().join("init.txt"), init).unwrap();
        let o = run_limited(
            &[
                "ring.mtx",
                "--dim",
                dim,
                "--init",
                "init.txt",
                "-m",
                "5",
                "-e",
                "2",
                "--repulsion",
                repulsion,
                "--report",
                "r.json",
                "-o",
                "out.txt",
            ],
            d.path(),
            1_500_000,
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "dim {dim}: {err}");
        let grid = repulsion == "grid";
        let count = |s: &str| err.matches(s).count();
        assert_eq!(
            count("the spacing now grows"),
            grid as usize,
            "dim {dim} {repulsion}: {err}"
        );
        assert_eq!(
            count("the exact sum of all pairs is cheaper"),
            !grid as usize,
            "dim {dim} {repulsion}: {err}"
        );
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.path().join("r.json")).unwrap())
                .unwrap();
        assert_eq!(r["parameters"]["repulsion"], "grid");
        assert_eq!(r["parameters"]["exact_when_cheaper"], !grid);
        assert_eq!(r["grid"].is_null(), !grid, "{}", r["grid"]);
        let rows = read_embedding(&d.path().join("out.txt"));
        assert!(rows.iter().flatten().all(|v| v.is_finite()));
    }
}

/// A --max-memory too small for the requested cap lowers the cap rather
/// than refusing, and says so; the run stays under that limit.
#[test]
fn max_memory_lowers_the_grid_cap() {
    let d = tempfile::tempdir().unwrap();
    let g = example();
    let o = run_limited(
        &[
            g.to_str().unwrap(),
            "--dim",
            "3",
            "-m",
            "50",
            "--grid-max",
            "160",
            "--max-memory",
            "150MB",
            "-o",
            "o.txt",
        ],
        d.path(),
        600_000,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("--max-memory holds a repulsion grid of at most"),
        "{err}"
    );
    let free = run(
        &[
            g.to_str().unwrap(),
            "--dim",
            "3",
            "-m",
            "50",
            "--grid-max",
            "160",
            "-o",
            "p.txt",
        ],
        d.path(),
    );
    assert!(free.status.success());
    assert!(!String::from_utf8_lossy(&free.stderr).contains("holds a repulsion grid"));
}

/// An absurd thread count is capped (with a note), not spent creating
/// threads, and the result is the one any count gives.
#[test]
fn thread_count_is_capped() {
    let d = tempfile::tempdir().unwrap();
    let g = example();
    let g = g.to_str().unwrap();
    let many = run(&[g, "-m", "20", "-p", "100000", "-o", "a.txt"], d.path());
    let err = String::from_utf8_lossy(&many.stderr);
    assert!(many.status.success(), "{err}");
    assert!(
        err.contains("--threads 100000 is more than 4 per core"),
        "{err}"
    );
    let one = run(&[g, "-m", "20", "-p", "1", "-o", "b.txt", "-q"], d.path());
    assert!(one.status.success());
    let quiet = run(
        &[g, "-m", "20", "-p", "100000", "-o", "c.txt", "-q"],
        d.path(),
    );
    assert!(quiet.stderr.is_empty());
    let a = std::fs::read(d.path().join("a.txt")).unwrap();
    assert_eq!(a, std::fs::read(d.path().join("b.txt")).unwrap());
    assert_eq!(a, std::fs::read(d.path().join("c.txt")).unwrap());
}

/// A Matrix Market banner makes a graph, whatever the file's name.
#[test]
fn a_matrix_market_file_named_txt_is_a_graph() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("g.txt"),
        "%%MatrixMarket matrix coordinate real general\n4 4 4\n2 1 1\n3 2 1\n4 3 1\n1 4 1\n",
    )
    .unwrap();
    let o = run(&["g.txt", "-m", "10", "-o", "e.txt"], d.path());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("read g.txt: 4 vertices, 4 edges"), "{err}");
    assert_eq!(read_embedding(&d.path().join("e.txt")).len(), 4);
}

/// `--init` takes our own `.npy` output (and a text file with a header
/// line): resuming from it by hand starts where the first run ended.
#[test]
fn init_accepts_npy_and_a_header_line() {
    let d = tempfile::tempdir().unwrap();
    let g = example();
    let g = g.to_str().unwrap();
    let first = run(&[g, "-m", "30", "-o", "first.npy", "-q"], d.path());
    assert!(first.status.success());
    let from_npy = run(
        &[g, "--init", "first.npy", "-m", "0", "-o", "same.txt", "-q"],
        d.path(),
    );
    assert!(
        from_npy.status.success(),
        "{}",
        String::from_utf8_lossy(&from_npy.stderr)
    );
    let txt = run(&[g, "-m", "30", "-o", "first.txt", "-q"], d.path());
    assert!(txt.status.success());
    assert_eq!(
        std::fs::read(d.path().join("same.txt")).unwrap(),
        std::fs::read(d.path().join("first.txt")).unwrap()
    );
    let body = std::fs::read_to_string(d.path().join("first.txt")).unwrap();
    std::fs::write(d.path().join("header.txt"), format!("x y\n{body}")).unwrap();
    let from_txt = run(
        &[
            g,
            "--init",
            "header.txt",
            "-m",
            "0",
            "-o",
            "again.txt",
            "-q",
        ],
        d.path(),
    );
    assert!(
        from_txt.status.success(),
        "{}",
        String::from_utf8_lossy(&from_txt.stderr)
    );
    assert_eq!(
        std::fs::read(d.path().join("again.txt")).unwrap(),
        std::fs::read(d.path().join("first.txt")).unwrap()
    );
    // A 3-column array for a 2D run is refused with its file.
    let three = run(&[g, "--dim", "3", "-m", "5", "-o", "t.npy", "-q"], d.path());
    assert!(three.status.success());
    let bad = run(&[g, "--init", "t.npy", "-o", "bad.txt"], d.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("t.npy"));
}

/// Where the cap binds, the note says whether the close pairs are summed
/// exactly (the near/far split, default) or all go on the coarse grid
/// (`--no-near-split`), and the report records which.
#[test]
fn the_cap_note_says_how_close_pairs_are_summed() {
    let d = tempfile::tempdir().unwrap();
    let n = 1500u32;
    common::write_ring(&d.path().join("ring.mtx"), n);
    let init: String = (0..n)
        .map(|i| {
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            format!(
                "{} {} {}\n",
                40.0 * t.cos(),
                40.0 * t.sin(),
                10.0 * (3.0 * t).sin()
            )
        })
        .collect();
    std::fs::write(d.path().join("init.txt"), init).unwrap();
    for near in [true, false] {
        let mut args = vec![
            "ring.mtx",
            "--dim",
            "3",
            "--init",
            "init.txt",
            "-m",
            "3",
            "-e",
            "1",
            "--repulsion",
            "grid",
            "--grid-max",
            "16",
            "--report",
            "r.json",
            "-o",
            "out.txt",
        ];
        if !near {
            args.push("--no-near-split");
        }
        let o = run_limited(&args, d.path(), 1_500_000);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{err}");
        assert_eq!(err.matches("the spacing now grows").count(), 1, "{err}");
        assert_eq!(err.contains("are summed exactly"), near, "{err}");
        assert_eq!(err.contains("at some cost in accuracy"), !near, "{err}");
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(d.path().join("r.json")).unwrap())
                .unwrap();
        assert_eq!(r["parameters"]["near_split"], near);
        assert_eq!(r["grid"]["capped"], true);
        assert_eq!(r["grid"]["near_split"], near);
    }
}

/// Weights at the ends of the f64 range (a subnormal entry, duplicates
/// whose sum overflows, 1e300 beside 1e-300 under λ = 10) embed like
/// ordinary ones: exit 0 and finite rows.
#[test]
fn extreme_weights_embed() {
    let dir = tempfile::tempdir().unwrap();
    let ring = "2 1 1\n2 3 1\n3 2 1\n3 4 1\n4 3 1\n4 1 1\n";
    for (name, extra, lambda) in [
        ("tiny.mtx", "1 2 1e-310\n1 4 1\n", "1"),
        ("dup.mtx", "1 2 1.5e308\n1 2 1.5e308\n1 4 1\n", "1"),
        ("wide.mtx", "1 2 1e300\n1 4 1e-300\n", "10"),
    ] {
        let k = ring.lines().count() + extra.lines().count();
        let text = format!("%%MatrixMarket matrix coordinate real general\n4 4 {k}\n{ring}{extra}");
        std::fs::write(dir.path().join(name), text).unwrap();
        let out = common::run(
            &[
                name,
                "--lambda",
                lambda,
                "--max-iter",
                "100",
                "-q",
                "-o",
                "y.txt",
            ],
            dir.path(),
        );
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let y = common::read_embedding(&dir.path().join("y.txt"));
        assert_eq!(y.len(), 4);
        assert!(y.iter().flatten().all(|v| v.is_finite()), "{name}");
    }
}
