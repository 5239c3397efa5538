//! Graph preparation (SPEC §1–3): clean the triplets, column-normalise,
//! λ-rescale, symmetrise. Each step is a pure function tested on its own.

mod lambda;
mod stochastic;
mod synthetic;

pub use lambda::{lambda_rescale, solve_sigma};
pub use stochastic::{check_lambda, PrepareReport, StochasticGraph};
pub use synthetic::synthetic_knn;

pub(crate) use crate::sparse::split_columns_mut;
pub use crate::sparse::{Coo, Csc};

use rayon::prelude::*;

/// Result of column normalisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NormalizeStats {
    /// Columns whose sum was already 1 within 1e-12.
    pub already_stochastic: usize,
    /// Columns with no entries (vertices with no out-edges).
    pub empty_columns: usize,
}

/// Divides every column with a positive sum by its sum, so columns hold
/// conditional probabilities p(i|j) (SPEC §1). The column is first divided
/// by its largest entry, so neither a sum near the overflow threshold nor a
/// subnormal sum (whose reciprocal is infinite) can spoil it.
pub fn normalize_columns(m: &mut Csc) -> NormalizeStats {
    let colptr = &m.colptr;
    let stats: Vec<(bool, bool)> = split_columns_mut(colptr, &mut m.vals)
        .into_par_iter()
        .map(|v| {
            if v.is_empty() {
                return (false, true);
            }
            let already = (v.iter().sum::<f64>() - 1.0).abs() <= 1e-12;
            let mx = v.iter().copied().fold(0.0, f64::max);
            if mx > 0.0 {
                v.iter_mut().for_each(|x| *x /= mx);
                let inv = 1.0 / v.iter().sum::<f64>();
                v.iter_mut().for_each(|x| *x *= inv);
            }
            (already, false)
        })
        .collect();
    NormalizeStats {
        already_stochastic: stats.iter().filter(|s| s.0).count(),
        empty_columns: stats.iter().filter(|s| s.1).count(),
    }
}

/// P ← P + Pᵀ over the union of both patterns, then P ← P / ΣP (SPEC §3).
/// The result is symmetric, so its CSC arrays are also its CSR arrays.
pub fn symmetrize(m: &Csc) -> Csc {
    symmetrize_counting(m, &|_| {})
}

/// [`symmetrize`], calling `count` with m's entries as the transpose ends
/// and as each run of columns is merged (2 · nnz(m) in all).
pub(crate) fn symmetrize_counting(m: &Csc, count: &dyn Fn(u64)) -> Csc {
    let t = m.transpose();
    count(m.nnz() as u64);
    let n = m.n;
    let mut colptr = vec![0usize; n + 1];
    let mut rows = Vec::with_capacity(m.nnz() * 2);
    let mut vals = Vec::with_capacity(m.nnz() * 2);
    for j in 0..n {
        let (ra, va) = m.col(j);
        let (rb, vb) = t.col(j);
        let (mut a, mut b) = (0, 0);
        while a < ra.len() || b < rb.len() {
            let take_a = b >= rb.len() || (a < ra.len() && ra[a] <= rb[b]);
            let take_b = a >= ra.len() || (b < rb.len() && rb[b] <= ra[a]);
            let (r, v) = match (take_a, take_b) {
                (true, true) => {
                    let x = (ra[a], va[a] + vb[b]);
                    a += 1;
                    b += 1;
                    x
                }
                (true, false) => {
                    let x = (ra[a], va[a]);
                    a += 1;
                    x
                }
                _ => {
                    let x = (rb[b], vb[b]);
                    b += 1;
                    x
                }
            };
            rows.push(r);
            vals.push(v);
        }
        colptr[j + 1] = rows.len();
        if j % 4096 == 4095 || j + 1 == n {
            let j0 = j - j % 4096;
            count((m.colptr[j + 1] - m.colptr[j0]) as u64);
        }
    }
    let total: f64 = crate::util::fixed_sum(&vals);
    if total > 0.0 {
        let inv = 1.0 / total;
        vals.iter_mut().for_each(|v| *v *= inv);
    }
    Csc {
        n,
        colptr,
        rowidx: rows,
        vals,
    }
}
