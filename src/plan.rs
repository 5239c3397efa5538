//! What a run does: the settings types and the [`Plan`], the settings with
//! every `auto` resolved for one graph, which the engines read.

use crate::order::VertexOrder;
use crate::repulse::{FftBackend, RepulsionKind};

/// Step size: a number, or `auto` = max(200, N/α).
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Eta {
    #[default]
    Auto,
    Fixed(f64),
}

impl std::str::FromStr for Eta {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "auto" {
            return Ok(Eta::Auto);
        }
        // The range is checked by `Embedder::validate`, with the value.
        s.parse::<f64>()
            .map(Eta::Fixed)
            .map_err(|_| format!("'{s}' is not 'auto' or a number"))
    }
}

impl std::fmt::Display for Eta {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Eta::Auto => f.write_str("auto"),
            Eta::Fixed(v) => write!(f, "{v}"),
        }
    }
}

/// How the sparse attraction is evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AttractionKind {
    /// Compressed sparse blocks over one triangle of P (SPEC §7): about 2×
    /// the plain rows on large kNN graphs in METIS order, never slower on
    /// the graphs measured (docs/performance.md), so the default.
    #[default]
    Csb,
    /// Plain CSR rows in the chosen vertex order: the reference.
    Csr,
}

impl std::str::FromStr for AttractionKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "csb" => Ok(AttractionKind::Csb),
            "csr" => Ok(AttractionKind::Csr),
            _ => Err(format!("unknown attraction '{s}': expected csb or csr")),
        }
    }
}

impl std::fmt::Display for AttractionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AttractionKind::Csb => "csb",
            AttractionKind::Csr => "csr",
        })
    }
}

/// A run's settings with every `auto` resolved for its graph: what the run
/// will do, for display and for the engines. Built by [`crate::Embedder::plan`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Plan {
    /// Vertices of the graph.
    pub n: usize,
    pub dim: usize,
    pub max_iter: usize,
    pub early_iter: usize,
    pub alpha: f64,
    /// The step size.
    pub eta: f64,
    pub momentum: f64,
    pub final_momentum: f64,
    pub min_gain: f64,
    pub seed: u64,
    /// `Exact` or `Grid`.
    pub repulsion: RepulsionKind,
    /// Target grid spacing (used by the grid engine).
    pub grid_h: f64,
    /// Cap on the grid's interior nodes per side (beyond it h* grows).
    pub grid_max: usize,
    pub order: VertexOrder,
    pub attraction: AttractionKind,
    /// The CSB block size β (CSB attraction only).
    pub block_size: Option<usize>,
    pub fft: FftBackend,
    pub report_every: usize,
}

impl Plan {
    /// Bytes the run is estimated to need for a graph with `nnz` stored
    /// entries (see [`crate::memory::estimate_embedding`]).
    pub fn memory_estimate(&self, nnz: usize) -> crate::memory::Estimate {
        crate::memory::estimate_embedding(
            self.n,
            nnz,
            self.dim,
            self.repulsion,
            self.grid_h,
            self.grid_max,
        )
    }
}
