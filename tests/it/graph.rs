//! Graph preparation: cleaning, normalisation, λ-rescaling, symmetrisation.

use crate::common;

use sgtsne::graph::{
    lambda_rescale, normalize_columns, solve_sigma, symmetrize, Coo, Csc, StochasticGraph,
};
use sgtsne::util::Rng;

#[test]
fn duplicates_summed_zeros_and_diagonal_dropped() {
    let coo = Coo {
        n: 3,
        rows: vec![1, 1, 0, 2, 2],
        cols: vec![0, 0, 0, 1, 2],
        vals: vec![0.25, 0.5, 9.0, 0.0, 4.0],
    };
    let m = Csc::from_coo(&coo);
    assert_eq!(m.colptr, vec![0, 1, 1, 1]);
    assert_eq!(m.rowidx, vec![1]);
    assert_eq!(m.vals, vec![0.75]);
}

#[test]
fn normalisation_counts_stochastic_and_empty_columns() {
    let coo = Coo {
        n: 4,
        rows: vec![1, 2, 0, 3, 0],
        cols: vec![0, 0, 1, 1, 2],
        vals: vec![0.5, 0.5, 2.0, 6.0, 0.3],
    };
    let mut m = Csc::from_coo(&coo);
    let s = normalize_columns(&mut m);
    assert_eq!(s.already_stochastic, 1);
    assert_eq!(s.empty_columns, 1);
    for j in 0..3 {
        let sum: f64 = m.col(j).1.iter().sum();
        assert!((sum - 1.0).abs() < 1e-15);
    }
    assert_eq!(m.col(1).1, &[0.25, 0.75]);
}

#[test]
fn sigma_hits_lambda_on_random_columns() {
    let mut rng = Rng::new(3);
    for trial in 0..300 {
        let k = 2 + rng.below(60);
        let mut p: Vec<f64> = (0..k).map(|_| rng.uniform().powi(3) + 1e-6).collect();
        let s: f64 = p.iter().sum();
        p.iter_mut().for_each(|x| *x /= s);
        // λ below and above the entry count (the latter needs σ < 0).
        let lambda = if trial % 3 == 0 {
            k as f64 * (1.0 + 2.0 * rng.uniform())
        } else {
            1.0 + rng.uniform() * (k as f64 - 1.0)
        };
        let sigma = solve_sigma(&p, lambda).expect("solvable");
        let total: f64 = p.iter().map(|x| x.powf(sigma)).sum();
        assert!(
            (total - lambda).abs() <= 1e-5,
            "trial {trial}: k={k} λ={lambda} σ={sigma} Σ={total}"
        );
        if lambda > k as f64 + 1e-3 {
            assert!(sigma < 0.0, "λ > k needs σ < 0");
        }
    }
}

