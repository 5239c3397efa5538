//! Perplexity calibration (SPEC §8): for each point a precision β with
//! entropy H(p) = ln u over its k neighbours, p_j ∝ exp(−β d_j²). Column i
//! of the result holds p(j|i).

use rayon::prelude::*;

use super::Knn;
use crate::error::{Error, Result};
use crate::sparse::Coo;

/// |H − ln u| tolerance of the β search.
pub const PERPLEXITY_TOL: f64 = 1e-5;
const MAX_STEPS: usize = 200;

/// The outcome of calibrating every point.
#[derive(Clone, Debug)]
pub struct Calibration {
    /// Conditional affinities: entry (j, i) = p(j|i), columns sum to 1.
    pub coo: Coo,
    /// Points whose entropy missed ln u by more than the tolerance
    /// (ln u above ln k, or all neighbours at one distance).
    pub not_converged: usize,
    /// Largest |H − ln u| among the converged points.
    pub max_error: f64,
}

/// Finds β for one point given its squared neighbour distances (ascending
/// or not) and writes the normalised p_j into `out`. Returns (β, H).
/// Distances are shifted by their minimum, which leaves p unchanged and
/// keeps exp() from underflowing at any scale of the data.
pub fn calibrate_row(d2: &[f64], perplexity: f64, out: &mut [f64]) -> (f64, f64) {
    let target = perplexity.ln();
    let dmin = d2.iter().copied().fold(f64::INFINITY, f64::min);
    let mean = d2.iter().map(|d| d - dmin).sum::<f64>() / d2.len() as f64;
    let entropy = |beta: f64, out: &mut [f64]| -> f64 {
        let mut s = 0.0;
        let mut sd = 0.0;
        for (o, &d) in out.iter_mut().zip(d2) {
            let x = d - dmin;
            let e = (-beta * x).exp();
            *o = e;
            s += e;
            sd += x * e;
        }
        s.ln() + beta * sd / s
    };
    let mut beta = if mean > 0.0 { 1.0 / mean } else { 1.0 };
    let (mut lo, mut hi) = (0.0f64, f64::INFINITY);
    let mut h = entropy(beta, out);
    for _ in 0..MAX_STEPS {
        if (h - target).abs() < PERPLEXITY_TOL {
            break;
        }
        if h > target {
            lo = beta;
            beta = if hi.is_finite() {
                0.5 * (beta + hi)
            } else {
                2.0 * beta
            };
        } else {
            hi = beta;
            beta = 0.5 * (beta + lo);
        }
        h = entropy(beta, out);
    }
    let s: f64 = out.iter().sum();
    for o in out.iter_mut() {
        *o /= s;
    }
    (beta, h)
}

/// Conditional affinities from a kNN graph at perplexity u.
pub fn perplexity_graph(knn: &Knn, perplexity: f64) -> Result<Calibration> {
    perplexity_graph_metered(knn, perplexity, &crate::progress::Meter::default())
}

/// [`perplexity_graph`], counting the points calibrated on `meter`.
pub fn perplexity_graph_metered(
    knn: &Knn,
    perplexity: f64,
    meter: &crate::progress::Meter,
) -> Result<Calibration> {
    if !(perplexity.is_finite() && perplexity > 0.0) {
        return Err(Error::param(
            "perplexity",
            format!("must be a positive number, got {perplexity}"),
        ));
    }
    let (n, k) = (knn.n, knn.k);
    let mut p = vec![0.0f64; n * k];
    let phase = meter.phase("perplexity calibration", n as u64);
    let errs: Vec<f64> = p
        .par_chunks_mut(k)
        .enumerate()
        .map(|(i, out)| {
            phase.add(1);
            let (_, d2) = knn.neighbors(i);
            let (_, h) = calibrate_row(d2, perplexity, out);
            (h - perplexity.ln()).abs()
        })
        .collect();
    let not_converged = errs
        .iter()
        .filter(|&&e| e.is_nan() || e >= PERPLEXITY_TOL)
        .count();
    let max_error = errs
        .iter()
        .copied()
        .filter(|&e| e < PERPLEXITY_TOL)
        .fold(0.0, f64::max);
    let mut coo = Coo {
        n,
        rows: Vec::with_capacity(n * k),
        cols: Vec::with_capacity(n * k),
        vals: Vec::with_capacity(n * k),
    };
    for i in 0..n {
        let (idx, _) = knn.neighbors(i);
        for (t, &j) in idx.iter().enumerate() {
            coo.rows.push(j);
            coo.cols.push(i as u32);
            coo.vals.push(p[i * k + t]);
        }
    }
    Ok(Calibration {
        coo,
        not_converged,
        max_error,
    })
}
