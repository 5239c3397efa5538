//! The optimiser (SPEC §5): early exaggeration, momentum, gains, re-centring.

use std::ops::ControlFlow;
use std::time::Instant;

use rayon::prelude::*;

use crate::attract::{Attraction, CsrAttraction};
use crate::csb::CsbAttraction;
use crate::error::{Error, Result};
use crate::graph::StochasticGraph;
use crate::init::Init;
use crate::kernel::Kernel;
use crate::order::{self, Permutation};
use crate::plan::Plan;
use crate::points::Points;
use crate::progress::Meter;
use crate::repulse::{ExactRepulsion, GridRepulsion, Repulsion, RepulsionKind};
use crate::util::short_num;
use crate::util::{fixed_sum_rows_into, CHUNK};

/// Seconds spent in each part of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    /// The start: spectral or PCA layout (0 for random or given).
    pub init: f64,
    /// Ordering and block layout (symbolic work done once).
    pub setup: f64,
    pub attraction: f64,
    pub repulsion: f64,
    /// Updates, re-centring, cost evaluation.
    pub other: f64,
}

/// Largest N whose final KL is computed with the exact O(N²) Z.
pub const EXACT_KL_MAX_N: usize = 20_000;

/// Evaluations in a row at which a rising cost is reported in [`Progress`].
pub const RISING_REPORTS: usize = 3;
/// Smallest relative rise reported (below it, grid round-off on a
/// converged run).
pub const RISING_MIN: f64 = 5e-3;

/// Watches the evaluated cost for a sustained rise after the early phase.
#[derive(Clone, Copy, Debug, Default)]
struct Trend {
    /// Exaggeration at the previous evaluation; a change starts afresh.
    alpha: f64,
    last: Option<f64>,
    rises: usize,
    /// Iteration and cost where the current run of rises began.
    start: (usize, f64),
}

impl Trend {
    fn see(&mut self, iter: usize, alpha: f64, kl: f64) -> Option<(usize, f64)> {
        if alpha != self.alpha || self.last.is_none() {
            *self = Trend {
                alpha,
                last: Some(kl),
                rises: 0,
                start: (iter, kl),
            };
            return None;
        }
        if kl > self.last.unwrap_or(kl) {
            self.rises += 1;
        } else {
            self.rises = 0;
            self.start = (iter, kl);
        }
        self.last = Some(kl);
        (self.rises >= RISING_REPORTS && kl - self.start.1 > RISING_MIN * self.start.1.abs())
            .then_some(self.start)
    }
}

/// Coordinates beyond this magnitude mean the optimisation has diverged.
const EXPLODED: f64 = 1e8;

/// One iteration's news, for progress display and for stopping a run.
#[derive(Clone, Copy, Debug)]
pub struct Progress<'a> {
    /// Iterations done in the session so far, this one included (1-based).
    pub iter: usize,
    /// The iteration at which the current call to run ends.
    pub max_iter: usize,
    /// KL(P‖Q) before this iteration's step, when it was evaluated
    /// (the first iteration, every `report_every`, and the last of a call).
    pub kl: Option<f64>,
    /// Seconds since the previous evaluated cost (0 where `kl` is `None`).
    pub seconds: f64,
    /// The repulsion grid of this iteration (None for the exact sum); its
    /// spacing exceeds the plan's `grid_h` when the node cap binds.
    pub grid: Option<crate::repulse::GridShape>,
    /// Set when the cost has risen at [`RISING_REPORTS`] evaluations in a
    /// row under an unchanged exaggeration after the early phase, by more
    /// than [`RISING_MIN`] of its value: (the iteration where the rise
    /// began, the cost there). The optimisation is likely diverging.
    pub rising: Option<(usize, f64)>,
    dim: usize,
    /// Coordinates after this iteration's step, working order, row-major.
    y: &'a [f64],
    perm: &'a Permutation,
}

impl Progress<'_> {
    /// The embedding dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Vertices.
    pub fn n(&self) -> usize {
        self.perm.len()
    }

    /// The current coordinates, n × dim row-major, in input vertex order.
    pub fn coordinates(&self) -> Vec<f64> {
        let mut out = vec![0.0; self.y.len()];
        self.coordinates_into(&mut out);
        out
    }

    /// Copies the current coordinates (input vertex order) into `out`,
    /// which holds n × dim values: no allocation.
    pub fn coordinates_into(&self, out: &mut [f64]) {
        assert_eq!(out.len(), self.y.len(), "out must hold n x dim values");
        let d = self.dim;
        for (old, row) in out.chunks_exact_mut(d).enumerate() {
            let w = self.perm.new_of(old);
            row.copy_from_slice(&self.y[w * d..(w + 1) * d]);
        }
    }
}

