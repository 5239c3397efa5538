//! Progress of the long phases: every metered phase counts exactly its
//! work, metering changes no result, and the binary prints a line with
//! the share done and the time left for a phase still running.

use crate::common;

use std::process::Command;

use sgtsne::affinity::Affinities;
use sgtsne::graph::StochasticGraph;
use sgtsne::knn::KnnMethod;
use sgtsne::order::VertexOrder;
use sgtsne::points::Points;
use sgtsne::progress::{Finished, Meter};
use sgtsne::util::Rng;
use sgtsne::Embedder;

fn points(n: usize, d: usize, seed: u64) -> Points {
    let mut rng = Rng::new(seed);
    let v = (0..n * d)
        .map(|i| rng.normal() + 5.0 * ((i / d) % 3) as f64)
        .collect();
    Points::try_new(n, d, v).unwrap()
}

/// Every phase that announced a total counted exactly that much.
fn assert_counted(phases: &[Finished]) {
    for p in phases {
        if p.total > 0 {
            assert_eq!(
                p.done, p.total,
                "phase '{}' counted {} of {}",
                p.label, p.done, p.total
            );
        }
    }
}

fn labels(phases: &[Finished]) -> Vec<String> {
    phases.iter().map(|p| p.label.clone()).collect()
}

/// The points pipeline with and without a meter watching: the same bits,
/// and the meter saw each phase in order, each counted to its total.
#[test]
fn every_phase_counts_its_work_and_changes_nothing() {
    let pts = points(6000, 8, 7);
    for (method, pca) in [(KnnMethod::Approx, 0), (KnnMethod::Exact, 5)] {
        let aff = Affinities::default().perplexity(5.0).knn(method).pca(pca);
        let meter = Meter::default();
        let plain = aff.graph(&pts, &mut |_| {}).unwrap();
        let watched = aff
            .clone()
            .progress(meter.clone())
            .graph(&pts, &mut |_| {})
            .unwrap();
        assert_eq!(plain.coo.rows, watched.coo.rows);
        assert_eq!(plain.coo.vals, watched.coo.vals);
        let (g_plain, _) = StochasticGraph::from_coo_owned(plain.coo, 1.0).unwrap();
        let (g, _) = StochasticGraph::from_coo_owned_metered(watched.coo, 1.0, &meter).unwrap();
        for dim in 1..=3 {
            let e = Embedder::new(dim).max_iter(3);
            let a = e
                .session_points(&g_plain, &pts, None)
                .unwrap()
                .result()
                .unwrap();
            let b = e
                .progress(meter.clone())
                .session_points(&g, &pts, None)
                .unwrap()
                .result()
                .unwrap();
            assert_eq!(a.coords.as_slice(), b.coords.as_slice(), "{dim}D start");
        }
        let seen = meter.finished();
        assert_counted(&seen);
        let names = labels(&seen);
        let mut want: Vec<String> = Vec::new();
        if pca > 0 {
            want.push(format!("PCA to {pca} dimensions"));
        }
        match method {
            KnnMethod::Approx => {
                want.push(
                    "neighbour search: ordering the points by a random-projection tree".into(),
                );
                for t in 1..=3 {
                    want.push(format!("neighbour search: random-projection tree {t} of 3"));
                }
                let sweeps = names
                    .iter()
                    .filter(|l| l.starts_with("neighbour search: sweep "))
                    .count();
                assert!(sweeps >= 1, "no sweep metered: {names:?}");
                for s in 1..=sweeps {
                    want.push(format!("neighbour search: sweep {s}"));
                }
                want.push("neighbour search: final distances in double precision".into());
            }
            _ => want.push("exact neighbour search".into()),
        }
        want.push("perplexity calibration".into());
        want.push("graph: check, normalise, rescale, symmetrise".into());
        let order = format!("vertex order ({})", VertexOrder::Auto.resolve(6000));
        for _ in 1..=3 {
            want.extend(["PCA start".into(), order.clone(), "block layout".into()]);
        }
        assert_eq!(names, want, "{method:?}");
        let total = |label: &str| seen.iter().find(|p| p.label == label).unwrap().total;
        assert_eq!(total("perplexity calibration"), 6000);
        assert_eq!(
            total("graph: check, normalise, rescale, symmetrise"),
            5 * 6000 * 15
        );
    }
}

/// Graph preparation counts to its total when self-loops and duplicates
/// are dropped before the symmetrisation.
#[test]
fn graph_preparation_counts_dropped_entries() {
    let mut coo = common::random_coo(3000, 2, 12, 3);
    for j in 0..50u32 {
        coo.rows.extend([j, j + 1]);
        coo.cols.extend([j, j]);
        coo.vals.extend([1.0, 2.0]);
    }
    let entries = coo.vals.len() as u64;
    let meter = Meter::default();
    let (g, report) = StochasticGraph::from_coo_owned_metered(coo.clone(), 1.0, &meter).unwrap();
    assert!(
        (report.entries as u64) < entries,
        "the input has no duplicates to drop"
    );
    let seen = meter.finished();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].total, 5 * entries);
    assert_counted(&seen);
    let (plain, _) = StochasticGraph::from_coo(&coo, 1.0).unwrap();
    assert_eq!(plain.vals(), g.vals());
}

