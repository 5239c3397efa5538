//! Sparse matrix containers shared by the readers and the graph stage:
//! triplets as read from a file, and compressed sparse columns.

use crate::error::{Error, Result};

/// Checks triplets of an `nrows` × `ncols` matrix: equal lengths, indices
/// in range, weights finite and non-negative (naming the first bad entry,
/// 1-based), so later stages can index without checking.
pub fn check_entries(
    rows: &[u32],
    cols: &[u32],
    vals: &[f64],
    nrows: usize,
    ncols: usize,
) -> Result<()> {
    if rows.len() != vals.len() || cols.len() != vals.len() {
        return Err(Error::Input(format!(
            "{} row indices, {} column indices and {} values: the entries differ in length",
            rows.len(),
            cols.len(),
            vals.len()
        )));
    }
    if let Some(k) = (0..vals.len()).find(|&k| {
        rows[k] as usize >= nrows
            || cols[k] as usize >= ncols
            || !(vals[k] >= 0.0 && vals[k].is_finite())
    }) {
        return Err(Error::Input(format!(
            "entry {} ({}, {}, {}) is out of range or not a finite non-negative weight",
            k + 1,
            rows[k] + 1,
            cols[k] + 1,
            vals[k]
        )));
    }
    Ok(())
}

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
        Csc::from_coo_scaled(coo, 1.0)
    }

    /// As [`Csc::from_coo`], every value multiplied by `scale` before
    /// duplicates are summed (a power of two keeps the values exact while
    /// their sums stay finite).
    pub fn from_coo_scaled(coo: &Coo, scale: f64) -> Csc {
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
                vals[p] = v * scale;
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