/// Whether a call to run did all its iterations or was stopped by its callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Completed,
    Stopped,
}

/// The state of a run in D dimensions: the engines, the coordinates and
/// the optimiser's velocities and gains, all in working (permuted) order.
pub(crate) struct Optimizer<const D: usize> {
    plan: Plan,
    perm: Permutation,
    attraction: Box<dyn Attraction<D>>,
    repulsion: Box<dyn Repulsion<D>>,
    y: Vec<[f64; D]>,
    attr: Vec<[f64; D]>,
    rep: Vec<[f64; D]>,
    upd: Vec<[f64; D]>,
    gains: Vec<[f64; D]>,
    /// Per-chunk sums of the re-centring, kept so no iteration allocates.
    partial: Vec<[f64; D]>,
    iter: usize,
    kernel: Kernel,
    /// What the spectral start found, when the run started from it.
    spectral: Option<crate::init::SpectralReport>,
    timings: Timings,
    trend: Trend,
}

impl<const D: usize> Optimizer<D> {
    /// The symbolic work, once: ordering, permuted graph, attraction
    /// layout, repulsion engine, and the start in working order.
    pub(crate) fn new(
        plan: Plan,
        g: &StochasticGraph,
        init: Option<&[f64]>,
        meter: &Meter,
    ) -> Result<Self> {
        debug_assert_eq!(plan.dim, D);
        let n = g.n();
        if let Some(y0) = init {
            if y0.len() != n * D {
                return Err(Error::Input(format!(
                    "initial embedding has {} values, the graph needs {} vertices x {} = {}",
                    y0.len(),
                    n,
                    D,
                    n * D
                )));
            }
            if y0.iter().any(|v| !v.is_finite()) {
                return Err(Error::Input(
                    "initial embedding has a non-finite coordinate".into(),
                ));
            }
        }
        let kernel = Kernel::try_new(plan.dof)?;
        let t = Instant::now();
        let mut spectral = None;
        let start: Vec<f64> =
            match (init, plan.init) {
                (Some(y0), _) => y0.to_vec(),
                (None, Init::Spectral) => {
                    let phase = meter.phase("spectral start", 0);
                    let (y0, report) = crate::init::spectral(g, D, plan.seed)?;
                    drop(phase);
                    spectral = Some(report);
                    y0
                }
                (None, Init::Pca) => return Err(Error::param(
                    "init",
                    "pca needs the points the graph was built from (Embedder::session_points); a graph alone has none: use spectral, random or given coordinates",
                )),
                (None, Init::Subsample(_)) => return Err(Error::param(
                    "init",
                    "a subsample start is computed from the points before the run (Embedder::subsample_start) and given as the start",
                )),
                (None, _) => crate::init::random(n, D, plan.seed),
            };
        let init_seconds = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let phase = meter.phase(format!("vertex order ({})", plan.order), 0);
        let perm = order::compute(g, plan.order)?;
        drop(phase);
        let _phase = meter.phase("block layout", 0);
        let attraction: Box<dyn Attraction<D>> = match plan.block_size {
            Some(beta) => {
                Box::new(CsbAttraction::with_beta_permuted(g, &perm, beta).with_kernel(kernel))
            }
            None => Box::new(CsrAttraction::new(perm.permute_graph(g)).with_kernel(kernel)),
        };
        let repulsion: Box<dyn Repulsion<D>> = match plan.repulsion {
            RepulsionKind::Exact => Box::new(ExactRepulsion::with_kernel(kernel)),
            _ => Box::new(
                GridRepulsion::<D>::with_backend(plan.grid_h, plan.fft)
                    .with_kernel(kernel)
                    .with_exact_when_cheaper(plan.exact_when_cheaper)
                    .with_max_side(plan.grid_start)
                    .with_growth(plan.grid_max, crate::defaults::NEAR_PAIRS_PER_NODE)
                    .with_split(plan.near_split.then(|| crate::repulse::Split::for_dim(D))),
            ),
        };
        let rows: Vec<[f64; D]> = start
            .chunks_exact(D)
            .map(|c| c.try_into().expect("chunks of D"))
            .collect();
        let y = perm.permute_in(&rows);
        Ok(Optimizer {
            plan,
            perm,
            attraction,
            repulsion,
            y,
            attr: vec![[0.0; D]; n],
            rep: vec![[0.0; D]; n],
            upd: vec![[0.0; D]; n],
            gains: vec![[1.0; D]; n],
            partial: Vec::with_capacity(n.div_ceil(CHUNK)),
            trend: Trend::default(),
            iter: 0,
            kernel,
            spectral,
            timings: Timings {
                setup: t.elapsed().as_secs_f64(),
                init: init_seconds,
                ..Default::default()
            },
        })
    }

