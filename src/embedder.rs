//! The entry point: an [`Embedder`] holds the settings of a run, checks them
//! once and resolves every `auto` once into a [`Plan`] for a given graph
//! size; [`Embedder::session`] then builds the [`Session`] that owns the run.

use crate::defaults;
use crate::error::{Error, Result};
use crate::graph::StochasticGraph;
use crate::init::Init;
use crate::order::VertexOrder;
use crate::plan::{AttractionKind, Eta, Plan};
use crate::points::Points;
use crate::progress::Meter;
use crate::repulse::{FftBackend, RepulsionKind};
use crate::session::{Embedding, Session};

crate::util::settings! {
    /// The settings of a run, as a builder. `Embedder::default()` holds the
    /// defaults of [`crate::defaults`]; every setter takes the value as given
    /// and [`Embedder::plan`] checks them all at once, naming the parameter
    /// (its setter's name) in [`Error::Param`].
    ///
    /// ```
    /// use sgtsne::{Embedder, Eta};
    /// let e = Embedder::new(3).max_iter(500).eta(Eta::Fixed(200.0)).seed(7);
    /// let plan = e.plan(10_000).unwrap();
    /// assert_eq!((plan.dim, plan.eta), (3, 200.0));
    /// assert!(Embedder::new(4).plan(10).is_err());
    /// ```
    #[derive(Clone, Debug)]
    pub struct Embedder {
        /// Embedding dimension: 1, 2 or 3.
        dim: usize,
        /// Iterations [`Embedder::embed`] and [`Session::run_to_end`] run.
        max_iter: usize,
        /// Iterations with exaggeration α and the first momentum.
        early_iter: usize,
        /// Early exaggeration factor α > 0.
        alpha: f64,
        /// Exaggeration after the early phase, to the end (or to the late
        /// phase): 1 is plain t-SNE; 2–4 tightens clusters and shows more
        /// global structure on large data sets.
        exaggeration: f64,
        /// Late exaggeration factor, from iteration `late_start` on.
        late_exaggeration: Option<f64>,
        /// First iteration of the late exaggeration (`None` = right after
        /// the early phase).
        late_start: Option<usize>,
        /// Degrees of freedom ν > 0 of the kernel (1 + d²/ν)^(−ν): 1 is
        /// standard t-SNE, below 1 heavier tails and finer clusters.
        dof: f64,
        /// The start when none is given: `Auto` is spectral for a graph,
        /// PCA for points ([`Embedder::session_points`]).
        init: Init,
        /// Step size (`Eta::Auto` = max(200, N / exaggeration in force)).
        eta: Eta,
        /// Momentum during early exaggeration, in [0, 1); `None` = auto:
        /// [`defaults::MOMENTUM`] for a graph, [`defaults::MOMENTUM_POINTS`]
        /// for points ([`Embedder::plan_points`]).
        momentum: Option<f64>,
        /// Momentum after early exaggeration, in [0, 1).
        final_momentum: f64,
        /// Floor of the gains, in [0, 1].
        min_gain: f64,
        /// Longest step a vertex may take in one iteration (norm of its
        /// update; 0 = unbounded). Bounds the oscillation heavy edges and
        /// hubs cause under the automatic step size.
        max_step: f64,
        /// Seed of the random start; the same seed gives the same bits.
        seed: u64,
        /// Repulsion engine (`Auto`: exact up to 1,000 vertices, and above in
        /// any iteration where the exact sum is estimated to be the cheaper).
        repulsion: RepulsionKind,
        /// Grid spacing in (0, 10]; `None` = [`defaults::grid_h_for`].
        grid_h: Option<f64>,
        /// Cap on the grid's interior nodes per side, at least 16; `None` =
        /// [`defaults::grid_max`]. Beyond it the spacing grows with the
        /// embedding's extent, bounding the cost and memory per iteration.
        grid_max: Option<usize>,
        /// Where the grid is capped, sum the short range exactly and put
        /// only the smooth rest of the kernel on the coarse grid (the
        /// near/far split, docs/algorithm.md); `false` puts everything on
        /// the coarse grid, faster per iteration and much less accurate.
        near_split: bool,
        /// Vertex ordering for the attraction.
        order: VertexOrder,
        /// Layout of the sparse attraction.
        attraction: AttractionKind,
        /// Library that computes the grid's FFTs.
        fft: FftBackend,
        /// The cost is evaluated at iteration 1, every this many, and the last.
        report_every: usize,
        /// Where building a session (start, vertex order, block layout)
        /// reports how far it has got, for a front end to read while it
        /// runs ([`crate::progress`]); not a setting of the run.
        progress: Meter,
    }
}

