//! The binary on point data, the `graph` subcommand and the bh_tsne drop-in,
//! run as processes in temporary directories.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{bin, read_embedding, run};
use sgtsne::points::Points;
use sgtsne::util::Rng;

fn blobs(n: usize, d: usize, seed: u64) -> Points {
    let mut rng = Rng::new(seed);
    let centres: Vec<Vec<f64>> = (0..4)
        .map(|_| (0..d).map(|_| 6.0 * rng.normal()).collect())
        .collect();
    let mut v = Vec::new();
    for i in 0..n {
        v.extend(centres[i % 4].iter().map(|c| c + rng.normal()));
    }
    Points::try_new(n, d, v).unwrap()
}

fn save_npy(p: &Points, path: &Path) {
    let mut buf = Vec::new();
    sgtsne::io::points::write_npy(&mut buf, p).unwrap();
    std::fs::write(path, buf).unwrap();
}

fn save_csv(p: &Points, path: &Path) {
    let mut s = String::from("a,b,c,d,e\n");
    for i in 0..p.n() {
        let r: Vec<String> = p.row(i).iter().map(|v| format!("{v:?}")).collect();
        s += &r.join(",");
        s += "\n";
    }
    std::fs::write(path, s).unwrap();
}

fn ok(o: &Output) {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn fails(o: &Output, want: &str) {
    assert_eq!(
        o.status.code(),
        Some(2),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains(want), "'{e}' does not mention '{want}'");
    assert!(!e.contains("panicked"), "{e}");
}

#[test]
fn points_npy_csv_and_graph_route_agree() {
    let dir = tempfile::tempdir().unwrap();
    let p = blobs(300, 5, 1);
    save_npy(&p, &dir.path().join("p.npy"));
    save_csv(&p, &dir.path().join("p.csv"));
    // The same start and early momentum on both routes: by default points
    // start from their principal components with momentum 0.8, graphs from
    // the spectral layout with 0.5.
    let common = [
        "--perplexity",
        "10",
        "--max-iter",
        "200",
        "--seed",
        "3",
        "--init",
        "random",
        "-q",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        extra
            .iter()
            .chain(common.iter())
            .map(|s| s.to_string())
            .collect()
    };
    for (input, out) in [("p.npy", "a.txt"), ("p.csv", "b.txt")] {
        let v = with(&[input, "-o", out]);
        let a: Vec<&str> = v.iter().map(|s| s.as_str()).collect();
        ok(&run(&a, dir.path()));
    }
    ok(&run(
        &["graph", "p.npy", "--perplexity", "10", "-o", "g.mtx", "-q"],
        dir.path(),
    ));
    ok(&run(
        &[
            "g.mtx",
            "--max-iter",
            "200",
            "--seed",
            "3",
            "--init",
            "random",
            "--momentum",
            "0.8",
            "-q",
            "-o",
            "c.txt",
        ],
        dir.path(),
    ));
    let a = std::fs::read(dir.path().join("a.txt")).unwrap();
    assert_eq!(
        a,
        std::fs::read(dir.path().join("b.txt")).unwrap(),
        "csv and npy inputs differ"
    );
    assert_eq!(
        a,
        std::fs::read(dir.path().join("c.txt")).unwrap(),
        "graph route differs from direct"
    );
    let y = read_embedding(&dir.path().join("a.txt"));
    assert_eq!(y.len(), 300);
    assert!(y.iter().flatten().all(|v| v.is_finite()));

    // The graph file: one column per point, k = 30 entries each.
    let g = sgtsne::io::mtx::read_matrix_market(&dir.path().join("g.mtx")).unwrap();
    assert_eq!((g.n, g.vals.len()), (300, 300 * 30));

    // PCA, exact kNN, 3D.
    ok(&run(
        &[
            "p.csv",
            "--pca",
            "2",
            "--knn",
            "exact",
            "--dim",
            "3",
            "--max-iter",
            "50",
            "-q",
            "-o",
            "d.npy",
        ],
        dir.path(),
    ));
    assert!(dir.path().join("d.npy").exists());
}

#[test]
fn points_errors_exit_2_without_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("ragged.csv"), "1,2\n3\n").unwrap();
    std::fs::write(d.join("one.csv"), "1,2\n").unwrap();
    std::fs::write(
        d.join("g.mtx"),
        "%%MatrixMarket matrix coordinate real general\n2 2 1\n1 2 1\n",
    )
    .unwrap();
    std::fs::write(d.join("mystery"), "hello").unwrap();
    fails(&run(&["ragged.csv", "-o", "out.txt"], d), "ragged.csv:2:");
    fails(&run(&["one.csv", "-o", "out.txt"], d), "at least 2 points");
    fails(
        &run(&["g.mtx", "--perplexity", "5", "-o", "out.txt"], d),
        "--perplexity applies to point input",
    );
    fails(
        &run(&["graph", "g.mtx", "-o", "out.txt"], d),
        "already a graph",
    );
    fails(&run(&["mystery", "-o", "out.txt"], d), "--input-format");
    assert!(!d.join("out.txt").exists());
    // --input-format overrides the name.
    std::fs::write(d.join("pts.data"), "1 2\n2 3\n5 5\n9 1\n").unwrap();
    ok(&run(
        &[
            "pts.data",
            "--input-format",
            "text",
            "--perplexity",
            "1",
            "-m",
            "20",
            "-q",
            "-o",
            "out.txt",
        ],
        d,
    ));
}

