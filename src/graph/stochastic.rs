//! The validated input of the embedder: a symmetric P with ΣP = 1.

use super::{lambda_rescale, normalize_columns, symmetrize_counting, Coo, Csc};
use crate::error::{Error, Result};
use crate::progress::Meter;

/// Graph preparation's metered steps, each counting the input's entries:
/// check, columns, normalise and rescale, transpose, merge.
const STEPS: u64 = 5;

/// What preparation found, for the user to read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PrepareReport {
    pub vertices: usize,
    /// Stored entries after dropping self-loops and zeros and summing duplicates.
    pub entries: usize,
    /// Columns whose sum was already 1 (|sum − 1| ≤ 1e-12).
    pub already_stochastic: usize,
    /// Vertices with no edge in either direction; embedded by repulsion alone.
    pub isolated: usize,
    /// Columns left unchanged by λ-rescaling (a single entry cannot reach λ ≠ 1).
    pub lambda_skipped: usize,
    /// Non-zeros of the symmetrised P.
    pub symmetric_entries: usize,
}

/// Checks a λ-rescaling target: a positive number.
pub fn check_lambda(lambda: f64) -> Result<()> {
    if lambda.is_finite() && lambda > 0.0 {
        Ok(())
    } else {
        Err(Error::param(
            "lambda",
            format!("must be a positive number, got {lambda}"),
        ))
    }
}

/// A symmetric, non-negative sparse matrix with zero diagonal and total sum 1,
/// stored as CSR (equal to its CSC, by symmetry) with sorted column indices.
#[derive(Clone, Debug)]
pub struct StochasticGraph {
    p: Csc,
}

impl StochasticGraph {
    /// Prepares a graph from triplets: clean, column-normalise, λ-rescale,
    /// symmetrise, divide by the total.
    pub fn from_coo(coo: &Coo, lambda: f64) -> Result<(Self, PrepareReport)> {
        Self::prepare(coo, lambda, &Meter::default())
    }

    /// As [`StochasticGraph::from_coo`], freeing the triplets as soon as
    /// their columns are built: the triplets, the columns, their transpose
    /// and the symmetrised result would otherwise coexist (16 + 12 + 12 +
    /// 24 bytes an input entry; 7 GB for a kNN graph of 1.3 million points).
    pub fn from_coo_owned(coo: Coo, lambda: f64) -> Result<(Self, PrepareReport)> {
        Self::prepare(coo, lambda, &Meter::default())
    }

    /// [`StochasticGraph::from_coo_owned`], reporting its steps on `meter`
    /// (each step counts the input's entries when it ends).
    pub fn from_coo_owned_metered(
        coo: Coo,
        lambda: f64,
        meter: &Meter,
    ) -> Result<(Self, PrepareReport)> {
        Self::prepare(coo, lambda, meter)
    }

    /// Dropping `coo` after the columns are built frees owned triplets (and
    /// does nothing to borrowed ones).
    fn prepare<C: std::borrow::Borrow<Coo>>(
        coo: C,
        lambda: f64,
        meter: &Meter,
    ) -> Result<(Self, PrepareReport)> {
        check_lambda(lambda)?;
        let c = coo.borrow();
        let n = c.n;
        if n == 0 {
            return Err(Error::Input("the graph has no vertices".into()));
        }
        let entries = c.vals.len() as u64;
        let phase = meter.phase(
            "graph: check, normalise, rescale, symmetrise",
            STEPS * entries,
        );
        crate::sparse::check_entries(&c.rows, &c.cols, &c.vals, n, n)?;
        phase.add(entries);
        // Duplicates are summed: scale by a power of two so that no sum can
        // overflow, whatever the weights (normalisation removes the scale).
        let mx = c.vals.iter().copied().fold(0.0, f64::max);
        let room = (f64::MAX / 4.0).log2() - (c.vals.len().max(1) as f64).log2();
        let scale = if mx > 0.0 && mx.log2() > room {
            (room - mx.log2()).floor().exp2()
        } else {
            1.0
        };
        let mut m = Csc::from_coo_scaled(c, scale);
        drop(coo);
        phase.add(entries);
        let stats = normalize_columns(&mut m);
        let lambda_skipped = lambda_rescale(&mut m, lambda);
        phase.add(entries);
        let p = symmetrize_counting(&m, &|e| phase.add(e));
        // Self-loops, zeros and duplicates dropped were not merged.
        phase.add(2 * (entries - m.nnz() as u64));
        if let Some(v) = p.vals.iter().find(|v| !v.is_finite()) {
            // Unreachable for finite non-negative input; a message, not a panic later.
            return Err(Error::Input(format!(
                "graph preparation produced a non-finite weight ({v}); please report this input"
            )));
        }
        let isolated = (0..p.n).filter(|&j| p.colptr[j] == p.colptr[j + 1]).count();
        let report = PrepareReport {
            vertices: n,
            entries: m.nnz(),
            already_stochastic: stats.already_stochastic,
            isolated,
            lambda_skipped,
            symmetric_entries: p.nnz(),
        };
        Ok((StochasticGraph { p }, report))
    }

    /// Checked constructor from CSR arrays already symmetric with ΣP = 1.
    pub fn try_from_csr(
        n: usize,
        rowptr: Vec<usize>,
        colidx: Vec<u32>,
        vals: Vec<f64>,
    ) -> Result<Self> {
        let bad = |m: &str| Err(Error::Input(format!("not a valid stochastic graph: {m}")));
        if rowptr.len() != n + 1
            || rowptr[0] != 0
            || *rowptr.last().unwrap() != colidx.len()
            || colidx.len() != vals.len()
        {
            return bad("inconsistent CSR arrays");
        }
        for i in 0..n {
            if rowptr[i] > rowptr[i + 1] {
                return bad("row pointers decrease");
            }
            let r = &colidx[rowptr[i]..rowptr[i + 1]];
            if r.windows(2).any(|w| w[0] >= w[1])
                || r.iter().any(|&c| c as usize >= n || c as usize == i)
            {
                return bad("column indices unsorted, duplicated, out of range or on the diagonal");
            }
        }
        if vals.iter().any(|&v| !(v > 0.0 && v.is_finite())) {
            return bad("values must be positive and finite");
        }
        let p = Csc {
            n,
            colptr: rowptr,
            rowidx: colidx,
            vals,
        };
        let t = p.transpose();
        if t.colptr != p.colptr
            || t.rowidx != p.rowidx
            || t.vals
                .iter()
                .zip(&p.vals)
                .any(|(a, b)| (a - b).abs() > 1e-12 * a.abs().max(*b))
        {
            return bad("matrix is not symmetric");
        }
        let s: f64 = p.vals.iter().sum();
        if (s - 1.0).abs() > 1e-9 {
            return bad("entries must sum to 1");
        }
        Ok(StochasticGraph { p })
    }

    pub fn n(&self) -> usize {
        self.p.n
    }
    pub fn nnz(&self) -> usize {
        self.p.nnz()
    }
    pub fn rowptr(&self) -> &[usize] {
        &self.p.colptr
    }
    pub fn colidx(&self) -> &[u32] {
        &self.p.rowidx
    }
    pub fn vals(&self) -> &[f64] {
        &self.p.vals
    }
    /// Row `i` as (column indices, values).
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        self.p.col(i)
    }

    /// Wraps arrays that are symmetric with ΣP = 1 by construction (a
    /// relabelling of a checked graph); no checks.
    pub(crate) fn from_csc_unchecked(p: Csc) -> StochasticGraph {
        StochasticGraph { p }
    }
}
