//! Compressed sparse blocks against the plain CSR product; orderings.

use crate::common;

use sgtsne::attract::{Attraction, CsrAttraction};
use sgtsne::csb::{block_size, CsbAttraction};
use sgtsne::graph::{Coo, StochasticGraph};
use sgtsne::order::{self, Permutation, VertexOrder};

/// The largest coordinate difference between two force arrays.
fn max_abs_diff<const D: usize>(a: &[[f64; D]], b: &[[f64; D]]) -> f64 {
    a.iter()
        .zip(b)
        .flat_map(|(u, v)| (0..D).map(move |d| (u[d] - v[d]).abs()))
        .fold(0.0f64, f64::max)
}

fn check<const D: usize>(g: &StochasticGraph, seed: u64) {
    let n = g.n();
    let y = common::random_points::<D>(n, 3.0, seed);
    let mut a = vec![[0.0; D]; n];
    let mut b = vec![[0.0; D]; n];
    CsrAttraction::new(g).forces(&y, &mut a);
    for beta in [16, 64, block_size(n, D)] {
        let mut csb = CsbAttraction::with_beta(g, beta);
        csb.forces(&y, &mut b);
        let worst = max_abs_diff(&a, &b);
        assert!(worst <= 1e-10, "n={n} d={D} beta={beta}: {worst:e}");
        let ka = Attraction::<D>::kl_part(&CsrAttraction::new(g), &y);
        let kb = Attraction::<D>::kl_part(&csb, &y);
        assert!((ka - kb).abs() <= 1e-10 * ka.abs().max(1.0));
    }
}

/// Random graphs with 2–11 entries per column plus empty rows/columns (the
/// last 7 vertices have no edges); N not a multiple of β.
fn graph(n: usize, seed: u64) -> StochasticGraph {
    let mut coo = common::random_coo(n - 7, 2, 11, seed);
    coo.n = n;
    StochasticGraph::from_coo(&coo, 1.0).unwrap().0
}

#[test]
fn csb_equals_csr() {
    for (k, n) in [1000, 2000, 3000].into_iter().enumerate() {
        let g = graph(n, k as u64);
        check::<1>(&g, 1);
        check::<2>(&g, 2);
        check::<3>(&g, 3);
        for how in [VertexOrder::Metis, VertexOrder::Rcm] {
            let p = order::compute(&g, how).unwrap();
            let gp = p.permute_graph(&g);
            check::<2>(&gp, 4);
        }
    }
}

/// The blocks built straight from `g` under `p` against the plain CSR
/// product of the permuted copy, and bit for bit against the blocks of the
/// copy.
fn check_permuted<const D: usize>(g: &StochasticGraph, p: &Permutation, seed: u64) {
    let n = g.n();
    let gp = p.permute_graph(g);
    let y = common::random_points::<D>(n, 3.0, seed);
    let mut want = vec![[0.0; D]; n];
    CsrAttraction::new(&gp).forces(&y, &mut want);
    for beta in [16, 128, block_size(n, D)] {
        let mut direct = CsbAttraction::with_beta_permuted(g, p, beta);
        let mut copied = CsbAttraction::with_beta(&gp, beta);
        assert_eq!(direct.csb().nnz(), copied.csb().nnz());
        assert_eq!(direct.csb().blocks(), copied.csb().blocks());
        let (mut a, mut b) = (vec![[0.0; D]; n], vec![[0.0; D]; n]);
        direct.forces(&y, &mut a);
        copied.forces(&y, &mut b);
        assert_eq!(
            a, b,
            "n={n} d={D} beta={beta}: differs from the copy's blocks"
        );
        let worst = max_abs_diff(&a, &want);
        assert!(worst <= 1e-10, "n={n} d={D} beta={beta}: {worst:e}");
    }
}

#[test]
fn csb_built_under_a_permutation_equals_the_permuted_copy() {
    for (k, n) in [1000, 2500].into_iter().enumerate() {
        let g = graph(n, 20 + k as u64);
        let mut rng = sgtsne::util::Rng::new(5 + k as u64);
        let mut shuffled: Vec<u32> = (0..n as u32).collect();
        for i in (1..n).rev() {
            shuffled.swap(i, rng.below(i + 1));
        }
        let random = Permutation::try_from_new_to_old(shuffled).unwrap();
        for p in [
            random,
            order::compute(&g, VertexOrder::Rcm).unwrap(),
            order::compute(&g, VertexOrder::Metis).unwrap(),
        ] {
            check_permuted::<1>(&g, &p, 1);
            check_permuted::<2>(&g, &p, 2);
            check_permuted::<3>(&g, &p, 3);
        }
    }
}

#[test]
fn orderings_are_permutations_and_round_trip() {
    let g = graph(1500, 9);
    for how in [VertexOrder::Metis, VertexOrder::Rcm, VertexOrder::Input] {
        let p = order::compute(&g, how).unwrap();
        assert_eq!(p.len(), 1500);
        let v: Vec<usize> = (0..1500).map(|i| i * 7).collect();
        assert_eq!(p.permute_out(&p.permute_in(&v)), v);
        for i in 0..1500 {
            assert_eq!(p.old_of(p.new_of(i)), i);
        }
        // The permuted graph has the same entries under the renaming.
        let gp = p.permute_graph(&g);
        for old in [0usize, 17, 1499] {
            let (c, v) = g.row(old);
            let (cp, vp) = gp.row(p.new_of(old));
            let mut mapped: Vec<(u32, f64)> = c
                .iter()
                .zip(v)
                .map(|(&c, &v)| (p.new_of(c as usize) as u32, v))
                .collect();
            mapped.sort_by_key(|x| x.0);
            let got: Vec<(u32, f64)> = cp.iter().copied().zip(vp.iter().copied()).collect();
            assert_eq!(mapped, got);
        }
    }
    assert!(Permutation::try_from_new_to_old(vec![0, 0, 1]).is_err());
}

#[test]
fn metis_handles_tiny_and_edgeless_graphs() {
    for n in [1usize, 2, 3, 10] {
        let coo = Coo {
            n,
            ..Default::default()
        };
        let (g, _) = StochasticGraph::from_coo(&coo, 1.0).unwrap();
        assert_eq!(order::compute(&g, VertexOrder::Metis).unwrap().len(), n);
    }
}

/// `auto` is METIS up to the threshold and RCM above (RCM at every size
/// without the metis feature), resolved once in the plan.
#[test]
fn auto_order_resolves_by_size() {
    let max = sgtsne::defaults::AUTO_METIS_MAX_N;
    let small = if cfg!(feature = "metis") {
        VertexOrder::Metis
    } else {
        VertexOrder::Rcm
    };
    assert_eq!(VertexOrder::Auto.resolve(max), small);
    assert_eq!(VertexOrder::Auto.resolve(max + 1), VertexOrder::Rcm);
    assert_eq!(VertexOrder::Rcm.resolve(10), VertexOrder::Rcm);
    assert_eq!("auto".parse::<VertexOrder>().unwrap(), VertexOrder::Auto);
    assert_eq!(VertexOrder::default(), VertexOrder::Auto);
    let e = sgtsne::Embedder::new(2);
    assert_eq!(e.plan(max + 1).unwrap().order, VertexOrder::Rcm);
    assert_eq!(e.plan(100).unwrap().order, small);
}
