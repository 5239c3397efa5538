//! From points to graph (SPEC §8): k nearest neighbours, exact or
//! approximate, then perplexity-calibrated affinities p(j|i).

mod descent;
mod exact;
mod heap;
mod lowdim;
mod perplexity;
mod query;

pub use descent::{approx, approx_with_progress, DescentParams, DescentProgress};
pub use exact::{exact, exact_query};
pub use lowdim::exact_low_dim;
pub use perplexity::{
    calibrate_row, perplexity_graph, perplexity_graph_metered, Calibration, PERPLEXITY_TOL,
};
pub use query::{QueryIndex, QueryParams, SearchGraph};

use crate::error::{Error, Result};
use crate::points::Points;
use crate::progress::Meter;

/// The k nearest neighbours of every point (itself excluded), nearest
/// first, ties broken by the smaller index.
#[derive(Clone, Debug, PartialEq)]
pub struct Knn {
    pub n: usize,
    pub k: usize,
    /// Row i: the neighbours of point i, `k` entries.
    pub idx: Vec<u32>,
    /// Squared Euclidean distances matching `idx`.
    pub dist2: Vec<f64>,
}

impl Knn {
    pub fn neighbors(&self, i: usize) -> (&[u32], &[f64]) {
        let r = i * self.k..(i + 1) * self.k;
        (&self.idx[r.clone()], &self.dist2[r])
    }
}

/// How the neighbours are found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KnnMethod {
    /// Exact below [`AUTO_EXACT_MAX_WORK`] (N² · D), NN-descent above.
    #[default]
    Auto,
    /// Blocked brute force: O(N² D), recall 1.
    Exact,
    /// NN-descent: approximate, roughly O(N k² D) per sweep.
    Approx,
}

impl std::str::FromStr for KnnMethod {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "auto" => Ok(KnnMethod::Auto),
            "exact" => Ok(KnnMethod::Exact),
            "approx" | "nndescent" => Ok(KnnMethod::Approx),
            _ => Err(format!(
                "unknown kNN method '{s}': expected auto, exact or approx"
            )),
        }
    }
}

impl std::fmt::Display for KnnMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            KnnMethod::Auto => "auto",
            KnnMethod::Exact => "exact",
            KnnMethod::Approx => "approx",
        })
    }
}

/// Above this N² · D the brute force costs more than NN-descent (measured
/// on Fashion-MNIST PCA-50, k = 90, 2 threads: 6.5 s exact against 22 s
/// for the earlier, pull-form NN-descent at 70,000 points; the brute force
/// grows as N², NN-descent about as N, so they crossed near 230,000 points
/// of 50 dimensions). Not re-measured against the local-join NN-descent,
/// which took 54 s at 250,000 points, where the brute force, extrapolated
/// as N², would take about 80 s.
pub const AUTO_EXACT_MAX_WORK: f64 = 2.5e12;

impl KnnMethod {
    /// The concrete method for `n` points of `d` dimensions.
    pub fn resolve(self, n: usize, d: usize) -> KnnMethod {
        match self {
            KnnMethod::Auto => {
                if (n as f64) * (n as f64) * (d as f64) <= AUTO_EXACT_MAX_WORK {
                    KnnMethod::Exact
                } else {
                    KnnMethod::Approx
                }
            }
            m => m,
        }
    }
}

/// The number of neighbours for perplexity u: min(N − 1, ⌊3u⌋).
pub fn neighbours_for_perplexity(n: usize, perplexity: f64) -> usize {
    ((3.0 * perplexity).floor() as usize).min(n.saturating_sub(1))
}

/// Finds the k nearest neighbours with the chosen method.
pub fn knn(points: &Points, k: usize, method: KnnMethod, seed: u64) -> Result<Knn> {
    knn_with_progress(points, k, method, seed, &Meter::default(), &mut |_| {})
}

/// [`knn`], reporting the approximate search's trees and sweeps to
/// `on_progress` as each ends, and the work within each to `meter`.
pub fn knn_with_progress(
    points: &Points,
    k: usize,
    method: KnnMethod,
    seed: u64,
    meter: &Meter,
    on_progress: &mut dyn FnMut(DescentProgress),
) -> Result<Knn> {
    if k == 0 || k >= points.n() {
        return Err(Error::Input(format!(
            "cannot find {k} neighbours among {} points (need 1 <= k < N)",
            points.n()
        )));
    }
    if points.n() > u32::MAX as usize {
        return Err(Error::Input(format!(
            "{} points is more than 2^32 - 1",
            points.n()
        )));
    }
    Ok(match method.resolve(points.n(), points.d()) {
        KnnMethod::Approx => approx_with_progress(
            points,
            k,
            &DescentParams {
                seed,
                meter: meter.clone(),
                ..Default::default()
            },
            on_progress,
        ),
        _ => exact::exact_metered(points, k, meter),
    })
}

/// Squared Euclidean distance, summed in a fixed order.
#[inline]
pub(crate) fn sqdist(a: &[f64], b: &[f64]) -> f64 {
    let mut s = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..4 {
            let t = x[l] - y[l];
            s[l] += t * t;
        }
    }
    let mut r = (s[0] + s[1]) + (s[2] + s[3]);
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        let t = x - y;
        r += t * t;
    }
    r
}

/// Points in the recall check of an approximate search.
pub const RECALL_SAMPLE: usize = 1000;

/// The recall of `found` (the k nearest neighbours of every point, as an
/// approximate search returned them), estimated on a seeded sample of
/// `sample` points searched exactly: the fraction of the neighbours found
/// that are no farther than the true k-th neighbour. (Counting by distance
/// rather than by index makes ties harmless.)
pub fn sampled_recall(points: &Points, found: &Knn, sample: usize, seed: u64) -> f64 {
    let n = points.n();
    let k = found.k;
    let m = sample.min(n);
    if m == 0 || k == 0 {
        return 1.0;
    }
    let mut rng = crate::util::Rng::new(seed ^ 0x007E_C411);
    let mut who: Vec<usize> = (0..n).collect();
    for t in 0..m {
        let r = t + rng.below(n - t);
        who.swap(t, r);
    }
    who.truncate(m);
    who.sort_unstable();
    let queries = points
        .select(who.iter().copied())
        .expect("rows of valid points");
    // k + 1: each query finds itself (or a duplicate) at distance 0.
    let truth = exact_query(points, &queries, (k + 1).min(n));
    let mut hit = 0usize;
    for (r, &i) in who.iter().enumerate() {
        let (tidx, td) = truth.neighbors(r);
        // The true k-th neighbour other than i itself.
        let kth = tidx
            .iter()
            .zip(td)
            .filter(|(&j, _)| j as usize != i)
            .nth(k - 1)
            .map_or(f64::INFINITY, |(_, &dd)| dd);
        let (_, fd) = found.neighbors(i);
        hit += fd.iter().filter(|&&dd| dd <= kth * (1.0 + 1e-12)).count();
    }
    hit as f64 / (m * k) as f64
}
