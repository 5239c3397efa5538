//! The heavy-tailed kernel w = (1 + d²/ν)^(−ν) (SPEC §11) in every engine,
//! for ν ∈ {0.5, 1, 100} and d = 1, 2, 3: the KL against a dense direct
//! computation, the gradient against finite differences of it, the CSB
//! attraction against the plain rows, and the grid against the exact sums
//! within SPEC §6's tolerances.

use crate::common;

use sgtsne::attract::{Attraction, CsrAttraction};
use sgtsne::csb::CsbAttraction;
use sgtsne::graph::StochasticGraph;
use sgtsne::kernel::Kernel;
use sgtsne::optimize::exact_kl_kernel;
use sgtsne::repulse::{exact_repulsion_kernel, GridRepulsion, Repulsion};
use sgtsne::util::dist2;

const DOFS: [f64; 3] = [0.5, 1.0, 100.0];

/// KL(P‖Q) from dense P and Q, the kernel written out independently.
fn direct_kl<const D: usize>(g: &StochasticGraph, y: &[[f64; D]], nu: f64) -> f64 {
    let w = |a: &[f64; D], b: &[f64; D]| (1.0 + dist2(a, b) / nu).powf(-nu);
    let n = g.n();
    let mut z = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                z += w(&y[i], &y[j]);
            }
        }
    }
    let mut kl = 0.0;
    for i in 0..n {
        let (c, v) = g.row(i);
        for (&j, &p) in c.iter().zip(v) {
            kl += p * (p / (w(&y[i], &y[j as usize]) / z)).ln();
        }
    }
    kl
}

fn gradient_check<const D: usize>(nu: f64, seed: u64) {
    let n = 50;
    let kernel = Kernel::try_new(nu).unwrap();
    let g = common::random_graph(n, 1, 6, seed);
    let y = common::random_points::<D>(n, 1.5, seed + 100);
    let kl = exact_kl_kernel(&g, &y, kernel);
    let direct = direct_kl(&g, &y, nu);
    assert!(
        (kl - direct).abs() <= 1e-11 * direct.abs().max(1.0),
        "nu={nu} d={D}: KL {kl} vs direct {direct}"
    );
    // SPEC §11's gradient (α = 1) is ¼ ∂KL/∂y.
    let mut attr = vec![[0.0; D]; n];
    let mut rep = vec![[0.0; D]; n];
    Attraction::<D>::forces(
        &mut CsrAttraction::new(&g).with_kernel(kernel),
        &y,
        &mut attr,
    );
    let z = exact_repulsion_kernel(&y, &mut rep, kernel);
    let eps = 1e-6;
    for i in 0..n {
        for d in 0..D {
            let mut yp = y.clone();
            yp[i][d] += eps;
            let mut ym = y.clone();
            ym[i][d] -= eps;
            let fd = (direct_kl(&g, &yp, nu) - direct_kl(&g, &ym, nu)) / (2.0 * eps);
            let analytic = 4.0 * (attr[i][d] - rep[i][d] / z);
            assert!(
                (fd - analytic).abs() <= 1e-6 * (1.0 + analytic.abs()),
                "nu={nu} d={D} i={i} k={d}: finite difference {fd} vs gradient {analytic}"
            );
        }
    }
}

#[test]
fn gradient_matches_finite_differences_for_every_dof() {
    for (k, &nu) in DOFS.iter().enumerate() {
        gradient_check::<1>(nu, 10 + k as u64);
        gradient_check::<2>(nu, 20 + k as u64);
        gradient_check::<3>(nu, 30 + k as u64);
    }
}

fn csb_check<const D: usize>(nu: f64, seed: u64) {
    let n = 700;
    let kernel = Kernel::try_new(nu).unwrap();
    let g = common::random_graph(n, 2, 9, seed);
    let y = common::random_points::<D>(n, 3.0, seed + 1);
    let mut a = vec![[0.0; D]; n];
    let mut b = vec![[0.0; D]; n];
    let mut csr = CsrAttraction::new(&g).with_kernel(kernel);
    let mut csb = CsbAttraction::with_beta(&g, 64).with_kernel(kernel);
    Attraction::<D>::forces(&mut csr, &y, &mut a);
    Attraction::<D>::forces(&mut csb, &y, &mut b);
    for i in 0..n {
        for d in 0..D {
            assert!(
                (a[i][d] - b[i][d]).abs() <= 1e-10,
                "nu={nu} d={D}: CSB {} vs CSR {} at {i}",
                b[i][d],
                a[i][d]
            );
        }
    }
    let (ka, kb) = (
        Attraction::<D>::kl_part(&csr, &y),
        Attraction::<D>::kl_part(&csb, &y),
    );
    assert!(
        (ka - kb).abs() <= 1e-10 * ka.abs().max(1.0),
        "nu={nu}: {ka} vs {kb}"
    );
}

