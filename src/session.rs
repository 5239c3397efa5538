//! A run that can be continued: [`Session`] owns the permuted graph's
//! engines, the coordinates and the optimiser's state, dispatches on the
//! dimension once, and runs any number of iterations at a time.

use std::ops::ControlFlow;

use crate::error::Result;
use crate::graph::StochasticGraph;
use crate::optimize::Optimizer;
pub use crate::optimize::{Progress, RunStatus, Timings, EXACT_KL_MAX_N};
use crate::plan::Plan;
use crate::points::Points;
use crate::progress::Meter;

/// The optimisation of one graph, in 1, 2 or 3 dimensions (chosen at run
/// time; the engines are compiled per dimension).
///
/// Running 500 iterations and then 500 more gives the same bits as running
/// 1000 at once: the schedule (early exaggeration, momentum) follows the
/// session's iteration count, and the state carries over whole.
pub struct Session {
    inner: Inner,
}

enum Inner {
    D1(Optimizer<1>),
    D2(Optimizer<2>),
    D3(Optimizer<3>),
}

/// Calls `$body` with `$o` bound to the session's optimiser, whatever its
/// dimension: the one place the library dispatches on it.
macro_rules! with_optimizer {
    ($inner:expr, $o:ident => $body:expr) => {
        match $inner {
            Inner::D1($o) => $body,
            Inner::D2($o) => $body,
            Inner::D3($o) => $body,
        }
    };
}

/// The result of a run: coordinates in input vertex order and the cost.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Embedding {
    /// n × dim coordinates, one row per vertex in input order.
    pub coords: Points,
    /// KL(P‖Q) of these coordinates.
    pub kl: f64,
    /// Whether Z (and so the KL) was computed exactly: N ≤
    /// [`EXACT_KL_MAX_N`] or the exact repulsion.
    pub kl_exact: bool,
    /// Z = Σ_{i≠j} (1 + ‖y_i − y_j‖²)⁻¹ of these coordinates.
    pub z: f64,
    /// Iterations run in the session.
    pub iterations: usize,
    /// Seconds per part of the run so far.
    pub timings: Timings,
}

impl Session {
    /// Builds the engines for `plan` (see [`crate::Embedder::session`]).
    pub(crate) fn new(
        plan: Plan,
        g: &StochasticGraph,
        init: Option<&[f64]>,
        meter: &Meter,
    ) -> Result<Session> {
        let inner = match plan.dim {
            1 => Inner::D1(Optimizer::new(plan, g, init, meter)?),
            2 => Inner::D2(Optimizer::new(plan, g, init, meter)?),
            _ => Inner::D3(Optimizer::new(plan, g, init, meter)?),
        };
        Ok(Session { inner })
    }

    /// Rebuilds a session from a saved state (see [`crate::model::Model`]):
    /// its coordinates, velocities and gains (input order) and its
    /// iteration count; running it on gives the bits an uninterrupted run
    /// would have.
    pub(crate) fn restore(
        plan: Plan,
        g: &StochasticGraph,
        coords: &[f64],
        upd: &[f64],
        gains: &[f64],
        iterations: usize,
        meter: &Meter,
    ) -> Result<Session> {
        let mut s = Session::new(plan, g, Some(coords), meter)?;
        with_optimizer!(&mut s.inner, o => o.restore(upd, gains, iterations))?;
        Ok(s)
    }

    /// The optimiser's velocities and gains, n × dim each, in input order.
    pub(crate) fn velocities_and_gains(&self) -> (Vec<f64>, Vec<f64>) {
        with_optimizer!(&self.inner, o => o.velocities_and_gains())
    }

    /// What the session does: the settings with every `auto` resolved.
    pub fn plan(&self) -> &Plan {
        with_optimizer!(&self.inner, o => o.plan())
    }

    /// Iterations run so far.
    pub fn iterations(&self) -> usize {
        with_optimizer!(&self.inner, o => o.iterations())
    }

    /// Seconds per part of the run so far.
    pub fn timings(&self) -> Timings {
        with_optimizer!(&self.inner, o => o.timings())
    }

    /// What the spectral start found, when the run started from it.
    pub fn spectral(&self) -> Option<&crate::init::SpectralReport> {
        with_optimizer!(&self.inner, o => o.spectral())
    }

    /// Runs `count` more iterations. `on_progress` is called after each
    /// one with its [`Progress`] (the cost where evaluated, the current
    /// coordinates on request); returning `ControlFlow::Break(())` stops
    /// the run after that iteration, and the coordinates so far stay in
    /// the session. A numerical failure is an error; the session then
    /// holds the coordinates that failed.
    pub fn run(
        &mut self,
        count: usize,
        on_progress: &mut dyn FnMut(&Progress) -> ControlFlow<()>,
    ) -> Result<RunStatus> {
        with_optimizer!(&mut self.inner, o => o.run(count, on_progress))
    }

    /// Runs until the session has done the plan's `max_iter` iterations
    /// (nothing when it already has).
    pub fn run_to_end(
        &mut self,
        on_progress: &mut dyn FnMut(&Progress) -> ControlFlow<()>,
    ) -> Result<RunStatus> {
        let left = self.plan().max_iter.saturating_sub(self.iterations());
        self.run(left, on_progress)
    }

    /// The current coordinates, n × dim row-major, in input vertex order.
    pub fn coordinates(&self) -> Vec<f64> {
        with_optimizer!(&self.inner, o => o.coordinates())
    }

    /// The current embedding with its cost (Z exact up to
    /// [`EXACT_KL_MAX_N`] vertices). The session can run on afterwards,
    /// with the same bits as if this had not been asked.
    pub fn result(&mut self) -> Result<Embedding> {
        let (kl, kl_exact, z) = with_optimizer!(&mut self.inner, o => o.cost())?;
        let p = self.plan();
        let coords = Points::try_new(p.n, p.dim, self.coordinates())?;
        Ok(Embedding {
            coords,
            kl,
            kl_exact,
            z,
            iterations: self.iterations(),
            timings: self.timings(),
        })
    }
}