/// What bhtsne.py does: pack the header `iiddii`, the data and the seed.
fn pack_data_dat(
    p: &Points,
    theta: f64,
    perplexity: f64,
    no_dims: i32,
    max_iter: i32,
    seed: Option<i32>,
) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend((p.n() as i32).to_le_bytes());
    v.extend((p.d() as i32).to_le_bytes());
    v.extend(theta.to_le_bytes());
    v.extend(perplexity.to_le_bytes());
    v.extend(no_dims.to_le_bytes());
    v.extend(max_iter.to_le_bytes());
    for x in p.as_slice() {
        v.extend(x.to_le_bytes());
    }
    if let Some(s) = seed {
        v.extend(s.to_le_bytes());
    }
    v
}

/// What bhtsne.py does with result.dat: N, dims, rows, landmarks, costs.
fn unpack_result(bytes: &[u8]) -> (usize, usize, Vec<f64>, Vec<i32>, Vec<f64>) {
    let i32_at = |o: usize| i32::from_le_bytes(bytes[o..o + 4].try_into().unwrap());
    let f64_at = |o: usize| f64::from_le_bytes(bytes[o..o + 8].try_into().unwrap());
    let (n, d) = (i32_at(0) as usize, i32_at(4) as usize);
    assert_eq!(
        bytes.len(),
        8 + n * d * 8 + n * 4 + n * 8,
        "result.dat size"
    );
    let y = (0..n * d).map(|t| f64_at(8 + 8 * t)).collect();
    let base = 8 + n * d * 8;
    let lm = (0..n).map(|t| i32_at(base + 4 * t)).collect();
    let costs = (0..n).map(|t| f64_at(base + 4 * n + 8 * t)).collect();
    (n, d, y, lm, costs)
}

fn bh_tsne_in(dir: &Path) -> PathBuf {
    let exe = dir.join("bh_tsne");
    std::fs::copy(bin(), &exe).unwrap();
    exe
}

/// Runs a freshly copied executable. While another test thread forks, its
/// child briefly inherits the copy's write descriptor (until its exec), and
/// exec then fails with ETXTBSY; that passes in milliseconds, so retry.
fn run_copied(cmd: &mut Command) -> std::process::Output {
    for _ in 0..100 {
        match cmd.output() {
            // ETXTBSY is 26 on Linux.
            Err(e) if e.raw_os_error() == Some(26) => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            r => return r.unwrap(),
        }
    }
    panic!("the copied executable stayed busy (ETXTBSY)")
}

