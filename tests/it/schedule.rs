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
