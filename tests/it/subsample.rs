//! The subsample start (`Init::Subsample`): against a reference built
//! step by step with a brute-force neighbour search, thread invariance,
//! and the sizes it refuses.

use crate::common;

use std::ops::ControlFlow;

use sgtsne::affinity::Affinities;
use sgtsne::graph::StochasticGraph;
use sgtsne::points::Points;
use sgtsne::util::Rng;
use sgtsne::{Embedder, Init};

/// Six Gaussian blobs in `d` dimensions, centres drawn at scale 8.
fn blobs(n: usize, d: usize, seed: u64) -> Points {
    let mut rng = Rng::new(seed);
    let centres: Vec<Vec<f64>> = (0..6)
        .map(|_| (0..d).map(|_| 8.0 * rng.normal()).collect())
        .collect();
    let mut v = Vec::with_capacity(n * d);
    for i in 0..n {
        v.extend(centres[(i * 7) % 6].iter().map(|c| c + rng.normal()));
    }
    Points::try_new(n, d, v).unwrap()
}

const PERPLEXITY: f64 = 10.0;
const ITERS: usize = 300;
const PLACE_K: usize = sgtsne::defaults::SUBSAMPLE_PLACE_K;

fn embedder(dim: usize, size: usize) -> Embedder {
    Embedder::new(dim)
        .seed(4)
        .max_iter(ITERS)
        .init(Init::Subsample(size))
}

fn start(pts: &Points, dim: usize, size: usize) -> Vec<f64> {
    let aff = Affinities::default().perplexity(PERPLEXITY);
    embedder(dim, size)
        .subsample_start(pts, &aff, &mut |_| {})
        .unwrap()
}

/// The start before its rescaling and jitter, built step by step: the
/// sample's own run from a PCA start, each other point at the weighted
/// median of its brute-force nearest sample points.
fn reference(pts: &Points, dim: usize, size: usize) -> (Vec<usize>, Vec<f64>) {
    let n = pts.n();
    let ids = sgtsne::subsample::draw(n, size, 4);
    let mut data = Vec::new();
    for &i in &ids {
        data.extend_from_slice(pts.row(i));
    }
    let sample = Points::try_new(size, pts.d(), data).unwrap();
    let g = Affinities::default()
        .perplexity(PERPLEXITY)
        .graph(&sample, &mut |_| {})
        .unwrap();
    let (graph, _) = StochasticGraph::from_coo(&g.coo, 1.0).unwrap();
    let e = Embedder::new(dim).seed(4).max_iter(ITERS).init(Init::Pca);
    let mut s = e.session_points(&graph, &sample, None).unwrap();
    s.run_to_end(&mut |_| ControlFlow::Continue(())).unwrap();
    let y = s.result().unwrap().coords;
    let mut out = vec![0.0; n * dim];
    let mut in_sample = vec![false; n];
    for (r, &i) in ids.iter().enumerate() {
        out[i * dim..(i + 1) * dim].copy_from_slice(y.row(r));
        in_sample[i] = true;
    }
    for i in (0..n).filter(|&i| !in_sample[i]) {
        let mut d: Vec<(f64, usize)> = (0..size)
            .map(|r| (common::dist2(pts.row(i), sample.row(r)), r))
            .collect();
        d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        d.truncate(PLACE_K);
        let d2: Vec<f64> = d.iter().map(|v| v.0).collect();
        let mut p = vec![0.0; PLACE_K];
        sgtsne::knn::calibrate_row(&d2, 3.0, &mut p);
        for a in 0..dim {
            let mut v: Vec<(f64, f64)> = d
                .iter()
                .zip(&p)
                .map(|(&(_, r), &w)| (y.row(r)[a], w))
                .collect();
            v.sort_by(|u, w| u.0.total_cmp(&w.0));
            let half = 0.5 * v.iter().map(|u| u.1).sum::<f64>();
            let mut acc = 0.0;
            out[i * dim + a] = v
                .iter()
                .find(|u| {
                    acc += u.1;
                    acc >= half
                })
                .map_or(v[v.len() - 1].0, |u| u.0);
        }
    }
    (ids, out)
}