impl Default for Embedder {
    fn default() -> Self {
        Embedder {
            dim: defaults::DIM,
            max_iter: defaults::MAX_ITER,
            early_iter: defaults::EARLY_ITER,
            alpha: defaults::ALPHA,
            exaggeration: defaults::EXAGGERATION,
            late_exaggeration: None,
            late_start: None,
            dof: defaults::DOF,
            init: Init::Auto,
            eta: Eta::Auto,
            momentum: None,
            final_momentum: defaults::FINAL_MOMENTUM,
            min_gain: defaults::MIN_GAIN,
            max_step: defaults::MAX_STEP,
            seed: defaults::SEED,
            repulsion: RepulsionKind::Auto,
            grid_h: None,
            grid_max: None,
            near_split: defaults::NEAR_SPLIT,
            order: VertexOrder::default(),
            attraction: AttractionKind::default(),
            fft: FftBackend::default(),
            report_every: defaults::REPORT_EVERY,
            progress: Meter::default(),
        }
    }
}

impl Embedder {
    /// The defaults, embedding in `dim` dimensions (1, 2 or 3).
    pub fn new(dim: usize) -> Self {
        Embedder {
            dim,
            ..Embedder::default()
        }
    }

    /// Checks every setting and resolves every `auto` for a graph of `n`
    /// vertices.
    pub fn plan(&self, n: usize) -> Result<Plan> {
        self.plan_for(n, false)
    }

    /// As [`Embedder::plan`], for a graph made from points (`Init::Auto`
    /// resolves to PCA rather than spectral).
    pub fn plan_points(&self, n: usize) -> Result<Plan> {
        self.plan_for(n, true)
    }

    fn plan_for(&self, n: usize, points: bool) -> Result<Plan> {
        self.validate()?;
        if n == 0 {
            return Err(Error::Input("the graph has no vertices".into()));
        }
        if let Init::Subsample(size) = self.init {
            if !points {
                return Err(Error::param(
                    "init",
                    "a subsample start needs point coordinates; a graph has none: use spectral, random or given coordinates",
                ));
            }
            crate::subsample::check_size(size, n)?;
        }
        let repulsion = self.repulsion.resolve(n);
        let grid_max = self.grid_max.unwrap_or(defaults::grid_max(self.dim, n));
        Ok(Plan {
            n,
            dim: self.dim,
            max_iter: self.max_iter,
            early_iter: self.early_iter,
            alpha: self.alpha,
            exaggeration: self.exaggeration,
            late: self
                .late_exaggeration
                .map(|e| (e, self.late_start.unwrap_or(self.early_iter))),
            dof: self.dof,
            init: self.init.resolve(points),
            eta: match self.eta {
                Eta::Fixed(e) => e,
                Eta::Auto => crate::plan::auto_eta(n, self.alpha),
            },
            eta_auto: self.eta == Eta::Auto,
            momentum: self.momentum.unwrap_or(if points {
                defaults::MOMENTUM_POINTS
            } else {
                defaults::MOMENTUM
            }),
            final_momentum: self.final_momentum,
            min_gain: self.min_gain,
            max_step: self.max_step,
            seed: self.seed,
            repulsion,
            exact_when_cheaper: self.repulsion == RepulsionKind::Auto
                && repulsion == RepulsionKind::Grid,
            grid_h: self
                .grid_h
                .unwrap_or_else(|| defaults::grid_h_for(self.dim, self.dof)),
            grid_max,
            grid_start: defaults::grid_start(self.dim, n).min(grid_max),
            near_split: self.near_split,
            order: self.order.resolve(n),
            attraction: self.attraction,
            block_size: match self.attraction {
                AttractionKind::Csb => Some(crate::csb::block_size(n, 3)),
                AttractionKind::Csr => None,
            },
            fft: self.fft,
            report_every: self.report_every,
        })
    }

