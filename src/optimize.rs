//! The optimiser (SPEC §5): early exaggeration, momentum, gains, re-centring.

use std::time::Instant;

use rayon::prelude::*;

use crate::attract::{Attraction, CsrAttraction};
use crate::csb::CsbAttraction;
use crate::error::{Error, Result};
use crate::graph::StochasticGraph;
use crate::order::{self, Ordering};
use crate::repulse::{ExactRepulsion, GridRepulsion, Repulsion, RepulsionKind};
use crate::util::{dist2, fixed_sum_rows, Rng, CHUNK};

/// Step size: a number, or `auto` = max(200, N/α).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Eta {
    Auto,
    Fixed(f64),
}

impl std::str::FromStr for Eta {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        if s == "auto" {
            return Ok(Eta::Auto);
        }
        match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(Eta::Fixed(v)),
            _ => Err(format!("'{s}' is not 'auto' or a positive number")),
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

/// Everything that steers a run. `Default` gives the SPEC §5 defaults.
#[derive(Clone, Debug)]
pub struct Params {
    pub max_iter: usize,
    /// Iterations with exaggeration α and momentum 0.5.
    pub early_iter: usize,
    pub alpha: f64,
    pub eta: Eta,
    pub momentum: f64,
    pub final_momentum: f64,
    pub min_gain: f64,
    pub seed: u64,
    pub repulsion: RepulsionKind,
    /// Grid spacing; `None` = 0.5 / 0.7 / 1.2 for d = 1 / 2 / 3.
    pub grid_h: Option<f64>,
    pub ordering: Ordering,
    pub attraction: AttractionKind,
    /// The cost is reported at iteration 1, every `report_every` and the last.
    pub report_every: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            max_iter: 1000,
            early_iter: 250,
            alpha: 12.0,
            eta: Eta::Auto,
            momentum: 0.5,
            final_momentum: 0.8,
            min_gain: 0.01,
            seed: 0x5eed,
            repulsion: RepulsionKind::Auto,
            grid_h: None,
            ordering: Ordering::Metis,
            attraction: AttractionKind::Csb,
            report_every: 50,
        }
    }
}

impl Params {
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Param(m));
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            return bad(format!(
                "alpha must be a positive number, got {}",
                self.alpha
            ));
        }
        if let Eta::Fixed(e) = self.eta {
            if !(e.is_finite() && e > 0.0) {
                return bad(format!("eta must be positive, got {e}"));
            }
        }
        if let Some(h) = self.grid_h {
            if !(h.is_finite() && h > 0.0 && h <= 10.0) {
                return bad(format!("grid spacing h must be in (0, 10], got {h}"));
            }
        }
        if !(0.0..1.0).contains(&self.momentum) || !(0.0..1.0).contains(&self.final_momentum) {
            return bad("momentum must be in [0, 1)".into());
        }
        if self.report_every == 0 {
            return bad("report interval must be at least 1".into());
        }
        Ok(())
    }

    /// The step size for N vertices.
    pub fn eta_for(&self, n: usize) -> f64 {
        match self.eta {
            Eta::Fixed(e) => e,
            Eta::Auto => (n as f64 / self.alpha).max(200.0),
        }
    }
}

/// Seconds spent in each part of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    /// Ordering and block layout (symbolic work done once).
    pub setup: f64,
    pub attraction: f64,
    pub repulsion: f64,
    /// Updates, re-centring, cost evaluation.
    pub other: f64,
}

/// One iteration's news, for progress display.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    /// 1-based iteration number.
    pub iter: usize,
    pub max_iter: usize,
    /// KL(P‖Q) at this iteration, when it was evaluated (reporting iterations).
    pub kl: Option<f64>,
    /// Seconds since the previous reported cost.
    pub seconds: f64,
}

