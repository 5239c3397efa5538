//! The large-data recipe as a start (openTSNE's large-data tutorial):
//! embed a seeded random subsample of the points, place every other point
//! where its nearest sample points landed, and start the full run from
//! there, rescaled as every informative start is. The sample's embedding
//! sees the data at a coarser scale (the same perplexity over a sparser
//! set), so where clusters land relative to each other follows the data
//! rather than the first iterations.
//!
//! Every step depends on the seed and the data only: the same bits for
//! any thread count.

use std::ops::ControlFlow;
use std::time::Instant;

use rayon::prelude::*;

use crate::affinity::{Affinities, Stage};
use crate::defaults;
use crate::embedder::Embedder;
use crate::error::{Error, Result};
use crate::graph::StochasticGraph;
use crate::init::Init;
use crate::knn::{self, QueryIndex, QueryParams};
use crate::place::weighted_median;
use crate::points::Points;
use crate::util::Rng;

/// One step of [`Embedder::subsample_start`], for progress display.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum SubsampleStage {
    /// `size` of the `of` points were drawn.
    Drawn { size: usize, of: usize },
    /// A stage of the sample's affinities.
    Affinities(Stage),
    /// The sample's run reached iteration `iter` of `max_iter`, `seconds`
    /// after it began.
    Embedding {
        iter: usize,
        max_iter: usize,
        seconds: f64,
    },
    /// The sample was embedded; `kl` is its final cost.
    Embedded { kl: f64, seconds: f64 },
    /// The other `points` were placed at their `k` nearest sample points.
    Placed {
        points: usize,
        k: usize,
        seconds: f64,
    },
}

impl SubsampleStage {
    /// The step's name and duration when it ends a phase, for reports.
    pub fn phase(&self) -> Option<(&'static str, f64)> {
        match *self {
            SubsampleStage::Embedded { seconds, .. } => Some(("subsample_embedding", seconds)),
            SubsampleStage::Placed { seconds, .. } => Some(("subsample_placement", seconds)),
            _ => None,
        }
    }
}

impl std::fmt::Display for SubsampleStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            SubsampleStage::Drawn { size, of } => write!(
                f,
                "subsample start: embedding a seeded sample of {size} of the {of} points first"
            ),
            SubsampleStage::Affinities(s) => write!(f, "  sample: {}", s.to_string().trim_start()),
            SubsampleStage::Embedding {
                iter,
                max_iter,
                seconds,
            } => write!(f, "  sample: iteration {iter} of {max_iter} ({seconds:.1} s)"),
            SubsampleStage::Embedded { kl, seconds } => {
                write!(f, "  sample embedded: KL {kl:.4} ({seconds:.2} s)")
            }
            SubsampleStage::Placed { points, k, seconds } => write!(
                f,
                "  placed the other {points} points at their {k} nearest sample points ({seconds:.2} s)"
            ),
        }
    }
}

/// `size` distinct indices below `n`, drawn with the seed, ascending.
pub fn draw(n: usize, size: usize, seed: u64) -> Vec<usize> {
    let size = size.min(n);
    let mut rng = Rng::new(seed ^ 0x5ab_5a3e);
    // A partial Fisher–Yates shuffle over a sparse map of swapped slots:
    // O(size) memory whatever n.
    let mut moved = std::collections::HashMap::with_capacity(size);
    let mut out = Vec::with_capacity(size);
    for i in 0..size {
        let j = i + rng.below(n - i);
        let at_j = *moved.get(&j).unwrap_or(&j);
        let at_i = *moved.get(&i).unwrap_or(&i);
        moved.insert(j, at_i);
        out.push(at_j);
    }
    out.sort_unstable();
    out
}

impl Embedder {
    /// The subsample start of `points` (the rows the graph was built
    /// from, after any PCA) for `Init::Subsample(size)`: the sample's
    /// affinities with `aff` (no PCA; `points` are already projected), its
    /// embedding with these settings from a PCA start, then every other
    /// point at the affinity-weighted median of its
    /// [`defaults::SUBSAMPLE_PLACE_K`] nearest sample points (searched
    /// through the sample's neighbour graph), with seeded jitter far below
    /// a cluster's size so no two points start alike; rescaled so the
    /// first axis's standard deviation is [`defaults::INIT_STD`]. Returns
    /// n × dim coordinates, row-major, in the order of `points`.
    pub fn subsample_start(
        &self,
        points: &Points,
        aff: &Affinities,
        on_stage: &mut dyn FnMut(SubsampleStage),
    ) -> Result<Vec<f64>> {
        let Init::Subsample(size) = self.init else {
            return Err(Error::param(
                "init",
                format!("is {}, not a subsample start", self.init),
            ));
        };
        let n = points.n();
        let dim = self.plan_points(n)?.dim;
        on_stage(SubsampleStage::Drawn { size, of: n });
        let ids = draw(n, size, self.seed);
        let sample = points.select(ids.iter().copied())?;

        let t = Instant::now();
        let mut g = aff
            .clone()
            .pca(0)
            .graph(&sample, &mut |s| on_stage(SubsampleStage::Affinities(s)))?;
        let search = g.search.take().ok_or_else(|| {
            Error::Input("the sample's neighbour search kept no search graph".into())
        })?;
        let (graph, _) = StochasticGraph::from_coo_owned(g.coo, 1.0)?;
        let sub = self.clone().init(Init::Pca);
        // The sample's PCA start, made here so that a sample with no spread
        // is reported as a degenerate subsample start, the start asked for.
        let y0 = crate::init::pca_named(&sample, dim, self.seed, "subsample")?;
        let mut session = sub.session_points(&graph, &sample, Some(&y0))?;
        let report = defaults::REPORT_EVERY * 5;
        session.run_to_end(&mut |p| {
            if p.iter % report == 0 && p.iter < p.max_iter {
                on_stage(SubsampleStage::Embedding {
                    iter: p.iter,
                    max_iter: p.max_iter,
                    seconds: t.elapsed().as_secs_f64(),
                });
            }
            ControlFlow::Continue(())
        })?;
        let result = session.result()?;
        drop(session);
        drop(graph);
        on_stage(SubsampleStage::Embedded {
            kl: result.kl,
            seconds: t.elapsed().as_secs_f64(),
        });

        let t = Instant::now();
        let y = result.coords;
        let mut out = vec![0.0; n * dim];
        for (r, &i) in ids.iter().enumerate() {
            out[i * dim..(i + 1) * dim].copy_from_slice(y.row(r));
        }
        let rest: Vec<usize> = complement(&ids, n);
        let k = defaults::SUBSAMPLE_PLACE_K.min(size);
        let placed = place_rest(points, &rest, &sample, &search, &y, k, self.seed)?;
        for (r, &i) in rest.iter().enumerate() {
            out[i * dim..(i + 1) * dim].copy_from_slice(&placed[r * dim..(r + 1) * dim]);
        }
        jitter(&mut out, &rest, &y, dim, self.seed);
        crate::init::finish(&mut out, n, dim, self.seed, "subsample")?;
        on_stage(SubsampleStage::Placed {
            points: rest.len(),
            k,
            seconds: t.elapsed().as_secs_f64(),
        });
        Ok(out)
    }
}