    pub(crate) fn plan(&self) -> &Plan {
        &self.plan
    }
    pub(crate) fn iterations(&self) -> usize {
        self.iter
    }
    pub(crate) fn timings(&self) -> Timings {
        self.timings
    }
    pub(crate) fn spectral(&self) -> Option<&crate::init::SpectralReport> {
        self.spectral.as_ref()
    }
    /// Coordinates in input vertex order.
    pub(crate) fn coordinates(&self) -> Vec<f64> {
        self.perm
            .permute_out(&self.y)
            .into_iter()
            .flatten()
            .collect()
    }

    /// The optimiser's velocities and gains, in input vertex order.
    pub(crate) fn velocities_and_gains(&self) -> (Vec<f64>, Vec<f64>) {
        let out = |v: &[[f64; D]]| self.perm.permute_out(v).into_iter().flatten().collect();
        (out(&self.upd), out(&self.gains))
    }

    /// Takes up a saved run: its velocities and gains (input order, as
    /// [`Self::velocities_and_gains`] gave them) and its iteration count.
    pub(crate) fn restore(&mut self, upd: &[f64], gains: &[f64], iterations: usize) -> Result<()> {
        let n = self.y.len();
        if upd.len() != n * D || gains.len() != n * D {
            return Err(Error::Input(format!(
                "saved optimiser state holds {} and {} values, the run needs {}",
                upd.len(),
                gains.len(),
                n * D
            )));
        }
        let rows = |v: &[f64]| -> Vec<[f64; D]> {
            v.chunks_exact(D)
                .map(|c| c.try_into().expect("chunks of D"))
                .collect()
        };
        self.upd = self.perm.permute_in(&rows(upd));
        self.gains = self.perm.permute_in(&rows(gains));
        self.iter = iterations;
        Ok(())
    }

    /// Runs `count` iterations; the exaggeration and momentum schedule
    /// follows the session's iteration count, so runs in pieces equal one
    /// run in one piece, bit for bit.
    pub(crate) fn run(
        &mut self,
        count: usize,
        on_progress: &mut dyn FnMut(&Progress) -> ControlFlow<()>,
    ) -> Result<RunStatus> {
        let end = self.iter + count;
        let mut last_report = Instant::now();
        while self.iter < end {
            let kl = self.step(end)?;
            let rising = match kl {
                Some(k) if self.iter >= self.plan.early_iter => {
                    self.trend
                        .see(self.iter + 1, self.plan.exaggeration_at(self.iter), k)
                }
                _ => None,
            };
            self.iter += 1;
            let seconds = if kl.is_some() {
                let s = last_report.elapsed().as_secs_f64();
                last_report = Instant::now();
                s
            } else {
                0.0
            };
            let p = Progress {
                iter: self.iter,
                max_iter: end,
                kl,
                seconds,
                grid: self.repulsion.grid(),
                rising,
                dim: D,
                y: self.y.as_flattened(),
                perm: &self.perm,
            };
            if on_progress(&p).is_break() {
                return Ok(RunStatus::Stopped);
            }
        }
        Ok(RunStatus::Completed)
    }

