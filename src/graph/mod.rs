//! Graph preparation (SPEC §1–3): clean the triplets, column-normalise,
//! λ-rescale, symmetrise. Each step is a pure function tested on its own.

mod lambda;
mod stochastic;
mod synthetic;

pub use lambda::{lambda_rescale, solve_sigma};
pub use stochastic::{PrepareReport, StochasticGraph};
pub use synthetic::synthetic_knn;

use rayon::prelude::*;

/// Triplets with 0-based indices, as read from a file: entry (i, j) is the
/// weight of the edge from vertex j to vertex i.
#[derive(Clone, Debug, Default)]
pub struct Coo {
    pub n: usize,
    pub rows: Vec<u32>,
    pub cols: Vec<u32>,
    pub vals: Vec<f64>,
}

/// Compressed sparse columns with sorted, unique row indices in each column.
#[derive(Clone, Debug, PartialEq)]
pub struct Csc {
    pub n: usize,
    pub colptr: Vec<usize>,
    pub rowidx: Vec<u32>,
    pub vals: Vec<f64>,
}

impl Csc {
    pub fn nnz(&self) -> usize {
        self.rowidx.len()
    }

    /// Column `j` as (row indices, values).
    pub fn col(&self, j: usize) -> (&[u32], &[f64]) {
        let r = self.colptr[j]..self.colptr[j + 1];
        (&self.rowidx[r.clone()], &self.vals[r])
    }

    /// Builds a CSC matrix from triplets: duplicates are summed, explicit
    /// zeros and self-loops dropped (SPEC §1). Indices must be < n.
    pub fn from_coo(coo: &Coo) -> Csc {
        let n = coo.n;
        let mut counts = vec![0usize; n + 1];
        for k in 0..coo.vals.len() {
            if coo.rows[k] != coo.cols[k] && coo.vals[k] != 0.0 {
                counts[coo.cols[k] as usize + 1] += 1;
            }
        }
        for j in 0..n {
            counts[j + 1] += counts[j];
        }
        let total = counts[n];
        let mut next = counts.clone();
        let mut rows = vec![0u32; total];
        let mut vals = vec![0.0f64; total];
        for k in 0..coo.vals.len() {
            let (i, j, v) = (coo.rows[k], coo.cols[k], coo.vals[k]);
            if i != j && v != 0.0 {
                let p = next[j as usize];
                rows[p] = i;
                vals[p] = v;
                next[j as usize] += 1;
            }
        }
        // Sort each column by row and sum duplicates, compacting in place.
        let mut colptr = vec![0usize; n + 1];
        let mut out = 0usize;
        let mut pairs: Vec<(u32, f64)> = Vec::new();
        for j in 0..n {
            pairs.clear();
            pairs.extend((counts[j]..counts[j + 1]).map(|p| (rows[p], vals[p])));
            pairs.sort_by_key(|&(r, _)| r);
            let mut q = 0;
            while q < pairs.len() {
                let r = pairs[q].0;
                let mut s = 0.0;
                while q < pairs.len() && pairs[q].0 == r {
                    s += pairs[q].1;
                    q += 1;
                }
                rows[out] = r;
                vals[out] = s;
                out += 1;
            }
            colptr[j + 1] = out;
        }
        rows.truncate(out);
        vals.truncate(out);
        Csc {
            n,
            colptr,
            rowidx: rows,
            vals,
        }
    }

    /// The transpose, also with sorted columns.
    pub fn transpose(&self) -> Csc {
        let n = self.n;
        let mut counts = vec![0usize; n + 1];
        for &r in &self.rowidx {
            counts[r as usize + 1] += 1;
        }
        for j in 0..n {
            counts[j + 1] += counts[j];
        }
        let mut next = counts.clone();
        let mut rows = vec![0u32; self.nnz()];
        let mut vals = vec![0.0; self.nnz()];
        for j in 0..n {
            let (ri, vi) = self.col(j);
            for (&r, &v) in ri.iter().zip(vi) {
                let p = next[r as usize];
                rows[p] = j as u32;
                vals[p] = v;
                next[r as usize] += 1;
            }
        }
        Csc {
            n,
            colptr: counts,
            rowidx: rows,
            vals,
        }
    }
}

/// Result of column normalisation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NormalizeStats {
    /// Columns whose sum was already 1 within 1e-12.
    pub already_stochastic: usize,
    /// Columns with no entries (vertices with no out-edges).
    pub empty_columns: usize,
}

/// Divides every column with a positive sum by its sum, so columns hold
/// conditional probabilities p(i|j) (SPEC §1).
pub fn normalize_columns(m: &mut Csc) -> NormalizeStats {
    let colptr = &m.colptr;
    let stats: Vec<(bool, bool)> = split_columns_mut(colptr, &mut m.vals)
        .into_par_iter()
        .map(|v| {
            if v.is_empty() {
                return (false, true);
            }
            let s: f64 = v.iter().sum();
            let already = (s - 1.0).abs() <= 1e-12;
            if s > 0.0 {
                let inv = 1.0 / s;
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

/// Splits a value array into one mutable slice per column.
pub(crate) fn split_columns_mut<'a>(
    colptr: &[usize],
    mut vals: &'a mut [f64],
) -> Vec<&'a mut [f64]> {
    let mut out = Vec::with_capacity(colptr.len().saturating_sub(1));
    for w in colptr.windows(2) {
        let (head, tail) = vals.split_at_mut(w[1] - w[0]);
        out.push(head);
        vals = tail;
    }
    out
}

/// P ← P + Pᵀ over the union of both patterns, then P ← P / ΣP (SPEC §3).
/// The result is symmetric, so its CSC arrays are also its CSR arrays.
pub fn symmetrize(m: &Csc) -> Csc {
    let t = m.transpose();
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
