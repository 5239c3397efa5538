//! The attractive term Σ_j P_ij w_ij (y_i − y_j) and the O(nnz) part of the KL.
//!
//! [`CsrAttraction`] is the plain product, kept as the test oracle;
//! [`crate::csb::CsbAttraction`] is the cache-friendly production path.

use std::borrow::Borrow;

use rayon::prelude::*;

use crate::graph::StochasticGraph;
use crate::kernel::Kernel;
use crate::util::{dist2, CHUNK};

/// An evaluator of the attractive forces for a fixed graph.
pub trait Attraction<const D: usize>: Send + Sync {
    /// `out[i] = Σ_j P_ij w_ij^(1/ν) (y_i − y_j)` with w_ij^(1/ν) = 1 / (1 +
    /// ‖y_i − y_j‖²/ν) (ν = 1: standard t-SNE).
    /// `&mut self`: an evaluator may keep scratch between calls.
    fn forces(&mut self, y: &[[f64; D]], out: &mut [[f64; D]]);
    /// Σ_ij P_ij ln(P_ij / w_ij); KL(P‖Q) is this plus ln Z when ΣP = 1.
    fn kl_part(&self, y: &[[f64; D]]) -> f64;
}

/// Row-by-row product over the CSR arrays. `G` is the graph or anything
/// that lends it (a reference, an `Arc`).
pub struct CsrAttraction<G> {
    g: G,
    kernel: Kernel,
}

impl<G: Borrow<StochasticGraph>> CsrAttraction<G> {
    /// The product for standard t-SNE (ν = 1).
    pub fn new(g: G) -> Self {
        CsrAttraction {
            g,
            kernel: Kernel::CAUCHY,
        }
    }

    /// The product for the heavy-tailed kernel `kernel`.
    pub fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }
}

impl<const D: usize, G: Borrow<StochasticGraph> + Send + Sync> Attraction<D> for CsrAttraction<G> {
    fn forces(&mut self, y: &[[f64; D]], out: &mut [[f64; D]]) {
        let g: &StochasticGraph = self.g.borrow();
        let kern = self.kernel;
        out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, rows)| {
            for (k, o) in rows.iter_mut().enumerate() {
                let i = c * CHUNK + k;
                let (cols, vals) = g.row(i);
                let yi = &y[i];
                let mut f = [0.0; D];
                for (&j, &p) in cols.iter().zip(vals) {
                    let yj = &y[j as usize];
                    let w = kern.attraction(p, dist2(yi, yj));
                    for d in 0..D {
                        f[d] += w * (yi[d] - yj[d]);
                    }
                }
                *o = f;
            }
        });
    }

    fn kl_part(&self, y: &[[f64; D]]) -> f64 {
        let g: &StochasticGraph = self.g.borrow();
        let k = self.kernel;
        crate::util::fixed_sum_by(g.n(), |i| {
            let (cols, vals) = g.row(i);
            let mut s = 0.0;
            for (&j, &p) in cols.iter().zip(vals) {
                s += p * (p.ln() + k.neg_ln_w(dist2(&y[i], &y[j as usize])));
            }
            s
        })
    }
}