/// Whether a sample of `size` of `n` points can be drawn: it must leave
/// points to place and be large enough to embed.
pub fn check_size(size: usize, n: usize) -> Result<()> {
    if size < defaults::SUBSAMPLE_MIN || size >= n {
        return Err(Error::param(
            "init",
            format!(
                "subsample:{size} needs between {} and {} sample points for {n} points (fewer than the points, so some are left to place); for small data use the PCA start",
                defaults::SUBSAMPLE_MIN,
                n.saturating_sub(1)
            ),
        ));
    }
    Ok(())
}

/// The indices below `n` not in `ids` (ascending).
fn complement(ids: &[usize], n: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(n - ids.len());
    let mut it = ids.iter().peekable();
    for i in 0..n {
        if it.peek() == Some(&&i) {
            it.next();
        } else {
            out.push(i);
        }
    }
    out
}

/// The `rest` points at the affinity-weighted median of their `k` nearest
/// sample points' coordinates `y`.
fn place_rest(
    points: &Points,
    rest: &[usize],
    sample: &Points,
    search: &knn::SearchGraph,
    y: &Points,
    k: usize,
    seed: u64,
) -> Result<Vec<f64>> {
    let dim = y.d();
    let index = QueryIndex::new(sample, search, seed)?;
    let mut out = vec![0.0; rest.len() * dim];
    // In blocks, so the queries' copy and neighbour lists stay small.
    let block = 65_536;
    let perplexity = defaults::SUBSAMPLE_PLACE_PERPLEXITY.min(k as f64 / 3.0);
    for (b, ids) in rest.chunks(block).enumerate() {
        let q = points.select(ids.iter().copied())?;
        let nn = index.query(&q, k, &QueryParams::default());
        out[b * block * dim..(b * block + ids.len()) * dim]
            .par_chunks_mut(dim)
            .enumerate()
            .for_each_init(
                || (vec![0.0; k], Vec::with_capacity(k)),
                |(p, vals), (r, o)| {
                    let (idx, d2) = nn.neighbors(r);
                    knn::calibrate_row(d2, perplexity, p);
                    for (a, o) in o.iter_mut().enumerate() {
                        vals.clear();
                        vals.extend(
                            idx.iter()
                                .zip(&*p)
                                .map(|(&j, &w)| (y.row(j as usize)[a], w)),
                        );
                        *o = weighted_median(vals);
                    }
                },
            );
    }
    Ok(out)
}

/// Seeded noise on the placed points, at [`defaults::SUBSAMPLE_JITTER`]
/// of the sample embedding's RMS radius: placed points that share their
/// nearest sample points would otherwise start on the same spot.
fn jitter(out: &mut [f64], rest: &[usize], y: &Points, dim: usize, seed: u64) {
    let m = y.n() as f64;
    let mean = y.mean();
    let ms = (0..y.n())
        .map(|r| {
            y.row(r)
                .iter()
                .zip(&mean)
                .map(|(v, c)| (v - c).powi(2))
                .sum::<f64>()
        })
        .sum::<f64>()
        / m;
    let scale = defaults::SUBSAMPLE_JITTER * ms.sqrt();
    let mut rng = Rng::new(seed ^ 0x717_7e4);
    for &i in rest {
        for v in &mut out[i * dim..(i + 1) * dim] {
            *v += scale * rng.normal();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draw_gives_distinct_sorted_indices_and_complement_the_rest() {
        for (n, size) in [(10, 10), (1000, 37), (5, 0), (100_000, 999)] {
            let ids = draw(n, size, 3);
            assert_eq!(ids.len(), size);
            assert!(ids.windows(2).all(|w| w[0] < w[1]));
            assert!(ids.iter().all(|&i| i < n));
            let rest = complement(&ids, n);
            assert_eq!(rest.len() + ids.len(), n);
            let mut all: Vec<usize> = ids.iter().chain(&rest).copied().collect();
            all.sort_unstable();
            assert!(all.iter().enumerate().all(|(i, &v)| i == v));
        }
        assert_ne!(draw(1000, 50, 1), draw(1000, 50, 2));
        assert_eq!(draw(1000, 50, 1), draw(1000, 50, 1));
    }
}