#[test]
fn bh_tsne_drop_in_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let exe = bh_tsne_in(d);
    let p = blobs(200, 6, 2);
    for (no_dims, theta) in [(2, 0.5), (3, 0.0), (1, 0.5)] {
        std::fs::write(
            d.join("data.dat"),
            pack_data_dat(&p, theta, 10.0, no_dims, 150, Some(42)),
        )
        .unwrap();
        let o = run_copied(Command::new(&exe).current_dir(d));
        ok(&o);
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            out.contains("Read the 200 x 6 data matrix successfully!"),
            "{out}"
        );
        assert!(out.contains("Iteration 150: error is"), "{out}");
        assert!(
            out.contains(&format!(
                "Wrote the 200 x {no_dims} data matrix successfully!"
            )),
            "{out}"
        );
        let first = std::fs::read(d.join("result.dat")).unwrap();
        let (n, dims, y, lm, costs) = unpack_result(&first);
        assert_eq!((n, dims), (200, no_dims as usize));
        assert_eq!(lm, (0..200).collect::<Vec<i32>>());
        assert!(y.iter().all(|v| v.is_finite()));
        assert!(costs.iter().all(|c| c.is_finite()));
        // The costs are the KL split by point: their sum is the final error line's KL.
        let kl: f64 = costs.iter().sum();
        let last = out
            .lines()
            .rfind(|l| l.starts_with("Iteration 150"))
            .unwrap();
        let reported: f64 = last
            .split("error is ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        // The line prints 6 decimals.
        assert!(
            (kl - reported).abs() < 1e-6 + 1e-9 * reported.abs(),
            "costs sum {kl} vs {reported}"
        );
        // Same seed, same bytes; and `sgtsne bhtsne --dir` is the same program.
        std::fs::remove_file(d.join("result.dat")).unwrap();
        ok(&Command::new(bin())
            .args(["bhtsne", "--dir"])
            .arg(d)
            .output()
            .unwrap());
        assert_eq!(first, std::fs::read(d.join("result.dat")).unwrap());
    }
    // Result rows are in input order: points of one blob sit together.
    let (_, _, y, _, _) = unpack_result(&std::fs::read(d.join("result.dat")).unwrap());
    let mean = |b: usize| (0..200).filter(|i| i % 4 == b).map(|i| y[i]).sum::<f64>() / 50.0;
    let spread = |b: usize| {
        (0..200)
            .filter(|i| i % 4 == b)
            .map(|i| (y[i] - mean(b)).abs())
            .sum::<f64>()
            / 50.0
    };
    let gap = (0..4)
        .flat_map(|a| (0..4).map(move |b| (a, b)))
        .filter(|(a, b)| a < b)
        .map(|(a, b)| (mean(a) - mean(b)).abs())
        .fold(f64::INFINITY, f64::min);
    assert!(
        gap > (0..4).map(spread).fold(0.0, f64::max),
        "blobs are not separated in input order"
    );
}

#[test]
fn bh_tsne_bad_data_dat_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let exe = bh_tsne_in(d);
    let p = blobs(50, 3, 3);
    let good = pack_data_dat(&p, 0.5, 5.0, 2, 50, Some(1));
    let cases: Vec<(&str, Option<Vec<u8>>, &str)> = vec![
        ("missing", None, "not found"),
        (
            "truncated",
            Some(good[..good.len() - 20].to_vec()),
            "truncated",
        ),
        ("header only", Some(good[..32].to_vec()), "truncated"),
        (
            "no_dims",
            Some(pack_data_dat(&p, 0.5, 5.0, 7, 50, None)),
            "no_dims",
        ),
        (
            "perplexity",
            Some(pack_data_dat(&p, 0.5, f64::NAN, 2, 50, None)),
            "perplexity",
        ),
        ("empty", Some(Vec::new()), "shorter"),
    ];
    for (name, bytes, want) in cases {
        let _ = std::fs::remove_file(d.join("data.dat"));
        if let Some(b) = bytes {
            std::fs::write(d.join("data.dat"), b).unwrap();
        }
        let o = run_copied(Command::new(&exe).current_dir(d));
        assert!(!o.status.success(), "{name}: succeeded");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(want), "{name}: '{e}' does not mention '{want}'");
        assert!(!e.contains("panicked"), "{name}: {e}");
        assert!(!d.join("result.dat").exists(), "{name}: result.dat written");
    }
}