#[test]
fn single_entry_column_is_left_alone_and_lambda_one_skips() {
    assert_eq!(solve_sigma(&[1.0], 10.0), None);
    let coo = Coo {
        n: 3,
        rows: vec![1, 0, 2],
        cols: vec![0, 1, 1],
        vals: vec![1.0, 0.2, 0.8],
    };
    let mut m = Csc::from_coo(&coo);
    normalize_columns(&mut m);
    let before = m.clone();
    assert_eq!(lambda_rescale(&mut m, 1.0), 0);
    assert_eq!(m, before);
    assert_eq!(lambda_rescale(&mut m, 1.5), 1);
    assert_eq!(m.col(0).1, &[1.0]);
    let c1 = m.col(1).1;
    assert!((c1.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    // 1 < λ = 1.5 < 2 entries needs 0 < σ < 1: the column becomes flatter.
    assert!(c1[1] < 0.8 && c1[1] > 0.5, "{c1:?}");
}

#[test]
fn symmetrised_matrix_is_symmetric_with_unit_sum() {
    let coo = common::random_coo(500, 1, 9, 17);
    let mut m = Csc::from_coo(&coo);
    normalize_columns(&mut m);
    let p = symmetrize(&m);
    let total: f64 = p.vals.iter().sum();
    assert!((total - 1.0).abs() < 1e-12);
    let t = p.transpose();
    assert_eq!(t, p, "P must equal its transpose bit for bit");
    // Entry (i, j) is (p(i|j) + p(j|i)) / total before division: check one.
    let (rows, vals) = m.col(0);
    let tot: f64 = m.vals.iter().sum::<f64>() * 2.0;
    for (&i, &v) in rows.iter().zip(vals) {
        let back = m.col(i as usize);
        let rev = back
            .0
            .iter()
            .position(|&r| r == 0)
            .map_or(0.0, |k| back.1[k]);
        let (pr, pv) = p.col(0);
        let got = pv[pr.iter().position(|&r| r == i).unwrap()];
        assert!((got - (v + rev) / tot).abs() < 1e-15);
    }
}

#[test]
fn prepared_graph_reports_isolated_vertices() {
    let coo = Coo {
        n: 5,
        rows: vec![1, 0, 3],
        cols: vec![0, 1, 1],
        vals: vec![1.0, 1.0, 3.0],
    };
    let (g, r) = StochasticGraph::from_coo(&coo, 1.0).unwrap();
    assert_eq!(r.isolated, 2); // vertices 2 and 4
    assert_eq!(r.already_stochastic, 1);
    assert_eq!(g.n(), 5);
    assert!((g.vals().iter().sum::<f64>() - 1.0).abs() < 1e-15);
    assert!(StochasticGraph::from_coo(&coo, -1.0).is_err());
    assert!(StochasticGraph::from_coo(&coo, f64::NAN).is_err());
}

#[test]
fn checked_constructor_rejects_invalid_arrays() {
    let ok = StochasticGraph::try_from_csr(2, vec![0, 1, 2], vec![1, 0], vec![0.5, 0.5]);
    assert!(ok.is_ok());
    assert!(StochasticGraph::try_from_csr(2, vec![0, 1, 2], vec![1, 0], vec![0.4, 0.6]).is_err());
    assert!(StochasticGraph::try_from_csr(2, vec![0, 1, 2], vec![0, 1], vec![0.5, 0.5]).is_err());
    assert!(StochasticGraph::try_from_csr(2, vec![0, 2, 2], vec![1, 1], vec![0.5, 0.5]).is_err());
    assert!(StochasticGraph::try_from_csr(2, vec![0, 1, 2], vec![1, 0], vec![1.0, 0.0]).is_err());
}

/// Weights at the ends of the f64 range give the P of ordinary weights in
/// the same proportions: subnormal entries, sums past the overflow
/// threshold (duplicates), and 1e300 beside 1e-300 under λ-rescaling.
#[test]
fn extreme_weights_give_the_p_of_ordinary_ones() {
    let mut rng = Rng::new(11);
    let n = 12;
    let mut base = Coo {
        n,
        rows: vec![],
        cols: vec![],
        vals: vec![],
    };
    for j in 0..n {
        for t in 1..4 {
            base.rows.push(((j + t * 5) % n) as u32);
            base.cols.push(j as u32);
            base.vals.push(0.5 + rng.uniform());
        }
    }
    let scaled = |f: &dyn Fn(usize, f64) -> f64| Coo {
        vals: (0..base.vals.len()).map(|k| f(k, base.vals[k])).collect(),
        ..base.clone()
    };
    // Column 0 (entries 0..3) scaled into the subnormal range; column 1
    // (entries 3..6) to just below the overflow threshold; every entry
    // of column 2 stored as two halves of a value near f64::MAX.
    let tiny = scaled(&|k, v| if k < 3 { v * 1e-310 } else { v });
    let huge = scaled(&|k, v| if (3..6).contains(&k) { v * 1e308 } else { v });
    let mut dup = scaled(&|k, v| if (6..9).contains(&k) { v * 1e308 } else { v });
    for k in 6..9 {
        dup.rows.push(base.rows[k]);
        dup.cols.push(base.cols[k]);
        dup.vals.push(base.vals[k] * 1e308);
    }
    for lambda in [1.0, 10.0] {
        let (want, _) = StochasticGraph::from_coo(&base, lambda).unwrap();
        for (name, coo) in [("tiny", &tiny), ("huge", &huge), ("dup", &dup)] {
            let (got, _) = StochasticGraph::from_coo(coo, lambda).unwrap();
            assert_eq!(got.colidx(), want.colidx(), "{name}");
            for (a, b) in got.vals().iter().zip(want.vals()) {
                assert!((a - b).abs() <= 1e-9 * b, "{name} λ={lambda}: {a} vs {b}");
            }
        }
    }
    // A column holding 1e300 and 1e-300: finite, symmetric, ΣP = 1.
    let wide = scaled(&|k, v| match k {
        0 => 1e300,
        1 => 1e-300,
        _ => v,
    });
    for lambda in [1.0, 10.0] {
        let (g, _) = StochasticGraph::from_coo(&wide, lambda).unwrap();
        assert!(g.vals().iter().all(|v| v.is_finite() && *v >= 0.0));
        assert!((g.vals().iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}
