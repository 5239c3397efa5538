//! The repulsive term: Z = Σ_{i≠j} w_ij and Σ_j w_ij² (y_i − y_j) (SPEC §4, §6).

mod conv;
mod exact;
pub mod fft;
#[cfg(feature = "fftw")]
mod fftw;
mod grid;
pub mod interp;
mod near;

pub use conv::Convolver;
pub use exact::{exact_repulsion, exact_repulsion_kernel, ExactRepulsion};
pub use fft::Backend as FftBackend;
pub use grid::{
    exact_is_cheaper, grid_shape, grid_shape_with, GridRepulsion, GridShape, PhaseTimes, MIN_GRID,
    NEAR_PAIRS_PER_POINT,
};
pub use near::Split;

/// An evaluator of the repulsive term.
pub trait Repulsion<const D: usize>: Send {
    /// Fills `out[i] = Σ_j w_ij^((ν+1)/ν) (y_i − y_j)` (not yet divided by
    /// Z; w_ij² for standard t-SNE) and returns Z = Σ_{i≠j} w_ij.
    fn compute(&mut self, y: &[[f64; D]], out: &mut [[f64; D]]) -> f64;

    /// The grid of the last evaluation, for a grid method.
    fn grid(&self) -> Option<GridShape> {
        None
    }
}

/// How to compute the repulsion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RepulsionKind {
    /// Exact for small graphs, the grid above [`AUTO_EXACT_MAX_N`] vertices;
    /// there an evaluation still takes the exact sum when it is estimated
    /// to be the cheaper ([`exact_is_cheaper`]: a few thousand points
    /// spread so wide that the grid is at its cap).
    #[default]
    Auto,
    /// The O(N²) sum.
    Exact,
    /// Interpolation on a grid with FFT convolution.
    Grid,
}

/// Largest N for which `auto` chooses the exact sum.
pub const AUTO_EXACT_MAX_N: usize = 1000;

impl RepulsionKind {
    /// The engine actually used for `n` vertices (`Auto` decided by size).
    pub fn resolve(self, n: usize) -> RepulsionKind {
        match self {
            RepulsionKind::Auto if n <= AUTO_EXACT_MAX_N => RepulsionKind::Exact,
            RepulsionKind::Auto => RepulsionKind::Grid,
            k => k,
        }
    }
}

impl std::str::FromStr for RepulsionKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(RepulsionKind::Auto),
            "exact" => Ok(RepulsionKind::Exact),
            "grid" => Ok(RepulsionKind::Grid),
            _ => Err(format!(
                "unknown repulsion '{s}': expected auto, exact or grid"
            )),
        }
    }
}

impl std::fmt::Display for RepulsionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RepulsionKind::Auto => "auto",
            RepulsionKind::Exact => "exact",
            RepulsionKind::Grid => "grid",
        })
    }
}