    /// Checks every setting that does not depend on the graph.
    pub fn validate(&self) -> Result<()> {
        let bad = |name, msg: String| Err(Error::param(name, msg));
        if !(1..=3).contains(&self.dim) {
            return bad("dim", format!("must be 1, 2 or 3, got {}", self.dim));
        }
        if self.max_iter > defaults::MAX_ITER_LIMIT {
            return bad(
                "max_iter",
                format!(
                    "must be at most {}, got {}",
                    defaults::MAX_ITER_LIMIT,
                    self.max_iter
                ),
            );
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return bad(
                "alpha",
                format!("must be a positive number, got {}", self.alpha),
            );
        }
        for (name, v) in [
            ("exaggeration", Some(self.exaggeration)),
            ("late_exaggeration", self.late_exaggeration),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    return bad(name, format!("must be a positive number, got {v}"));
                }
            }
        }
        if self.late_start.is_some() && self.late_exaggeration.is_none() {
            return bad(
                "late_start",
                "is the start of the late exaggeration; give late_exaggeration too".into(),
            );
        }
        crate::kernel::Kernel::try_new(self.dof)?;
        if let Eta::Fixed(e) = self.eta {
            if !(e.is_finite() && e > 0.0) {
                return bad("eta", format!("must be a positive number, got {e}"));
            }
        }
        if let Some(h) = self.grid_h {
            if !(h.is_finite() && h > 0.0 && h <= 10.0) {
                return bad("grid_h", format!("must be in (0, 10], got {h}"));
            }
        }
        if let Some(m) = self.grid_max {
            if m < crate::repulse::MIN_GRID {
                return bad(
                    "grid_max",
                    format!(
                        "must be at least {} nodes per side, got {m}",
                        crate::repulse::MIN_GRID
                    ),
                );
            }
        }
        for (name, m) in [
            ("momentum", self.momentum.unwrap_or(defaults::MOMENTUM)),
            ("final_momentum", self.final_momentum),
        ] {
            if !(0.0..1.0).contains(&m) {
                return bad(name, format!("must be in [0, 1), got {m}"));
            }
        }
        if !(0.0..=1.0).contains(&self.min_gain) {
            return bad(
                "min_gain",
                format!("must be in [0, 1], got {}", self.min_gain),
            );
        }
        if !(self.max_step >= 0.0 && self.max_step.is_finite()) {
            return bad(
                "max_step",
                format!("must be 0 (no bound) or positive, got {}", self.max_step),
            );
        }
        if self.report_every == 0 {
            return bad("report_every", "must be at least 1".into());
        }
        Ok(())
    }

    /// Plans the run for `graph` and builds its session: the vertex
    /// ordering, the attraction's block layout and the repulsion engine,
    /// starting from `init` (n × dim coordinates, row-major, in input
    /// vertex order) or, when `None`, from the seeded random start.
    pub fn session(&self, graph: &StochasticGraph, init: Option<&[f64]>) -> Result<Session> {
        let plan = self.plan(graph.n())?;
        check_graph(graph)?;
        Session::new(plan, graph, init, &self.progress)
    }

    /// As [`Embedder::session`], for a graph built from `points` (one row
    /// per vertex, e.g. the points the neighbours were searched in): a
    /// `Pca` or `Auto` start is the points' top principal components. A
    /// `Subsample` start must be given, from [`Embedder::subsample_start`].
    pub fn session_points(
        &self,
        graph: &StochasticGraph,
        points: &Points,
        init: Option<&[f64]>,
    ) -> Result<Session> {
        let plan = self.plan_points(graph.n())?;
        if points.n() != graph.n() {
            return Err(Error::Input(format!(
                "{} points for a graph of {} vertices",
                points.n(),
                graph.n()
            )));
        }
        check_graph(graph)?;
        if let (None, Init::Subsample(_)) = (init, plan.init) {
            return Err(Error::param(
                "init",
                "a subsample start needs the affinities' settings: compute it with Embedder::subsample_start and pass it as the start",
            ));
        }
        if init.is_some() || plan.init != Init::Pca {
            return Session::new(plan, graph, init, &self.progress);
        }
        let phase = self.progress.phase("PCA start", 0);
        let y0 = crate::init::pca(points, plan.dim, plan.seed)?;
        drop(phase);
        Session::new(plan, graph, Some(&y0), &self.progress)
    }

    /// Runs `max_iter` iterations from the planned start and returns the result.
    pub fn embed(&self, graph: &StochasticGraph) -> Result<Embedding> {
        let mut s = self.session(graph, None)?;
        s.run_to_end(&mut |_| std::ops::ControlFlow::Continue(()))?;
        s.result()
    }
}

/// Refuses graphs with nothing to embed.
fn check_graph(graph: &StochasticGraph) -> Result<()> {
    if graph.n() < 2 {
        return Err(Error::Input(format!(
            "need at least 2 vertices, found {}",
            graph.n()
        )));
    }
    if graph.nnz() == 0 {
        return Err(Error::Input(format!(
            "the graph's {} vertices have no edges between them (self-loops do not count): nothing to embed",
            graph.n()
        )));
    }
    Ok(())
}
