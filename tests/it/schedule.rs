//! Exaggeration schedules (SPEC §11): the plan's phases and steps, and
//! the schedule visible in the per-iteration cost.

use crate::common;

use std::ops::ControlFlow;

use sgtsne::{Embedder, Eta, Init};

#[test]
fn phases_and_automatic_steps() {
    let e = Embedder::new(2)
        .exaggeration(3.0)
        .late_exaggeration(Some(5.0))
        .late_start(Some(600));
    let p = e.plan(24_000).unwrap();
    assert_eq!(p.exaggeration_at(0), 12.0);
    assert_eq!(p.exaggeration_at(249), 12.0);
    assert_eq!(p.exaggeration_at(250), 3.0);
    assert_eq!(p.exaggeration_at(599), 3.0);
    assert_eq!(p.exaggeration_at(600), 5.0);
    assert_eq!(p.eta_at(0), 2000.0);
    assert_eq!(p.eta_at(300), 8000.0);
    assert_eq!(p.eta_at(700), 4800.0);
    assert_eq!(
        p.phases(),
        vec![(0, 12.0, 2000.0), (250, 3.0, 8000.0), (600, 5.0, 4800.0)]
    );
    // Small N: the floor of 200; a fixed step stays fixed.
    assert_eq!(Embedder::new(2).plan(500).unwrap().eta_at(300), 500.0);
    assert_eq!(Embedder::new(2).plan(100).unwrap().eta_at(0), 200.0);
    let fixed = Embedder::new(2)
        .eta(Eta::Fixed(77.0))
        .exaggeration(4.0)
        .plan(9000)
        .unwrap();
    assert_eq!((fixed.eta_at(0), fixed.eta_at(900)), (77.0, 77.0));
    // The late phase without its factor is refused.
    let err = Embedder::new(2).late_start(Some(5)).plan(10).unwrap_err();
    assert!(err.to_string().contains("late_exaggeration"), "{err}");
    for bad in [0.0, -2.0, f64::NAN] {
        assert!(Embedder::new(2).exaggeration(bad).plan(10).is_err());
        assert!(Embedder::new(2)
            .late_exaggeration(Some(bad))
            .plan(10)
            .is_err());
    }
}

/// The KL after every iteration of a run of `e` on a fixed graph.
fn costs(e: Embedder) -> Vec<f64> {
    let g = common::random_graph(400, 3, 8, 5);
    let mut s = e
        .report_every(1)
        .init(Init::Random)
        .session(&g, None)
        .unwrap();
    let mut out = Vec::new();
    s.run_to_end(&mut |p| {
        out.push(p.kl.unwrap());
        ControlFlow::Continue(())
    })
    .unwrap();
    out
}

#[test]
fn exaggeration_shows_in_the_cost() {
    let base = Embedder::new(2).max_iter(400).early_iter(100).seed(3);
    let plain = costs(base.clone());
    let late = costs(
        base.clone()
            .late_exaggeration(Some(4.0))
            .late_start(Some(300)),
    );
    let constant = costs(base.exaggeration(4.0));
    // The same bits until the schedules part...
    assert_eq!(plain[..301], late[..301]);
    assert_eq!(plain[..101], constant[..101]);
    // ...then exaggeration pulls neighbours together, which Q (without
    // the factor) pays for: the cost rises over the plain run's.
    for (name, run, from) in [("late", &late, 300), ("constant", &constant, 100)] {
        assert_ne!(
            plain[from + 1],
            run[from + 1],
            "{name}: no change at the switch"
        );
        let gap = run[from + 60] - plain[from + 60];
        assert!(
            gap > 0.01,
            "{name}: KL {} against the plain run's {}",
            run[from + 60],
            plain[from + 60]
        );
    }
}

/// The early momentum: auto is 0.8 for points and 0.5 for a graph; a given
/// value holds for both; a model keeps the value its run used, so a
/// graph run saved with a points source resumes with the graph's.
#[test]
fn early_momentum_follows_the_input_unless_given() {
    use sgtsne::defaults::{FINAL_MOMENTUM, MOMENTUM, MOMENTUM_POINTS};
    let e = Embedder::new(2);
    assert_eq!(e.plan(5000).unwrap().momentum, MOMENTUM);
    assert_eq!(e.plan_points(5000).unwrap().momentum, MOMENTUM_POINTS);
    assert_ne!(MOMENTUM, MOMENTUM_POINTS);
    for m in [0.0, 0.3, 0.9] {
        let g = Embedder::new(2).momentum(Some(m));
        assert_eq!(g.plan(5000).unwrap().momentum, m);
        assert_eq!(g.plan_points(5000).unwrap().momentum, m);
        assert_eq!(g.plan_points(5000).unwrap().final_momentum, FINAL_MOMENTUM);
    }
    assert!(Embedder::new(2).momentum(Some(1.0)).plan(10).is_err());

    let mut rng = sgtsne::util::Rng::new(4);
    let pts = sgtsne::points::Points::try_new(
        400,
        4,
        (0..1600)
            .map(|k| rng.normal() + (k / 4 % 3) as f64 * 6.0)
            .collect(),
    )
    .unwrap();
    let mut aff = sgtsne::affinity::Affinities::default()
        .perplexity(10.0)
        .graph(&pts, &mut |_| {})
        .unwrap();
    let (graph, _) = sgtsne::graph::StochasticGraph::from_coo(&aff.coo, 1.0).unwrap();
    let source = sgtsne::model::Source::from_points(pts.clone(), &mut aff);
    for points in [false, true] {
        let e = Embedder::new(2).max_iter(40).early_iter(30);
        let mut s = if points {
            e.session_points(&graph, &pts, None).unwrap()
        } else {
            e.session(&graph, None).unwrap()
        };
        let used = s.plan().momentum;
        assert_eq!(used, if points { MOMENTUM_POINTS } else { MOMENTUM });
        s.run(20, &mut |_| ControlFlow::Continue(())).unwrap();
        let m = sgtsne::Model::new(&e, &graph, &mut s, source.clone()).unwrap();
        let bytes = m.to_bytes().unwrap();
        let back = sgtsne::Model::from_bytes(&bytes, std::path::Path::new("m.npz")).unwrap();
        assert_eq!(back.plan().unwrap().momentum, used, "points run: {points}");
        let mut resumed = back.resume().unwrap();
        assert_eq!(resumed.plan().momentum, used);
        resumed
            .run_to_end(&mut |_| ControlFlow::Continue(()))
            .unwrap();
        s.run_to_end(&mut |_| ControlFlow::Continue(())).unwrap();
        assert_eq!(
            resumed.result().unwrap().coords.as_slice(),
            s.result().unwrap().coords.as_slice(),
            "points run: {points}"
        );
    }
}