fn run_with(dir: &std::path::Path, every: Option<&str>, extra: &[&str]) -> String {
    let mut c = Command::new(common::bin());
    c.args([
        "p.npy",
        "--perplexity",
        "10",
        "--max-iter",
        "20",
        "--max-memory",
        "2GB",
        "-o",
        "y.txt",
    ])
    .args(extra)
    .current_dir(dir);
    match every {
        Some(e) => c.env("SGTSNE_PROGRESS_EVERY", e),
        None => c.env_remove("SGTSNE_PROGRESS_EVERY"),
    };
    let o = c.output().expect("run sgtsne");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    err
}

/// A phase line: "  LABEL: P% after T, about E left", with P at most 100.
fn phase_lines(err: &str) -> Vec<(String, f64)> {
    err.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("  ")?;
            let (label, tail) = rest.rsplit_once(": ")?;
            let (pct, tail) = tail.split_once("% after ")?;
            assert!(tail.contains(" left") || !tail.contains(','), "{l}");
            Some((label.to_string(), pct.parse::<f64>().ok()?))
        })
        .collect()
}

/// The binary prints, for each phase still running when the interval
/// passes, how far it has got; none at the default 30 s on a short run,
/// and nothing at all with --quiet.
#[test]
fn the_binary_prints_how_far_each_long_phase_has_got() {
    let dir = tempfile::tempdir().unwrap();
    let mut buf = Vec::new();
    sgtsne::io::points::write_npy(&mut buf, &points(20_000, 10, 11)).unwrap();
    std::fs::write(dir.path().join("p.npy"), buf).unwrap();
    let err = run_with(dir.path(), Some("0"), &["--knn", "approx"]);
    let lines = phase_lines(&err);
    assert!(
        lines
            .iter()
            .any(|(l, _)| l.starts_with("neighbour search: sweep ")),
        "no progress line during the neighbour search:\n{err}"
    );
    for (label, pct) in &lines {
        assert!((0.0..=100.0).contains(pct), "{label}: {pct}%");
    }
    let err = run_with(dir.path(), None, &["--knn", "approx"]);
    assert!(phase_lines(&err).is_empty(), "lines before 30 s:\n{err}");
    assert!(err.contains("perplexity calibrated"), "{err}");
    let err = run_with(dir.path(), Some("0"), &["--knn", "approx", "--quiet"]);
    assert_eq!(err, "", "--quiet printed");
}

/// Resuming a saved model counts its setup (reading the graph from the
/// file, the vertex order, the block layout) and runs on exactly as the
/// unmetered resume does.
#[test]
fn resuming_a_model_shows_its_setup_and_changes_nothing() {
    use std::ops::ControlFlow;
    let dir = tempfile::tempdir().unwrap();
    let g = common::random_graph(3000, 3, 8, 6);
    for dim in [1, 2, 3] {
        let e = Embedder::new(dim).seed(3).max_iter(40);
        let mut s = e.session(&g, None).unwrap();
        s.run_to_end(&mut |_| ControlFlow::Continue(())).unwrap();
        let path = dir.path().join(format!("m{dim}.npz"));
        let source = sgtsne::model::Source::Graph { lambda: 1.0 };
        sgtsne::Model::new(&e, &g, &mut s, source)
            .unwrap()
            .save(&path)
            .unwrap();
        let run_on = |mut s: sgtsne::Session| {
            s.run(30, &mut |_| ControlFlow::Continue(())).unwrap();
            s.result().unwrap().coords
        };
        let plain = run_on(sgtsne::Model::load(&path).unwrap().resume().unwrap());
        let meter = Meter::default();
        let model = sgtsne::Model::load(&path).unwrap();
        let metered = run_on(model.resume_metered(&meter).unwrap());
        assert_eq!(metered, plain, "dim {dim}");
        let seen = labels(&meter.finished());
        assert_eq!(
            seen.first().map(String::as_str),
            Some("reading the model's graph"),
            "{seen:?}"
        );
        assert!(
            seen.iter().any(|l| l.starts_with("vertex order")),
            "{seen:?}"
        );
        assert!(seen.iter().any(|l| l == "block layout"), "{seen:?}");
        // Once the graph is in memory, no reading phase.
        let again = Meter::default();
        model.resume_metered(&again).unwrap();
        let seen = labels(&again.finished());
        assert!(!seen.iter().any(|l| l.starts_with("reading")), "{seen:?}");
    }
}