/// `--report` against values computed here: sizes, the exact KL of the
/// written coordinates, the 10-NN preservation and label accuracy by brute
/// force, and consistent timings.
#[test]
fn report_matches_an_independent_computation() {
    let dir = tempfile::tempdir().unwrap();
    let n = 300;
    let p = blobs(n, 5, 11);
    save_npy(&p, &dir.path().join("p.npy"));
    let labels: String = (0..n).map(|i| format!("c{}\n", i % 4)).collect();
    std::fs::write(dir.path().join("l.txt"), labels).unwrap();
    ok(&run(
        &[
            "p.npy",
            "--perplexity",
            "10",
            "--max-iter",
            "300",
            "--repulsion",
            "grid",
            "--labels",
            "l.txt",
            "-o",
            "y.txt",
            "--report",
            "r.json",
            "-q",
        ],
        dir.path(),
    ));
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let y = read_embedding(&dir.path().join("y.txt"));
    assert_eq!(r["n"], n);
    assert_eq!(r["dim"], 2);
    assert_eq!(r["iterations"], 300);
    assert_eq!(r["input_kind"], "points");
    assert_eq!(r["parameters"]["init"], "pca");
    assert_eq!(r["parameters"]["eta"], "auto");
    assert_eq!(r["parameters"]["neighbours"], 30);
    // The graph as the library builds it from the same points and flags.
    let aff = sgtsne::affinity::Affinities::default()
        .perplexity(10.0)
        .graph(&p, &mut |_| {})
        .unwrap();
    let (g, _) = sgtsne::graph::StochasticGraph::from_coo(&aff.coo, 1.0).unwrap();
    assert_eq!(r["nnz"], g.nnz());
    // KL of the written coordinates, dense and direct.
    let d2 = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>();
    let mut z = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                z += 1.0 / (1.0 + d2(&y[i], &y[j]));
            }
        }
    }
    let mut kl = 0.0;
    for i in 0..n {
        let (c, v) = g.row(i);
        for (&j, &pij) in c.iter().zip(v) {
            kl += pij * (pij * z * (1.0 + d2(&y[i], &y[j as usize]))).ln();
        }
    }
    let got = r["kl"].as_f64().unwrap();
    assert!((got - kl).abs() < 1e-6, "report KL {got}, direct {kl}");
    assert_eq!(r["kl_exact"], true);
    // Brute-force neighbours, ties to the smaller index.
    let nearest = |rows: &dyn Fn(usize) -> Vec<f64>, i: usize| -> Vec<usize> {
        let mut d: Vec<(f64, usize)> = (0..n)
            .filter(|&j| j != i)
            .map(|j| (d2(&rows(i), &rows(j)), j))
            .collect();
        d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        d.into_iter().take(10).map(|x| x.1).collect()
    };
    let inp = |i: usize| p.row(i).to_vec();
    let emb = |i: usize| y[i].clone();
    let mut kept = 0.0;
    let mut right = 0;
    for i in 0..n {
        let (a, b) = (nearest(&inp, i), nearest(&emb, i));
        kept += a.iter().filter(|x| b.contains(x)).count() as f64 / 10.0;
        let mut votes = [0; 4];
        for &j in &b {
            votes[j % 4] += 1;
        }
        let best = (0..4).fold(0, |m, c| if votes[c] > votes[m] { c } else { m });
        right += (best == i % 4) as usize;
    }
    let q = &r["quality"];
    let pres = q["preservation_10nn"]["value"].as_f64().unwrap();
    assert!(
        (pres - kept / n as f64).abs() < 1e-12,
        "preservation {pres} vs {}",
        kept / n as f64
    );
    assert_eq!(q["preservation_10nn"]["sampled"], false);
    let acc = q["label_accuracy_10nn"].as_f64().unwrap();
    assert!(
        (acc - right as f64 / n as f64).abs() < 1e-12,
        "accuracy {acc}"
    );
    // Timings: parts are non-negative and fit in the total; memory and grid.
    let s = &r["seconds"];
    let total = s["total"].as_f64().unwrap();
    let parts: f64 = [
        "prepare",
        "init",
        "setup",
        "attraction",
        "repulsion",
        "other",
    ]
    .iter()
    .map(|k| {
        let v = s[k].as_f64().unwrap();
        assert!(v >= 0.0, "{k}: {v}");
        v
    })
    .sum();
    assert!(
        parts <= total * 1.0001 + 1e-6,
        "parts {parts} > total {total}"
    );
    assert!(r["peak_rss_bytes"].as_u64().unwrap() > 1 << 20);
    assert!(r["grid"]["nodes_per_side"].as_u64().unwrap() >= 16);
    // A small 2D run stays under the cap: no split.
    assert_eq!(r["parameters"]["near_split"], true);
    assert_eq!(r["parameters"]["grid_max"], 2048);
    assert_eq!(r["grid"]["capped"], false);
    assert_eq!(r["grid"]["near_split"], false);
}

