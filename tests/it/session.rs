//! The library's entry point: plans, sessions run in pieces, stopping from
//! the callback, starting coordinates, and errors that name parameters.

use crate::common;

use std::ops::ControlFlow;

use sgtsne::graph::StochasticGraph;
use sgtsne::repulse::RepulsionKind;
use sgtsne::{Embedder, Error, Eta, RunStatus};

fn go(_: &sgtsne::Progress) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// A graph large enough for the grid engine to run on its own (N > 1000)
/// when `grid`, else a small one for the exact engine.
fn graph(grid: bool, seed: u64) -> StochasticGraph {
    common::random_graph(if grid { 1500 } else { 300 }, 3, 8, seed)
}

/// Runs of 60 + 90 + 150 iterations (the first split inside the early
/// exaggeration of 100 iterations, a cost evaluation in between) equal one
/// run of 300, bit for bit, for both engines in every dimension.
#[test]
fn a_session_run_in_pieces_equals_one_run() {
    for grid in [false, true] {
        let g = graph(grid, 11);
        for dim in 1..=3 {
            let e = Embedder::new(dim).seed(3).early_iter(100).max_iter(300);
            let once = e.embed(&g).unwrap();
            let mut s = e.session(&g, None).unwrap();
            assert_eq!(s.run(60, &mut go).unwrap(), RunStatus::Completed);
            let mid = s.result().unwrap();
            assert_eq!(mid.iterations, 60);
            s.run(90, &mut go).unwrap();
            s.run_to_end(&mut go).unwrap();
            let pieces = s.result().unwrap();
            assert_eq!(pieces.iterations, 300);
            assert_eq!(
                pieces.coords, once.coords,
                "dim {dim}, grid {grid}: pieces differ from one run"
            );
            assert_eq!(pieces.kl.to_bits(), once.kl.to_bits());
            // Nothing more to do once max_iter is reached.
            s.run_to_end(&mut go).unwrap();
            assert_eq!(s.iterations(), 300);
        }
    }
}

/// A callback that breaks at iteration k stops the run right after it,
/// and the session holds exactly the coordinates of a k-iteration run;
/// the progress it saw carried those coordinates.
#[test]
fn stopping_from_the_callback_keeps_the_coordinates_so_far() {
    for dim in 1..=3 {
        let g = graph(true, 5);
        let e = Embedder::new(dim).seed(9).max_iter(200);
        let k = 37;
        let mut seen = Vec::new();
        let mut calls = 0;
        let mut s = e.session(&g, None).unwrap();
        let status = s
            .run_to_end(&mut |p| {
                calls += 1;
                if p.iter == k {
                    seen = p.coordinates();
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        assert_eq!(status, RunStatus::Stopped);
        assert_eq!((calls, s.iterations()), (k, k));
        let want = e.clone().max_iter(k).embed(&g).unwrap();
        assert_eq!(s.coordinates(), want.coords.as_slice());
        assert_eq!(seen, want.coords.as_slice());
        // And it can go on to the end: the same as an uninterrupted run.
        s.run_to_end(&mut go).unwrap();
        assert_eq!(s.result().unwrap().coords, e.embed(&g).unwrap().coords);
    }
}

/// Given coordinates land on their vertices (input order), whatever the
/// vertex ordering used inside.
#[test]
fn initial_coordinates_are_in_input_order() {
    let g = graph(true, 2);
    let n = g.n();
    for dim in 1..=3 {
        let init: Vec<f64> = (0..n * dim).map(|v| v as f64 * 1e-3).collect();
        let s = Embedder::new(dim).session(&g, Some(&init)).unwrap();
        assert_eq!(s.coordinates(), init);
        let bad = Embedder::new(dim).session(&g, Some(&init[1..]));
        assert!(matches!(bad, Err(Error::Input(_))));
    }
}

/// `auto` is resolved once, by the rules documented on the settings.
#[test]
fn the_plan_resolves_every_auto() {
    let p = Embedder::new(3).plan(50_000).unwrap();
    assert_eq!(p.eta, 50_000.0 / 12.0);
    assert_eq!(p.repulsion, RepulsionKind::Grid);
    assert_eq!(p.grid_h, sgtsne::defaults::grid_h(3));
    assert_eq!(p.block_size, Some(sgtsne::csb::block_size(50_000, 3)));
    let p = Embedder::new(1).plan(600).unwrap();
    assert_eq!((p.eta, p.repulsion), (200.0, RepulsionKind::Exact));
    let p = Embedder::new(2)
        .eta(Eta::Fixed(50.0))
        .grid_h(Some(0.3))
        .plan(600)
        .unwrap();
    assert_eq!((p.eta, p.grid_h), (50.0, 0.3));
}

/// Bad settings are refused before any work, naming the parameter.
#[test]
fn bad_settings_name_their_parameter() {
    let cases: Vec<(Embedder, &str)> = vec![
        (Embedder::new(0), "dim"),
        (Embedder::new(4), "dim"),
        (Embedder::new(2).alpha(0.0), "alpha"),
        (Embedder::new(2).eta(Eta::Fixed(-1.0)), "eta"),
        (Embedder::new(2).grid_h(Some(11.0)), "grid_h"),
        (Embedder::new(2).momentum(Some(1.0)), "momentum"),
        (Embedder::new(2).max_iter(usize::MAX), "max_iter"),
        (Embedder::new(2).report_every(0), "report_every"),
    ];
    for (e, want) in cases {
        match e.plan(100) {
            Err(Error::Param { name, msg }) => {
                assert_eq!(name, want, "{msg}");
                assert!(!msg.contains("--"), "a flag in a library error: {msg}");
            }
            other => panic!("{want}: expected a parameter error, got {other:?}"),
        }
    }
}