/// The result of a run, in original vertex order.
#[derive(Clone, Debug)]
pub struct Embedding<const D: usize> {
    pub y: Vec<[f64; D]>,
    /// Final KL(P‖Q); Z exact for N ≤ [`EXACT_KL_MAX_N`].
    pub kl: f64,
    pub kl_exact: bool,
    /// The normalisation Z = Σ_{i≠j} (1 + ‖y_i − y_j‖²)⁻¹ of the final
    /// embedding (exact when `kl_exact`).
    pub z: f64,
    pub eta: f64,
    pub timings: Timings,
    pub repulsion: RepulsionKind,
}

/// Largest N whose final KL is computed with the exact O(N²) Z.
pub const EXACT_KL_MAX_N: usize = 20_000;

/// Coordinates beyond this magnitude mean the optimisation has diverged.
const EXPLODED: f64 = 1e8;

/// The default grid spacing for dimension d (SPEC §6).
pub fn default_grid_h(d: usize) -> f64 {
    match d {
        1 => 0.5,
        2 => 0.7,
        _ => 1.2,
    }
}

/// Random initial coordinates ~ N(0, (1e-4)²), in original vertex order.
pub fn random_init<const D: usize>(n: usize, seed: u64) -> Vec<[f64; D]> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let mut r = [0.0; D];
            for x in r.iter_mut() {
                *x = 1e-4 * rng.normal();
            }
            r
        })
        .collect()
}

/// Embeds `g` in D dimensions. `init`, if given, holds one row per vertex in
/// original order. `on_progress` is called after every iteration.
pub fn embed<const D: usize>(
    g: &StochasticGraph,
    params: &Params,
    init: Option<&[[f64; D]]>,
    on_progress: &mut dyn FnMut(&Progress),
) -> Result<Embedding<D>> {
    params.validate()?;
    let n = g.n();
    if n == 0 {
        return Err(Error::Input("the graph has no vertices".into()));
    }
    if let Some(y0) = init {
        if y0.len() != n {
            return Err(Error::Input(format!(
                "initial embedding has {} rows, the graph {} vertices",
                y0.len(),
                n
            )));
        }
        if y0.iter().flatten().any(|v| !v.is_finite()) {
            return Err(Error::Input(
                "initial embedding has a non-finite coordinate".into(),
            ));
        }
    }
    let t_setup = Instant::now();
    let perm = order::compute(g, params.ordering)?;
    let gp = g.permuted(&perm);
    let attraction: Box<dyn Attraction<D> + '_> = match params.attraction {
        AttractionKind::Csb => Box::new(CsbAttraction::new(&gp)),
        AttractionKind::Csr => Box::new(CsrAttraction::new(&gp)),
    };
    let kind = params.repulsion.resolve(n);
    let h = params.grid_h.unwrap_or(default_grid_h(D));
    let mut repulsion: Box<dyn Repulsion<D>> = match kind {
        RepulsionKind::Exact => Box::new(ExactRepulsion),
        _ => Box::new(GridRepulsion::<D>::new(h)),
    };
    let mut y: Vec<[f64; D]> = match init {
        Some(y0) => perm.permute_in(y0),
        None => perm.permute_in(&random_init::<D>(n, params.seed)),
    };
    let setup = t_setup.elapsed().as_secs_f64();

    let eta = params.eta_for(n);
    let mut attr = vec![[0.0; D]; n];
    let mut rep = vec![[0.0; D]; n];
    let mut upd = vec![[0.0; D]; n];
    let mut gains = vec![[1.0; D]; n];
    let mut timings = Timings {
        setup,
        ..Default::default()
    };
    let mut last_report = Instant::now();

    for iter in 0..params.max_iter {
        let early = iter < params.early_iter;
        let alpha = if early { params.alpha } else { 1.0 };
        let momentum = if early {
            params.momentum
        } else {
            params.final_momentum
        };

        let t = Instant::now();
        attraction.forces(&y, &mut attr);
        timings.attraction += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let z = repulsion.compute(&y, &mut rep);
        timings.repulsion += t.elapsed().as_secs_f64();

        let t = Instant::now();
        if !(z.is_finite() && z > 0.0) {
            return Err(Error::Numerical {
                iter: iter + 1,
                msg: format!("normalisation Z = {z} is not a positive finite number; the embedding collapsed or diverged (try a smaller --eta)"),
            });
        }
        let report =
            iter == 0 || (iter + 1) % params.report_every == 0 || iter + 1 == params.max_iter;
        let kl = if report {
            let ta = Instant::now();
            let k = attraction.kl_part(&y) + z.ln();
            timings.attraction += ta.elapsed().as_secs_f64();
            Some(k)
        } else {
            None
        };
        let params_step = Step {
            alpha,
            inv_z: 1.0 / z,
            momentum,
            eta,
            min_gain: params.min_gain,
        };
        if !update(&mut y, &attr, &rep, &mut upd, &mut gains, &params_step) {
            return Err(Error::Numerical {
                iter: iter + 1,
                msg: format!(
                    "the gradient or the embedding became non-finite or exploded (|y| > {EXPLODED:e}); the step size eta = {eta} is likely too large"
                ),
            });
        }
        recenter(&mut y);
        timings.other += t.elapsed().as_secs_f64();
        let seconds = if report {
            let s = last_report.elapsed().as_secs_f64();
            last_report = Instant::now();
            s
        } else {
            0.0
        };
        on_progress(&Progress {
            iter: iter + 1,
            max_iter: params.max_iter,
            kl,
            seconds,
        });
    }

    // Final cost of the final embedding.
    let t = Instant::now();
    let kl_exact = n <= EXACT_KL_MAX_N || kind == RepulsionKind::Exact;
    let z = if kl_exact {
        exact_z(&y)
    } else {
        repulsion.compute(&y, &mut rep)
    };
    let kl = attraction.kl_part(&y) + z.ln();
    timings.other += t.elapsed().as_secs_f64();
    if !kl.is_finite() {
        return Err(Error::Numerical {
            iter: params.max_iter,
            msg: format!("final cost is {kl}"),
        });
    }
    Ok(Embedding {
        y: perm.permute_out(&y),
        kl,
        kl_exact,
        z,
        eta,
        timings,
        repulsion: kind,
    })
}

