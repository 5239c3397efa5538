//! The exact objective: the gradient against finite differences of the KL,
//! and the O(nnz) KL against a direct computation with the full Q.

use crate::common;

use sgtsne::attract::{Attraction, CsrAttraction};
use sgtsne::graph::StochasticGraph;
use sgtsne::optimize::exact_kl;
use sgtsne::repulse::exact_repulsion;

/// KL(P‖Q) computed directly from dense P and Q.
fn direct_kl<const D: usize>(g: &StochasticGraph, y: &[[f64; D]]) -> f64 {
    let n = g.n();
    let mut z = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                z += 1.0 / (1.0 + sgtsne::util::dist2(&y[i], &y[j]));
            }
        }
    }
    let mut kl = 0.0;
    for i in 0..n {
        let (c, v) = g.row(i);
        for (&j, &p) in c.iter().zip(v) {
            let q = 1.0 / (1.0 + sgtsne::util::dist2(&y[i], &y[j as usize])) / z;
            kl += p * (p / q).ln();
        }
    }
    kl
}

fn check<const D: usize>(seed: u64) {
    let n = 60;
    let g = common::random_graph(n, 1, 6, seed);
    let y = common::random_points::<D>(n, 1.5, seed + 100);
    let kl = exact_kl(&g, &y);
    let direct = direct_kl(&g, &y);
    assert!(
        (kl - direct).abs() <= 1e-12 * direct.abs().max(1.0),
        "KL {kl} vs direct {direct}"
    );

    // Gradient of SPEC §4 (α = 1) is ¼ ∂KL/∂y.
    let mut attr = vec![[0.0; D]; n];
    let mut rep = vec![[0.0; D]; n];
    Attraction::<D>::forces(&mut CsrAttraction::new(&g), &y, &mut attr);
    let z = exact_repulsion(&y, &mut rep);
    let eps = 1e-6;
    let mut worst: f64 = 0.0;
    for i in 0..n {
        for d in 0..D {
            let mut yp = y.clone();
            yp[i][d] += eps;
            let mut ym = y.clone();
            ym[i][d] -= eps;
            let fd = (exact_kl(&g, &yp) - exact_kl(&g, &ym)) / (2.0 * eps);
            let analytic = 4.0 * (attr[i][d] - rep[i][d] / z);
            let err = (fd - analytic).abs();
            worst = worst.max(err / (analytic.abs() + 1e-6));
            assert!(
                err <= 1e-6 * (1.0 + analytic.abs()),
                "d={D} i={i} k={d}: fd {fd} vs {analytic}"
            );
        }
    }
    assert!(worst < 1e-3, "worst relative gradient error {worst}");
}

#[test]
fn gradient_matches_finite_differences_1d() {
    check::<1>(1);
}

#[test]
fn gradient_matches_finite_differences_2d() {
    check::<2>(2);
}

#[test]
fn gradient_matches_finite_differences_3d() {
    check::<3>(3);
}
