//! The bound on each vertex's step (`max_step`, FIt-SNE's max_step_norm)
//! and the warning of a rising cost.

use crate::common;

use std::ops::ControlFlow;

use sgtsne::graph::{Coo, StochasticGraph};
use sgtsne::repulse::RepulsionKind;
use sgtsne::{Embedder, Init};

/// `pairs` disjoint unit-weight pairs among `n` vertices, the rest
/// isolated: each pair's edge carries 1/pairs of P, far above the 1/n a
/// vertex of a kNN graph carries, so the automatic step oscillates.
fn pairs_graph(n: usize, pairs: usize) -> StochasticGraph {
    let mut c = Coo {
        n,
        rows: vec![],
        cols: vec![],
        vals: vec![],
    };
    for k in 0..pairs {
        let (a, b) = ((k * n / pairs) as u32, (k * n / pairs + 1) as u32);
        c.rows.extend([a, b]);
        c.cols.extend([b, a]);
        c.vals.extend([1.0, 1.0]);
    }
    StochasticGraph::from_coo(&c, 1.0).unwrap().0
}

/// Per iteration, the largest difference between two vertices' moves
/// (re-centring moves every vertex alike, so it cancels), and at the end
/// the largest distance within a pair.
fn run(d: usize, max_step: f64, g: &StochasticGraph, pairs: usize) -> (f64, f64) {
    let n = g.n();
    let mut s = Embedder::new(d)
        .max_iter(400)
        .max_step(max_step)
        .init(Init::Random)
        .repulsion(RepulsionKind::Exact)
        .session(g, None)
        .unwrap();
    let mut prev = s.coordinates();
    let mut cur = vec![0.0; n * d];
    let mut widest: f64 = 0.0;
    s.run_to_end(&mut |p| {
        p.coordinates_into(&mut cur);
        let moves: Vec<f64> = cur.iter().zip(&prev).map(|(a, b)| a - b).collect();
        for i in 0..n {
            for j in 0..i {
                let m2: f64 = (0..d)
                    .map(|k| (moves[i * d + k] - moves[j * d + k]).powi(2))
                    .sum();
                widest = widest.max(m2.sqrt());
            }
        }
        prev.copy_from_slice(&cur);
        ControlFlow::Continue(())
    })
    .unwrap();
    let y = s.coordinates();
    let apart = (0..pairs)
        .map(|k| {
            let (a, b) = (k * n / pairs, k * n / pairs + 1);
            (0..d)
                .map(|t| (y[a * d + t] - y[b * d + t]).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .fold(0.0, f64::max);
    (widest, apart)
}

#[test]
fn bounded_steps_keep_heavy_pairs_together() {
    let (n, pairs) = (300, 5);
    let g = pairs_graph(n, pairs);
    for d in 1..=3 {
        let bound = 5.0;
        let (widest, apart) = run(d, bound, &g, pairs);
        // Two vertices' moves differ by at most twice the bound.
        assert!(widest <= 2.0 * bound * (1.0 + 1e-12), "d={d}: {widest}");
        let (free_widest, free_apart) = run(d, 0.0, &g, pairs);
        assert!(free_widest > 4.0 * bound, "d={d}: unbounded {free_widest}");
        // Unbounded, the same run takes far longer steps and its pairs end
        // thousands of units apart; bounded, a pair still oscillates, but
        // within a few bounds of each other (measured 9 to 13).
        assert!(
            apart < 3.0 * bound && apart < 0.02 * free_apart,
            "d={d}: pairs {apart} apart, {free_apart} unbounded"
        );
    }
}

#[test]
fn a_bound_that_never_binds_changes_no_bits() {
    let g = common::random_graph(400, 3, 8, 5);
    for d in 1..=3 {
        let go = |m: f64| {
            let mut s = Embedder::new(d)
                .max_iter(300)
                .max_step(m)
                .session(&g, None)
                .unwrap();
            s.run_to_end(&mut |_| ControlFlow::Continue(())).unwrap();
            s.coordinates()
        };
        assert_eq!(go(0.0), go(1e300), "d={d}");
    }
}

#[test]
fn bad_bounds_are_refused_by_name() {
    for bad in [-1.0, f64::NAN, f64::INFINITY] {
        let e = Embedder::new(2).max_step(bad).plan(10).unwrap_err();
        assert!(e.to_string().contains("max_step"), "{e}");
    }
}

/// The first evaluation at which the session reports a rising cost, and
/// the last cost, for a run of `e` on a kNN-like graph.
/// (the iteration a rise was first reported, (where it began, the cost there)).
type Rise = Option<(usize, (usize, f64))>;

fn first_rise(e: Embedder, g: &StochasticGraph) -> (Rise, f64) {
    let mut s = e
        .repulsion(RepulsionKind::Exact)
        .init(Init::Random)
        .session(g, None)
        .unwrap();
    let mut first = None;
    let mut last = 0.0;
    s.run_to_end(&mut |p| {
        if let Some(kl) = p.kl {
            last = kl;
        }
        if let (None, Some(r)) = (first, p.rising) {
            first = Some((p.iter, r));
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    (first, last)
}

#[test]
fn a_rising_cost_is_reported_after_the_early_phase_only() {
    // On the shipped example, a step 20 times the automatic one makes the
    // cost climb from iteration 300 to 450 (measured 5.50 -> 6.45).
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example-knn.mtx.gz");
    let coo = sgtsne::io::mtx::read_matrix_market(&example).unwrap();
    let g = StochasticGraph::from_coo(&coo, 1.0).unwrap().0;
    let wild = Embedder::new(2)
        .max_iter(460)
        .max_step(0.0)
        .eta(sgtsne::Eta::Fixed(40_000.0));
    let (rise, _) = first_rise(wild, &g);
    let (at, (from, kl0)) = rise.expect("a rising cost is reported");
    assert!(
        from >= 250 && at >= from + 150,
        "reported at {at}, from {from}"
    );
    assert!(kl0.is_finite());
    // The default run falls after the early phase: nothing is reported.
    let (rise, kl) = first_rise(Embedder::new(2).max_iter(460), &g);
    assert_eq!(rise, None, "final KL {kl}");
}
