//! The similarity kernel of the embedding space (SPEC §4, §11): Student's t
//! with ν degrees of freedom, w(d²) = (1 + d²/ν)^(−ν). ν = 1 is standard
//! t-SNE; ν < 1 has heavier tails and splits clusters finer; large ν tends
//! to a Gaussian. Every engine (attraction, exact and grid repulsion,
//! placement) evaluates it through this type, so they cannot disagree.
//!
//! For ν = 1 each formula reduces, operation for operation, to the plain
//! Cauchy kernel's (multiplying by 1.0 is exact), so standard runs keep
//! their bits.

use crate::error::{Error, Result};

/// The kernel w(d²) = (1 + d²/ν)^(−ν) and the powers the gradient needs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Kernel {
    dof: f64,
    inv: f64,
}

impl Default for Kernel {
    fn default() -> Self {
        Kernel::CAUCHY
    }
}

/// Largest ν accepted: beyond it the kernel is a Gaussian to double precision.
pub const MAX_DOF: f64 = 1e6;

impl Kernel {
    /// Standard t-SNE: ν = 1, w = 1 / (1 + d²).
    pub const CAUCHY: Kernel = Kernel { dof: 1.0, inv: 1.0 };

    /// The kernel with `dof` degrees of freedom, in (0, [`MAX_DOF`]].
    pub fn try_new(dof: f64) -> Result<Kernel> {
        if !(dof.is_finite() && dof > 0.0 && dof <= MAX_DOF) {
            return Err(Error::param(
                "dof",
                format!("must be a positive number up to {MAX_DOF:e}, got {dof}"),
            ));
        }
        Ok(Kernel {
            dof,
            inv: 1.0 / dof,
        })
    }

    /// ν.
    pub fn dof(&self) -> f64 {
        self.dof
    }

    /// Whether ν = 1 (the engines take cheaper paths).
    #[inline(always)]
    pub fn is_cauchy(&self) -> bool {
        self.dof == 1.0
    }

    /// p · w^(1/ν) = p / (1 + d²/ν): an edge's weight in the attraction.
    #[inline(always)]
    pub fn attraction(&self, p: f64, d2: f64) -> f64 {
        p / (1.0 + d2 * self.inv)
    }

    /// −ln w = ν ln(1 + d²/ν), the per-edge term of the KL.
    #[inline(always)]
    pub fn neg_ln_w(&self, d2: f64) -> f64 {
        // For ν = 1 both products are by 1.0: exact, the plain ln(1 + d²).
        self.dof * (1.0 + d2 * self.inv).ln()
    }

    /// (w, w^((ν+1)/ν)): a pair's share of Z and its repulsion weight.
    #[inline(always)]
    pub fn repulsion(&self, d2: f64) -> (f64, f64) {
        let t = 1.0 / (1.0 + d2 * self.inv);
        let w = if self.is_cauchy() {
            t
        } else {
            t.powf(self.dof)
        };
        (w, w * t)
    }

    /// The grid's kernel: w^((ν+1)/ν) at the grid offset r (‖r‖² = `r2`,
    /// spacing² `h2`), i.e. (1 + h²‖r‖²/ν)^(−(ν+1)).
    pub fn grid(&self, h2: f64, r2: f64) -> f64 {
        let t = 1.0 / (1.0 + h2 * r2 * self.inv);
        if self.is_cauchy() {
            t * t
        } else {
            t.powf(self.dof + 1.0)
        }
    }

    /// 1/ν: Z is assembled from the grid's channels as
    /// Σ_j K_ij (1 + ‖y_i − y_j‖²/ν).
    #[inline(always)]
    pub fn inv_dof(&self) -> f64 {
        self.inv
    }
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.dof)
    }
}
