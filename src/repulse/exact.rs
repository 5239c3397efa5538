//! The exact O(N²) repulsion: parallel over points, O(N) memory. The test
//! oracle for the grid, and the right engine for small graphs.

use rayon::prelude::*;

use super::Repulsion;
use crate::kernel::Kernel;
use crate::util::{dist2, CHUNK};

/// The exact engine; it keeps its per-chunk sums so no evaluation allocates.
#[derive(Default, Debug, Clone)]
pub struct ExactRepulsion {
    partial: Vec<f64>,
    kernel: Kernel,
}

impl ExactRepulsion {
    /// The exact sums for the heavy-tailed kernel `kernel`.
    pub fn with_kernel(kernel: Kernel) -> Self {
        ExactRepulsion {
            partial: Vec::new(),
            kernel,
        }
    }
}

impl<const D: usize> Repulsion<D> for ExactRepulsion {
    fn compute(&mut self, y: &[[f64; D]], out: &mut [[f64; D]]) -> f64 {
        exact_repulsion_with(y, out, &mut self.partial, self.kernel)
    }
}

/// See [`Repulsion::compute`] (standard t-SNE, ν = 1).
pub fn exact_repulsion<const D: usize>(y: &[[f64; D]], out: &mut [[f64; D]]) -> f64 {
    exact_repulsion_with(y, out, &mut Vec::new(), Kernel::CAUCHY)
}

/// See [`Repulsion::compute`], for the kernel `kernel`: `out[i] = Σ_j
/// w_ij^((ν+1)/ν) (y_i − y_j)`, returning Z = Σ_{i≠j} w_ij.
pub fn exact_repulsion_kernel<const D: usize>(
    y: &[[f64; D]],
    out: &mut [[f64; D]],
    kernel: Kernel,
) -> f64 {
    exact_repulsion_with(y, out, &mut Vec::new(), kernel)
}

fn exact_repulsion_with<const D: usize>(
    y: &[[f64; D]],
    out: &mut [[f64; D]],
    partial: &mut Vec<f64>,
    kernel: Kernel,
) -> f64 {
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, rows)| {
            let mut zc = 0.0;
            for (k, o) in rows.iter_mut().enumerate() {
                let i = c * CHUNK + k;
                let yi = &y[i];
                let mut f = [0.0; D];
                let mut z = 0.0;
                for yj in y {
                    let (w, w2) = kernel.repulsion(dist2(yi, yj));
                    z += w;
                    for d in 0..D {
                        f[d] += w2 * (yi[d] - yj[d]);
                    }
                }
                // The j = i term contributes w = 1 to z and nothing to f.
                zc += z - 1.0;
                *o = f;
            }
            zc
        })
        .collect_into_vec(partial);
    partial.iter().sum()
}