    /// One iteration (number `self.iter`, 0-based, of a call ending at
    /// `end`); returns the cost when it was evaluated.
    fn step(&mut self, end: usize) -> Result<Option<f64>> {
        let p = &self.plan;
        let iter = self.iter;
        let early = iter < p.early_iter;
        let eta = p.eta_at(iter);
        let t = Instant::now();
        self.attraction.forces(&self.y, &mut self.attr);
        self.timings.attraction += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let z = self.repulsion.compute(&self.y, &mut self.rep);
        self.timings.repulsion += t.elapsed().as_secs_f64();

        let t = Instant::now();
        if !(z.is_finite() && z > 0.0) {
            return Err(self.bad_z(iter, z, eta));
        }
        let report = iter == 0 || (iter + 1).is_multiple_of(p.report_every) || iter + 1 == end;
        let kl = if report {
            let ta = Instant::now();
            let k = self.attraction.kl_part(&self.y) + z.ln();
            self.timings.attraction += ta.elapsed().as_secs_f64();
            Some(k)
        } else {
            None
        };
        let step = Step {
            alpha: p.exaggeration_at(iter),
            inv_z: 1.0 / z,
            momentum: if early { p.momentum } else { p.final_momentum },
            eta,
            min_gain: p.min_gain,
            max_step: p.max_step,
        };
        if !update(
            &mut self.y,
            &self.attr,
            &self.rep,
            &mut self.upd,
            &mut self.gains,
            &step,
        ) {
            return Err(Error::Numerical {
                iter: iter + 1,
                msg: format!(
                    "the gradient or the embedding became non-finite or exploded (|y| > {EXPLODED:e}); the step size eta = {} is likely too large",
                    short_num(eta)
                ),
                param: Some("eta"),
            });
        }
        recenter(&mut self.y, &mut self.partial);
        self.timings.other += t.elapsed().as_secs_f64();
        Ok(kl)
    }

    /// The error for a normalisation Z that is not a positive number,
    /// naming the likelier cause: a grid too coarse for the embedding (its
    /// estimate of Z can come out negative) or a diverged step.
    fn bad_z(&self, iter: usize, z: f64, eta: f64) -> Error {
        let p = &self.plan;
        let default_h = crate::defaults::grid_h_for(p.dim, p.dof);
        let (msg, param) = match self.repulsion.grid() {
            Some(g) if z.is_finite() && (p.grid_h > default_h || g.h > 4.0 * default_h) => (
                format!(
                    "the grid's estimate of the normalisation Z is {}, not positive: at spacing \
                     h = {} the grid is too coarse for this embedding{} (a smaller --grid-h, or \
                     --repulsion exact for a small graph)",
                    short_num(z),
                    short_num(g.h),
                    if p.grid_h > default_h {
                        format!(" (the default spacing is {default_h})")
                    } else {
                        String::new()
                    }
                ),
                "grid_h",
            ),
            _ => (
                format!(
                    "normalisation Z = {} is not a positive finite number: the embedding collapsed \
                     or diverged (the step size eta = {} may be too large, or --max-step too long)",
                    short_num(z),
                    short_num(eta)
                ),
                "eta",
            ),
        };
        Error::Numerical {
            iter: iter + 1,
            msg,
            param: Some(param),
        }
    }

    /// KL(P‖Q) of the current embedding, with Z exact for N ≤
    /// [`EXACT_KL_MAX_N`] or the exact engine; returns (KL, exact, Z).
    pub(crate) fn cost(&mut self) -> Result<(f64, bool, f64)> {
        let t = Instant::now();
        let exact = self.y.len() <= EXACT_KL_MAX_N || self.plan.repulsion == RepulsionKind::Exact;
        let z = if exact {
            exact_z_kernel(&self.y, self.kernel)
        } else {
            self.repulsion.compute(&self.y, &mut self.rep)
        };
        let kl = self.attraction.kl_part(&self.y) + z.ln();
        self.timings.other += t.elapsed().as_secs_f64();
        if !kl.is_finite() {
            return Err(Error::Numerical {
                iter: self.iter,
                msg: format!("the cost of the embedding is {kl}"),
                param: None,
            });
        }
        Ok((kl, exact, z))
    }
}

struct Step {
    alpha: f64,
    inv_z: f64,
    momentum: f64,
    eta: f64,
    min_gain: f64,
    max_step: f64,
}

fn sign(x: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else if x < 0.0 {
        -1.0
    } else {
        1.0
    }
}

