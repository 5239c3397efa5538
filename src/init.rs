//! Where a run starts (SPEC §10): random, the data's principal components,
//! or the graph's Laplacian eigenmaps. Informative starts are rescaled so
//! the first coordinate's standard deviation is [`defaults::INIT_STD`], as
//! a random start's is, so the early phase behaves the same.

use crate::defaults;
use crate::error::{Error, Result};
use crate::graph::StochasticGraph;
use crate::pca::Pca;
use crate::points::Points;
use crate::spectral::{self, Eigenmaps};
use crate::util::Rng;

/// The start of a run when no coordinates are given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Init {
    /// Spectral for a graph, PCA for points.
    #[default]
    Auto,
    /// N(0, (1e-4)²) per coordinate, seeded.
    Random,
    /// The points' top principal components (point input only).
    Pca,
    /// Laplacian eigenmaps of P.
    Spectral,
    /// Point input only: embed a seeded random sample of this many points
    /// first, place the others at their nearest sample points, start from
    /// there ([`crate::subsample`]).
    Subsample(usize),
}

impl Init {
    /// `Auto` resolved for graph (`points` false) or point input.
    pub fn resolve(self, points: bool) -> Init {
        match self {
            Init::Auto if points => Init::Pca,
            Init::Auto => Init::Spectral,
            i => i,
        }
    }
}

impl std::str::FromStr for Init {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(Init::Auto),
            "random" => Ok(Init::Random),
            "pca" => Ok(Init::Pca),
            "spectral" => Ok(Init::Spectral),
            "subsample" => Ok(Init::Subsample(defaults::SUBSAMPLE_SIZE)),
            _ => match s.strip_prefix("subsample:") {
                Some(k) => k.parse().map(Init::Subsample).map_err(|_| {
                    format!("subsample:{k}: the sample size must be a whole number, e.g. subsample:25000")
                }),
                None => Err(format!(
                    "unknown init '{s}': expected auto, random, pca, spectral or subsample[:SIZE]"
                )),
            },
        }
    }
}

impl std::fmt::Display for Init {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Init::Auto => f.write_str("auto"),
            Init::Random => f.write_str("random"),
            Init::Pca => f.write_str("pca"),
            Init::Spectral => f.write_str("spectral"),
            Init::Subsample(k) => write!(f, "subsample:{k}"),
        }
    }
}

/// Random coordinates ~ N(0, (1e-4)²), n × dim row-major.
pub fn random(n: usize, dim: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..n * dim)
        .map(|_| defaults::INIT_STD * rng.normal())
        .collect()
}

/// The points' projection on their top `dim` principal components, signs
/// fixed (largest loading positive), scaled to the start's size. With no
/// more input dimensions than `dim`, the missing coordinates are seeded
/// noise far below the scale, so no axis starts degenerate.
pub fn pca(points: &Points, dim: usize, seed: u64) -> Result<Vec<f64>> {
    pca_named(points, dim, seed, "PCA")
}

/// [`pca`] for a start the user knows as `what` (a degenerate one is
/// reported under that name).
pub(crate) fn pca_named(points: &Points, dim: usize, seed: u64, what: &str) -> Result<Vec<f64>> {
    let (n, d) = (points.n(), points.d());
    let k = dim.min(d.saturating_sub(1));
    let mut out = vec![0.0; n * dim];
    if k > 0 {
        let proj = Pca::fit(points, k)?.project(points)?;
        for i in 0..n {
            out[i * dim..i * dim + k].copy_from_slice(proj.row(i));
        }
    } else if d == 1 {
        // One input dimension: its values are the only component.
        let mean = points.mean()[0];
        for i in 0..n {
            out[i * dim] = points.row(i)[0] - mean;
        }
    }
    finish(&mut out, n, dim, seed, what)?;
    Ok(out)
}

/// What the spectral start found, for progress and reports.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SpectralReport {
    /// Connected components of two or more vertices.
    pub components: usize,
    /// Vertices without edges (placed at random).
    pub isolated: usize,
    /// Whether every eigenpair reached the tolerance (a start needs the
    /// shape, not digits: unconverged vectors are still used).
    pub converged: bool,
    /// Largest Krylov dimension used.
    pub steps: usize,
}

/// Laplacian eigenmaps of `g` in `dim` dimensions (SPEC §10), each
/// component laid out on its own, the components placed apart on a
/// lattice (largest first), isolated vertices at seeded random positions;
/// scaled to the start's size.
pub fn spectral(g: &StochasticGraph, dim: usize, seed: u64) -> Result<(Vec<f64>, SpectralReport)> {
    let opts = spectral::Options {
        seed,
        ..Default::default()
    };
    let maps = spectral::eigenmaps(g, dim, &opts);
    let out = layout(&maps, g.n(), dim, seed)?;
    let report = SpectralReport {
        components: maps.components.len(),
        isolated: maps.isolated.len(),
        converged: maps.components.iter().all(|c| c.converged),
        steps: maps.components.iter().map(|c| c.steps).max().unwrap_or(0),
    };
    Ok((out, report))
}