#[test]
fn csb_attraction_matches_rows_for_every_dof() {
    for (k, &nu) in DOFS.iter().enumerate() {
        csb_check::<1>(nu, 40 + k as u64);
        csb_check::<2>(nu, 50 + k as u64);
        csb_check::<3>(nu, 60 + k as u64);
    }
}

fn grid_check<const D: usize>(nu: f64, n: usize, gap: bool, h: f64, seed: u64) {
    let kernel = Kernel::try_new(nu).unwrap();
    let y = common::spec_layout::<D>(n, gap, seed);
    let mut exact = vec![[0.0; D]; n];
    let z = exact_repulsion_kernel(&y, &mut exact, kernel);
    // The spacing is in units of the kernel's width, √ν below ν = 1, as
    // the engine's default (defaults::grid_h_for) sets it.
    let h = h * nu.sqrt().min(1.0);
    let mut grid = GridRepulsion::<D>::new(h).with_kernel(kernel);
    let mut approx = vec![[0.0; D]; n];
    let zt = grid.compute(&y, &mut approx);
    let zerr = (z - zt).abs() / z;
    let mut worst: f64 = 0.0;
    for i in 0..n {
        for d in 0..D {
            worst = worst.max((exact[i][d] / z - approx[i][d] / zt).abs());
        }
    }
    eprintln!(
        "nu={nu} d={D} n={n} gap={gap} h={h}: Z rel err {zerr:.2e}, max force err {worst:.2e}"
    );
    assert!(
        zerr <= 1e-4,
        "nu={nu} d={D} n={n} gap={gap} h={h}: |Z − Z̃|/Z = {zerr}"
    );
    assert!(
        worst <= 1e-7,
        "nu={nu} d={D} n={n} gap={gap} h={h}: max force error {worst:e}"
    );
}

fn grid_cases<const D: usize>() {
    for (k, &nu) in DOFS.iter().enumerate() {
        for (c, (n, h)) in [(1000, 0.05), (2000, 0.13)].into_iter().enumerate() {
            grid_check::<D>(nu, n, c == 1, h, (10 * k + c) as u64);
        }
    }
}

#[test]
fn grid_matches_exact_for_every_dof_1d() {
    grid_cases::<1>();
}

#[test]
fn grid_matches_exact_for_every_dof_2d() {
    grid_cases::<2>();
}

#[test]
fn grid_matches_exact_for_every_dof_3d() {
    grid_cases::<3>();
}

#[test]
fn dof_is_checked() {
    for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e7] {
        assert!(Kernel::try_new(bad).is_err(), "dof {bad} accepted");
        let e = sgtsne::Embedder::new(2).dof(bad).plan(10).unwrap_err();
        assert!(e.to_string().contains("dof"), "{e}");
    }
}

#[test]
fn kernel_transforms_are_cached_per_dof() {
    // One engine first used with ν = 1, then given ν = 0.5: its cached
    // transform must not be reused for the new kernel.
    let y = common::spec_layout::<2>(1500, false, 3);
    let half = Kernel::try_new(0.5).unwrap();
    let mut reused = GridRepulsion::<2>::new(0.02);
    let mut out = vec![[0.0; 2]; y.len()];
    reused.compute(&y, &mut out);
    let mut reused = reused.with_kernel(half);
    let z1 = reused.compute(&y, &mut out);
    let mut fresh = GridRepulsion::<2>::new(0.02).with_kernel(half);
    let mut out2 = vec![[0.0; 2]; y.len()];
    let z2 = fresh.compute(&y, &mut out2);
    assert_eq!(z1, z2);
    assert_eq!(out, out2);
}