/// An approximate neighbour search shows its trees and sweeps and the
/// recall it reached, and the report holds the same recall (recomputed
/// here with the library) and the time of each preparation phase.
#[test]
fn approximate_search_shows_progress_and_recall() {
    let dir = tempfile::tempdir().unwrap();
    let n = 6000;
    let p = blobs(n, 8, 5);
    save_npy(&p, &dir.path().join("p.npy"));
    let o = run(
        &[
            "p.npy",
            "--knn",
            "approx",
            "--perplexity",
            "5",
            "--seed",
            "7",
            "--max-iter",
            "20",
            "-o",
            "y.txt",
            "--report",
            "r.json",
        ],
        dir.path(),
    );
    ok(&o);
    let err = String::from_utf8_lossy(&o.stderr);
    for want in [
        "neighbour search: random-projection tree 1 of 3",
        "neighbour search: sweep 1 (at most",
        "recall of the approximate neighbours: ",
        "perplexity calibrated for 6000 points",
        "vertex order and block layout built",
    ] {
        assert!(err.contains(want), "stderr lacks {want:?}:\n{err}");
    }
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).unwrap()).unwrap();
    let params = sgtsne::knn::DescentParams {
        seed: 7,
        ..Default::default()
    };
    let nn = sgtsne::knn::approx(&p, 15, &params);
    let want = sgtsne::knn::sampled_recall(&p, &nn, sgtsne::knn::RECALL_SAMPLE, 7);
    assert_eq!(r["quality"]["knn_recall"]["value"].as_f64(), Some(want));
    assert_eq!(r["quality"]["knn_recall"]["sampled"], 1000);
    assert!(want > 0.9, "recall {want}");
    let shown = format!("recall of the approximate neighbours: {want:.4}");
    assert!(err.contains(&shown), "stderr lacks {shown:?}:\n{err}");
    let phases = r["seconds"]["prepare_phases"].as_object().unwrap();
    for name in ["read", "neighbours", "recall_check", "calibration", "graph"] {
        let s = phases[name].as_f64().unwrap_or(-1.0);
        assert!(s >= 0.0, "phase {name}: {s}");
    }
    let sum: f64 = phases.values().map(|v| v.as_f64().unwrap()).sum();
    assert!(sum <= r["seconds"]["prepare"].as_f64().unwrap() + 1e-6);
}

/// `--init subsample:K` end to end: the same bytes on 1 and 2 threads, a
/// start unlike the PCA start, the report naming it with its phases; a
/// graph, a sample too large and a malformed size refused with exit 2
/// before any search, and no output left behind.
#[test]
fn subsample_start_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_npy(&blobs(2000, 6, 8), &d.join("pts.npy"));
    let go = |init: &str, threads: &str, out: &str| {
        let o = run(
            &[
                "pts.npy",
                "--init",
                init,
                "--perplexity",
                "10",
                "-m",
                "200",
                "--threads",
                threads,
                "--report",
                "r.json",
                "-o",
                out,
            ],
            d,
        );
        ok(&o);
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    let err = go("subsample:300", "1", "one.txt");
    assert!(
        err.contains("seeded sample of 300 of the 2000 points")
            && err.contains("placed the other 1700 points"),
        "{err}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("r.json")).unwrap()).unwrap();
    assert_eq!(report["parameters"]["init"], "subsample:300", "{report}");
    let phases = report["seconds"]["prepare_phases"].to_string();
    assert!(
        phases.contains("subsample_embedding") && phases.contains("subsample_placement"),
        "{phases}"
    );
    go("subsample:300", "2", "two.txt");
    let one = std::fs::read(d.join("one.txt")).unwrap();
    assert_eq!(one, std::fs::read(d.join("two.txt")).unwrap());
    go("pca", "2", "pca.txt");
    assert_ne!(one, std::fs::read(d.join("pca.txt")).unwrap());

    // Refused before the neighbour search, not after it.
    let refused = |args: &[&str], want: &str| {
        let o = run(args, d);
        fails(&o, want);
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(!e.contains("nearest neighbours"), "{e}");
    };
    refused(
        &["pts.npy", "--init", "subsample:2000", "-o", "bad.txt"],
        "between 100 and 1999 sample points",
    );
    refused(
        &["pts.npy", "--init", "subsample:many", "-o", "bad.txt"],
        "whole number",
    );
    std::fs::write(
        d.join("g.mtx"),
        "%%MatrixMarket matrix coordinate real general\n3 3 2\n1 2 1\n2 3 1\n",
    )
    .unwrap();
    refused(
        &["g.mtx", "--init", "subsample", "-o", "bad.txt"],
        "needs point coordinates",
    );
    // Points all alike: the start asked for is named, after the search.
    save_npy(
        &Points::try_new(500, 6, vec![1.0; 3000]).unwrap(),
        &d.join("same.npy"),
    );
    fails(
        &run(&["same.npy", "--init", "subsample:100", "-o", "bad.txt"], d),
        "subsample start is degenerate",
    );
    assert!(!d.join("bad.txt").exists());
}