/// Gains and momentum update (bh_tsne's rule). Returns false when any
/// gradient or coordinate is non-finite or beyond [`EXPLODED`].
fn update<const D: usize>(
    y: &mut [[f64; D]],
    attr: &[[f64; D]],
    rep: &[[f64; D]],
    upd: &mut [[f64; D]],
    gains: &mut [[f64; D]],
    s: &Step,
) -> bool {
    y.par_chunks_mut(CHUNK)
        .zip(upd.par_chunks_mut(CHUNK))
        .zip(gains.par_chunks_mut(CHUNK))
        .enumerate()
        .map(|(c, ((yc, uc), gc))| {
            let mut ok = true;
            for k in 0..yc.len() {
                let i = c * CHUNK + k;
                let mut norm2 = 0.0;
                for d in 0..D {
                    let grad = s.alpha * attr[i][d] - s.inv_z * rep[i][d];
                    let u = uc[k][d];
                    let mut gain = if sign(grad) != sign(u) {
                        gc[k][d] + 0.2
                    } else {
                        gc[k][d] * 0.8
                    };
                    if gain < s.min_gain {
                        gain = s.min_gain;
                    }
                    gc[k][d] = gain;
                    let u = s.momentum * u - s.eta * gain * grad;
                    uc[k][d] = u;
                    norm2 += u * u;
                    ok &= grad.is_finite();
                }
                // The clipped step is also the velocity momentum carries on.
                if s.max_step > 0.0 && norm2 > s.max_step * s.max_step {
                    let f = s.max_step / norm2.sqrt();
                    uc[k].iter_mut().for_each(|u| *u *= f);
                }
                for d in 0..D {
                    let v = yc[k][d] + uc[k][d];
                    yc[k][d] = v;
                    ok &= v.abs() <= EXPLODED;
                }
            }
            ok
        })
        // A reduction, not `all`, which could stop early and skip chunks.
        .reduce(|| true, |a, b| a && b)
}

/// Shifts every coordinate to zero mean; `partial` holds the per-chunk
/// sums, reused between calls so no iteration allocates.
pub fn recenter<const D: usize>(y: &mut [[f64; D]], partial: &mut Vec<[f64; D]>) {
    let s = fixed_sum_rows_into(y, partial);
    let inv = 1.0 / y.len() as f64;
    let mean = s.map(|v| v * inv);
    y.par_chunks_mut(CHUNK).for_each(|c| {
        for r in c {
            for d in 0..D {
                r[d] -= mean[d];
            }
        }
    });
}

/// The exact Z = Σ_{i≠j} 1 / (1 + ‖y_i − y_j‖²), O(N²).
pub fn exact_z<const D: usize>(y: &[[f64; D]]) -> f64 {
    exact_z_kernel(y, Kernel::CAUCHY)
}

/// The exact Z = Σ_{i≠j} w_ij for the kernel `kernel`, O(N²).
pub fn exact_z_kernel<const D: usize>(y: &[[f64; D]], kernel: Kernel) -> f64 {
    crate::util::fixed_sum_by(y.len(), |i| {
        let yi = &y[i];
        let mut z = 0.0;
        for yj in &y[i + 1..] {
            z += kernel.repulsion(crate::util::dist2(yi, yj)).0;
        }
        2.0 * z
    })
}

/// KL(P‖Q) of an embedding (working order matching `g`), with the exact Z.
pub fn exact_kl<const D: usize>(g: &StochasticGraph, y: &[[f64; D]]) -> f64 {
    exact_kl_kernel(g, y, Kernel::CAUCHY)
}

/// KL(P‖Q) for the kernel `kernel`, with the exact Z.
pub fn exact_kl_kernel<const D: usize>(g: &StochasticGraph, y: &[[f64; D]], kernel: Kernel) -> f64 {
    let a = CsrAttraction::new(g).with_kernel(kernel);
    Attraction::<D>::kl_part(&a, y) + exact_z_kernel(y, kernel).ln()
}

/// Each vertex's share of KL(P‖Q): C_i = Σ_j P_ij ln(P_ij Z / w_ij),
/// with `g` and `coords` in the same vertex order; the shares sum to the KL.
pub fn point_costs(g: &StochasticGraph, coords: &Points, z: f64, kernel: Kernel) -> Vec<f64> {
    let lz = z.ln();
    (0..g.n())
        .into_par_iter()
        .map(|i| {
            let (cols, vals) = g.row(i);
            let yi = coords.row(i);
            cols.iter()
                .zip(vals)
                .map(|(&j, &p)| {
                    let d2 = yi
                        .iter()
                        .zip(coords.row(j as usize))
                        .fold(0.0, |s, (a, b)| s + (a - b) * (a - b));
                    p * (p.ln() + lz + kernel.neg_ln_w(d2))
                })
                .sum()
        })
        .collect()
}
