//! What a run does: the settings types and the [`Plan`], the settings with
//! every `auto` resolved for one graph, which the engines read.

use crate::init::Init;
use crate::order::VertexOrder;
use crate::repulse::{FftBackend, RepulsionKind};

/// Step size: a number, or `auto` = max(200, N/α) with α the exaggeration
/// in force (so it changes between phases).
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

/// max(200, N / exaggeration): the automatic step size.
pub fn auto_eta(n: usize, exaggeration: f64) -> f64 {
    (n as f64 / exaggeration).max(crate::defaults::ETA_FLOOR)
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
    /// Exaggeration after the early phase (until the late phase, if any).
    pub exaggeration: f64,
    /// Late exaggeration: (factor, first iteration).
    pub late: Option<(f64, usize)>,
    /// Degrees of freedom ν of the kernel (1 = standard t-SNE).
    pub dof: f64,
    /// The start (never `Auto`; `Random` also when coordinates are given).
    pub init: Init,
    /// The step size of the early phase; see [`Plan::eta_at`] for the others.
    pub eta: f64,
    /// Whether the step follows the exaggeration (`Eta::Auto`).
    pub eta_auto: bool,
    pub momentum: f64,
    pub final_momentum: f64,
    pub min_gain: f64,
    /// Bound on each vertex's step norm per iteration (0 = none).
    pub max_step: f64,
    pub seed: u64,
    /// `Exact` or `Grid`.
    pub repulsion: RepulsionKind,
    /// Whether a grid evaluation takes the exact sum where it is estimated
    /// to be cheaper (`auto` resolved to the grid; an explicit `grid`
    /// always uses the grid).
    pub exact_when_cheaper: bool,
    /// Target grid spacing (used by the grid engine).
    pub grid_h: f64,
    /// Cap on the grid's interior nodes per side (beyond it h* grows).
    pub grid_max: usize,
    /// The cap each evaluation starts from (at most `grid_max`); in 3D it
    /// may grow toward `grid_max` where points crowd the near sums
    /// ([`crate::defaults::grid_start`]).
    pub grid_start: usize,
    /// Whether a capped grid sums the short range exactly.
    pub near_split: bool,
    pub order: VertexOrder,
    pub attraction: AttractionKind,
    /// The CSB block size β (CSB attraction only).
    pub block_size: Option<usize>,
    pub fft: FftBackend,
    pub report_every: usize,
}

impl Plan {
    /// The exaggeration of iteration `iter` (0-based).
    pub fn exaggeration_at(&self, iter: usize) -> f64 {
        if iter < self.early_iter {
            self.alpha
        } else {
            match self.late {
                Some((e, start)) if iter >= start => e,
                _ => self.exaggeration,
            }
        }
    }

    /// The step size of iteration `iter`: the fixed value, or with `auto`
    /// max(200, N / exaggeration in force), as openTSNE does.
    pub fn eta_at(&self, iter: usize) -> f64 {
        if self.eta_auto {
            auto_eta(self.n, self.exaggeration_at(iter))
        } else {
            self.eta
        }
    }

    /// The distinct (first iteration, exaggeration, step) phases of the run.
    pub fn phases(&self) -> Vec<(usize, f64, f64)> {
        let mut starts = vec![0, self.early_iter.min(self.max_iter)];
        if let Some((_, s)) = self.late {
            starts.push(s.max(self.early_iter));
        }
        let mut out: Vec<(usize, f64, f64)> = Vec::new();
        for s in starts {
            if s >= self.max_iter && !out.is_empty() {
                continue;
            }
            let ph = (s, self.exaggeration_at(s), self.eta_at(s));
            if out.last().is_none_or(|l| (l.1, l.2) != (ph.1, ph.2)) {
                out.push(ph);
            }
        }
        out
    }
    /// Bytes the run is estimated to need for a graph with `nnz` stored
    /// entries (see [`crate::memory::estimate_embedding`]).
    pub fn memory_estimate(&self, nnz: usize) -> crate::memory::Estimate {
        let mut e = crate::memory::estimate_embedding(
            self.n,
            nnz,
            self.dim,
            self.repulsion,
            self.grid_h,
            self.grid_max,
            self.order == crate::order::VertexOrder::Metis,
        );
        if self.init == Init::Spectral {
            // The Lanczos basis (freed before the grids grow; counted on
            // top, to be safe).
            let steps = crate::spectral::Options::default().steps_for(self.n) + 2;
            let basis = (8 * self.n * steps) as u64;
            e.typical += basis;
            e.most += basis;
        }
        if let Init::Subsample(k) = self.init {
            // The start's n × dim coordinates, the placed rows and the
            // list of points to place, and the sample's own run (its
            // neighbours, graph and grid: about 4 KiB a sample point).
            let extra = (self.n * (16 * self.dim + 8) + k * 4096) as u64;
            e.typical += extra;
            e.most += extra;
        }
        e
    }
}