/// Places each component's eigenmap (mapped back by D^(−1/2)) into one
/// n × dim layout.
pub fn layout(maps: &Eigenmaps, n: usize, dim: usize, seed: u64) -> Result<Vec<f64>> {
    let mut out = vec![0.0; n * dim];
    let mut rng = Rng::new(seed ^ 0x1a7_0c0de);
    let nc = maps.components.len();
    // Component c spans a radius ∝ size^(1/dim), so density is alike.
    let radius = |size: usize| (size as f64).powf(1.0 / dim as f64);
    let side = (1..).find(|s: &usize| s.pow(dim as u32) >= nc).unwrap_or(1);
    // Each component scaled first; the lattice spacing then clears the
    // widest one's farthest vertex (eigenvectors can have long tails).
    let mut scaled: Vec<Vec<f64>> = Vec::with_capacity(nc);
    let mut reach: f64 = 0.0;
    for comp in &maps.components {
        let m = comp.vertices.len();
        let mut local = vec![0.0; m * dim];
        for (c, v) in comp.vectors.iter().enumerate() {
            for (r, &x) in v.iter().enumerate() {
                let deg = maps.degree[comp.vertices[r] as usize];
                local[r * dim + c] = x / deg.sqrt();
            }
        }
        fix_signs(&mut local, m, dim);
        // Scale to RMS radius `radius(m)`; axes the component cannot fill
        // (fewer than dim + 1 vertices) get noise at a tenth of that.
        let have = comp.vectors.len();
        let mut mean = [0.0; 3];
        for r in 0..m {
            for c in 0..have {
                mean[c] += local[r * dim + c] / m as f64;
            }
        }
        let ms: f64 = (0..m)
            .map(|r| {
                (0..have)
                    .map(|c| (local[r * dim + c] - mean[c]).powi(2))
                    .sum::<f64>()
            })
            .sum::<f64>()
            / m as f64;
        let target = radius(m);
        let scale = if ms > 0.0 { target / ms.sqrt() } else { 0.0 };
        for r in 0..m {
            for c in 0..dim {
                let x = &mut local[r * dim + c];
                *x = if c < have {
                    (*x - mean[c]) * scale
                } else {
                    0.1 * target * rng.normal()
                };
                reach = reach.max(x.abs());
            }
        }
        scaled.push(local);
    }
    let spacing = 2.5 * reach.max(1e-300);
    for (ci, (comp, local)) in maps.components.iter().zip(&scaled).enumerate() {
        let mut centre = [0.0; 3];
        let mut t = ci;
        for c in centre.iter_mut().take(dim) {
            *c = ((t % side) as f64 - (side - 1) as f64 / 2.0) * spacing;
            t /= side;
        }
        for (r, &v) in comp.vertices.iter().enumerate() {
            for c in 0..dim {
                out[v as usize * dim + c] = centre[c] + local[r * dim + c];
            }
        }
    }
    let spread = if nc > 0 {
        spacing * side as f64 / 2.0
    } else {
        1.0
    };
    for &v in &maps.isolated {
        for c in 0..dim {
            out[v as usize * dim + c] = spread * rng.normal();
        }
    }
    finish(&mut out, n, dim, seed, "spectral")?;
    Ok(out)
}

/// Each axis's sign set so its largest-magnitude entry is positive (ties:
/// the first), so eigensolver signs never show.
fn fix_signs(x: &mut [f64], n: usize, dim: usize) {
    for c in 0..dim {
        let mut best = 0;
        for r in 0..n {
            if x[r * dim + c].abs() > x[best * dim + c].abs() {
                best = r;
            }
        }
        if n > 0 && x[best * dim + c] < 0.0 {
            for r in 0..n {
                x[r * dim + c] = -x[r * dim + c];
            }
        }
    }
}

/// Centres the start and scales it so the first coordinate's standard
/// deviation is [`defaults::INIT_STD`]; an axis left with no spread gets
/// seeded noise at 1% of that, so the gradient can open it.
pub(crate) fn finish(y: &mut [f64], n: usize, dim: usize, seed: u64, what: &str) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let std_of = |y: &[f64], c: usize| {
        let mean = (0..n).map(|r| y[r * dim + c]).sum::<f64>() / n as f64;
        let var = (0..n).map(|r| (y[r * dim + c] - mean).powi(2)).sum::<f64>() / n as f64;
        (mean, var.sqrt())
    };
    let (_, s0) = std_of(y, 0);
    if !(s0.is_finite() && s0 > 0.0) {
        return Err(Error::Input(format!(
            "the {what} start is degenerate: its first axis has no spread (all points alike?); use a random start"
        )));
    }
    let scale = defaults::INIT_STD / s0;
    let mut rng = Rng::new(seed ^ 0xf1_15e);
    for c in 0..dim {
        let (mean, s) = std_of(y, c);
        let flat = s * scale < 1e-3 * defaults::INIT_STD;
        for r in 0..n {
            let v = &mut y[r * dim + c];
            *v = (*v - mean) * scale;
            if flat {
                *v += 1e-2 * defaults::INIT_STD * rng.normal();
            }
        }
    }
    Ok(())
}