#[test]
fn subsample_start_matches_a_brute_force_reference() {
    let (n, size) = (2400, 500);
    let pts = blobs(n, 8, 11);
    for dim in 1..=3 {
        let got = start(&pts, dim, size);
        let (ids, want) = reference(&pts, dim, size);
        assert_eq!(got.len(), n * dim);
        let in_sample: std::collections::HashSet<usize> = ids.iter().copied().collect();
        // The start is (want + jitter − mean) · scale, one scale for all
        // axes: read mean and scale off the sample, which has no jitter.
        let (a, b) = (ids[0], ids[ids.len() / 2]);
        let scale = (got[a * dim] - got[b * dim]) / (want[a * dim] - want[b * dim]);
        assert!(scale.is_finite() && scale > 0.0, "dim {dim}: scale {scale}");
        let mean: Vec<f64> = (0..dim)
            .map(|c| want[a * dim + c] - got[a * dim + c] / scale)
            .collect();
        let raw = |i: usize, c: usize| got[i * dim + c] / scale + mean[c];
        for &i in &ids {
            for c in 0..dim {
                let w = want[i * dim + c];
                assert!(
                    (raw(i, c) - w).abs() <= 1e-9 * (1.0 + w.abs()),
                    "dim {dim}: sample point {i} axis {c}: {} vs {w}",
                    raw(i, c)
                );
            }
        }
        // The sample embedding's RMS radius sets the jitter's scale.
        let rms = {
            let mut m = vec![0.0; dim];
            for &i in &ids {
                for c in 0..dim {
                    m[c] += want[i * dim + c] / ids.len() as f64;
                }
            }
            let ss: f64 = ids
                .iter()
                .flat_map(|&i| (0..dim).map(move |c| (i, c)))
                .map(|(i, c)| (want[i * dim + c] - m[c]).powi(2))
                .sum();
            (ss / ids.len() as f64).sqrt()
        };
        let jitter = sgtsne::defaults::SUBSAMPLE_JITTER * rms;
        let mut close = 0;
        let mut resid = Vec::new();
        for i in (0..n).filter(|i| !in_sample.contains(i)) {
            let e: Vec<f64> = (0..dim).map(|c| raw(i, c) - want[i * dim + c]).collect();
            if e.iter().all(|v| v.abs() <= 6.0 * jitter) {
                close += 1;
                resid.extend(e);
            }
        }
        let placed = n - size;
        // The graph walk may miss a neighbour now and then.
        assert!(
            close as f64 >= 0.97 * placed as f64,
            "dim {dim}: {close} of {placed} placed points where the brute-force reference puts them"
        );
        let sd = (resid.iter().map(|v| v * v).sum::<f64>() / resid.len() as f64).sqrt();
        assert!(
            sd > 0.7 * jitter && sd < 1.3 * jitter,
            "dim {dim}: jitter {sd:e}, expected about {jitter:e}"
        );
        // Rescaled as every informative start: first axis's sd 1e-4.
        let m0 = (0..n).map(|i| got[i * dim]).sum::<f64>() / n as f64;
        let sd0 = ((0..n).map(|i| (got[i * dim] - m0).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!((sd0 - 1e-4).abs() < 1e-12, "dim {dim}: sd {sd0:e}");
    }
}

#[test]
fn subsample_start_is_thread_invariant() {
    let pts = blobs(3000, 6, 3);
    for dim in 1..=3 {
        common::assert_thread_invariant(&format!("subsample start, {dim}D"), || {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            for v in start(&pts, dim, 400) {
                v.to_bits().hash(&mut h);
            }
            h.finish()
        });
    }
}

#[test]
fn subsample_sizes_and_inputs_are_checked() {
    let pts = blobs(500, 4, 1);
    let aff = Affinities::default().perplexity(PERPLEXITY);
    for size in [0, 99, 500, 501] {
        let err = embedder(2, size)
            .subsample_start(&pts, &aff, &mut |_| {})
            .expect_err("refused");
        let msg = err.to_string();
        assert!(
            msg.contains("init") && msg.contains(&format!("subsample:{size}")),
            "{msg}"
        );
        assert!(embedder(2, size).plan_points(500).is_err());
    }
    assert!(embedder(2, 100).plan_points(500).is_ok());
    // A sample with no spread is reported as the start asked for, not as
    // the PCA start the sample's run would have begun from.
    let same = Points::try_new(500, 4, vec![1.0; 2000]).unwrap();
    let err = embedder(2, 100)
        .subsample_start(&same, &aff, &mut |_| {})
        .expect_err("a degenerate sample");
    let msg = err.to_string();
    assert!(
        msg.contains("subsample start is degenerate") && !msg.contains("PCA"),
        "{msg}"
    );
    // A graph has no coordinates to sample.
    let err = embedder(2, 100).plan(500).expect_err("refused");
    assert!(err.to_string().contains("point coordinates"), "{err}");
    // A session cannot compute the start itself: it needs the affinities.
    let g = common::random_graph(500, 2, 5, 1);
    let err = embedder(2, 100)
        .session_points(&g, &pts, None)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("subsample_start"), "{err}");
    // Names parse both ways.
    assert_eq!("subsample".parse::<Init>(), Ok(Init::Subsample(25_000)));
    assert_eq!("subsample:300".parse::<Init>(), Ok(Init::Subsample(300)));
    assert_eq!(Init::Subsample(300).to_string(), "subsample:300");
    assert!("subsample:x".parse::<Init>().is_err());
}

/// A model of a run from a subsample start loads, reports its start and
/// resumes to the bits of the uninterrupted run.
#[test]
fn a_subsample_run_saves_loads_and_resumes() {
    use sgtsne::model::Source;
    use sgtsne::Model;
    let go = &mut |_: &sgtsne::Progress| ControlFlow::Continue(());
    let pts = blobs(1200, 5, 2);
    let aff = Affinities::default().perplexity(PERPLEXITY);
    let mut g = aff.graph(&pts, &mut |_| {}).unwrap();
    let (graph, _) = StochasticGraph::from_coo(&g.coo, 1.0).unwrap();
    let e = embedder(2, 200).max_iter(120);
    let y0 = e.subsample_start(&pts, &aff, &mut |_| {}).unwrap();
    let mut s = e.session_points(&graph, &pts, Some(&y0)).unwrap();
    s.run(60, go).unwrap();
    let source = Source::from_points(pts.clone(), &mut g);
    let bytes = Model::new(&e, &graph, &mut s, source)
        .unwrap()
        .to_bytes()
        .unwrap();
    let loaded = Model::from_bytes(&bytes, std::path::Path::new("m.npz")).unwrap();
    assert_eq!(loaded.plan().unwrap().init, Init::Subsample(200));
    let mut r = loaded.resume().unwrap();
    r.run_to_end(go).unwrap();
    s.run_to_end(go).unwrap();
    let bits = |v: Vec<f64>| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(r.coordinates()), bits(s.coordinates()));
}
