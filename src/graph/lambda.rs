//! λ-rescaling of column-stochastic matrices (SPEC §2).

use rayon::prelude::*;

use super::{split_columns_mut, Csc};

/// Tolerance on |Σ p^σ − λ|.
pub const LAMBDA_TOL: f64 = 1e-5;

/// Finds σ with Σ_i p_i^σ = λ for one column of probabilities. Zero
/// entries (weights that underflowed beside far larger ones) stay zero for
/// every σ and are left out.
///
/// Returns `None` when no σ exists: a single entry (or only entries equal to
/// 1), which the caller leaves unchanged. σ may be negative (λ above the
/// entry count). Bracketing by doubling, then safeguarded Newton steps.
pub fn solve_sigma(p: &[f64], lambda: f64) -> Option<f64> {
    // f(σ) = Σ exp(−σ d_i) − λ with d_i = −ln p_i ≥ 0: decreasing and convex.
    let d: Vec<f64> = p.iter().filter(|&&x| x > 0.0).map(|&x| -x.ln()).collect();
    if d.iter().all(|&x| x <= 0.0) {
        return None;
    }
    let f = |s: f64| -> (f64, f64) {
        let mut v = 0.0;
        let mut dv = 0.0;
        for &di in &d {
            let e = (-s * di).exp();
            v += e;
            dv -= di * e;
        }
        (v - lambda, dv)
    };
    let f0 = f(0.0).0;
    if f0.abs() <= LAMBDA_TOL {
        return Some(0.0);
    }
    // Bracket: f(lo) > 0 > f(hi).
    let (mut lo, mut hi);
    if f0 > 0.0 {
        lo = 0.0;
        hi = 1.0;
        let mut k = 0;
        while f(hi).0 > 0.0 {
            lo = hi;
            hi *= 2.0;
            k += 1;
            if k > 2000 || !hi.is_finite() {
                return None;
            }
        }
    } else {
        hi = 0.0;
        lo = -1.0;
        let mut k = 0;
        while f(lo).0 < 0.0 {
            hi = lo;
            lo *= 2.0;
            k += 1;
            if k > 2000 || !lo.is_finite() {
                return None;
            }
        }
    }
    let mut s = 0.5 * (lo + hi);
    for _ in 0..200 {
        let (v, dv) = f(s);
        if v.abs() <= LAMBDA_TOL {
            return Some(s);
        }
        if v > 0.0 {
            lo = s;
        } else {
            hi = s;
        }
        // Newton from s; fall back to bisection if it leaves the bracket.
        let newton = if dv < 0.0 && v.is_finite() {
            s - v / dv
        } else {
            f64::NAN
        };
        s = if newton.is_finite() && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if hi - lo <= f64::EPSILON * (1.0 + s.abs()) {
            return Some(s);
        }
    }
    Some(s)
}

/// Rescales every column of a column-stochastic matrix so that
/// Σ_i p(i|j)^σ_j = λ, then renormalises the column (SPEC §2).
/// Skipped when λ = 1. Returns the number of columns left unchanged because
/// no σ exists (single-entry columns).
pub fn lambda_rescale(m: &mut Csc, lambda: f64) -> usize {
    if lambda == 1.0 {
        return 0;
    }
    let colptr = m.colptr.clone();
    split_columns_mut(&colptr, &mut m.vals)
        .into_par_iter()
        .map(|v| {
            if v.is_empty() {
                return 0;
            }
            match solve_sigma(v, lambda) {
                None => 1,
                Some(s) => {
                    // Normalise in log space so extreme σ cannot overflow.
                    let logs: Vec<f64> = v
                        .iter()
                        .map(|&x| {
                            if x > 0.0 {
                                s * x.ln()
                            } else {
                                f64::NEG_INFINITY
                            }
                        })
                        .collect();
                    let mx = logs.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let tot: f64 = logs.iter().map(|&l| (l - mx).exp()).sum();
                    for (x, l) in v.iter_mut().zip(&logs) {
                        *x = (l - mx).exp() / tot;
                    }
                    0
                }
            }
        })
        .sum()
}