struct Step {
    alpha: f64,
    inv_z: f64,
    momentum: f64,
    eta: f64,
    min_gain: f64,
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
                    let v = yc[k][d] + u;
                    yc[k][d] = v;
                    ok &= grad.is_finite() && v.abs() <= EXPLODED;
                }
            }
            ok
        })
        // A reduction, not `all`, which could stop early and skip chunks.
        .reduce(|| true, |a, b| a && b)
}

/// Shifts every coordinate to zero mean.
pub fn recenter<const D: usize>(y: &mut [[f64; D]]) {
    let s = fixed_sum_rows(y);
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
    crate::util::fixed_sum_by(y.len(), |i| {
        let yi = &y[i];
        let mut z = 0.0;
        for yj in &y[i + 1..] {
            z += 1.0 / (1.0 + crate::util::dist2(yi, yj));
        }
        2.0 * z
    })
}

/// KL(P‖Q) of an embedding (working order matching `g`), with the exact Z.
pub fn exact_kl<const D: usize>(g: &StochasticGraph, y: &[[f64; D]]) -> f64 {
    let a = CsrAttraction::new(g);
    Attraction::<D>::kl_part(&a, y) + exact_z(y).ln()
}

/// Each vertex's share of KL(P‖Q): C_i = Σ_j P_ij ln(P_ij Z (1 + ‖y_i − y_j‖²)),
/// with `g` and `y` in the same vertex order; the shares sum to the KL.
pub fn point_costs<const D: usize>(g: &StochasticGraph, y: &[[f64; D]], z: f64) -> Vec<f64> {
    let lz = z.ln();
    (0..g.n())
        .into_par_iter()
        .map(|i| {
            let (cols, vals) = g.row(i);
            cols.iter()
                .zip(vals)
                .map(|(&j, &p)| p * (p.ln() + lz + (1.0 + dist2(&y[i], &y[j as usize])).ln()))
                .sum()
        })
        .collect()
}
