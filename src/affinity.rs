//! From points to a graph (SPEC §8): optional PCA, k nearest neighbours
//! (exact or NN-descent), and a Gaussian per point calibrated to the
//! perplexity. The result is the conditional-affinity triplets, column i
//! holding p(j|i), ready for [`crate::graph::StochasticGraph::from_coo`].

use std::time::Instant;

use crate::defaults;
use crate::error::{Error, Result};
use crate::knn::{self, DescentProgress, KnnMethod, SearchGraph};
use crate::pca::Pca;
use crate::points::Points;
use crate::progress::Meter;
use crate::sparse::Coo;

crate::util::settings! {
    /// How points become a graph. `Affinities::default()` holds the defaults
    /// of [`crate::defaults`].
    ///
    /// ```
    /// use sgtsne::affinity::Affinities;
    /// use sgtsne::points::Points;
    /// let pts = Points::try_new(4, 1, vec![0.0, 1.0, 5.0, 6.0]).unwrap();
    /// let g = Affinities::default().perplexity(1.0).graph(&pts, &mut |_| {}).unwrap();
    /// assert_eq!((g.k, g.coo.n, g.coo.vals.len()), (3, 4, 12));
    /// ```
    #[derive(Clone, Debug)]
    pub struct Affinities {
        /// Perplexity u > 0: k = min(N − 1, ⌊3u⌋) neighbours, each point's
        /// Gaussian calibrated to entropy ln u.
        perplexity: f64,
        /// Neighbour search: exact, approximate (NN-descent) or auto.
        knn: KnnMethod,
        /// Principal components to project on first (0 = off).
        pca: usize,
        /// Seed of the approximate neighbour search.
        seed: u64,
        /// Where the long stages report how far they have got, for a front
        /// end to read while they run ([`crate::progress`]).
        progress: Meter,
    }
}

impl Default for Affinities {
    fn default() -> Self {
        Affinities {
            perplexity: defaults::PERPLEXITY,
            knn: KnnMethod::Auto,
            pca: defaults::PCA,
            seed: defaults::SEED,
            progress: Meter::default(),
        }
    }
}

/// One finished stage of [`Affinities::graph`], for progress display.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Stage {
    /// PCA was asked for, but the points have no more dimensions than that.
    PcaSkipped { components: usize, dims: usize },
    /// The points were projected on `components` principal components.
    Pca { components: usize, seconds: f64 },
    /// The approximate neighbour search advanced: a tree or a sweep of
    /// NN-descent ended, `seconds` after the search began; `eta` is a rough
    /// estimate of the seconds left (from how fast the changes shrink).
    Searching {
        progress: DescentProgress,
        seconds: f64,
        eta: Option<f64>,
    },
    /// The `k` nearest neighbours were found with `method` (resolved).
    Neighbours {
        k: usize,
        method: KnnMethod,
        seconds: f64,
    },
    /// The approximate neighbours' recall, estimated against an exact
    /// search of `sample` seeded points (see [`knn::sampled_recall`]).
    Recall {
        recall: f64,
        sample: usize,
        seconds: f64,
    },
    /// Each point's Gaussian was calibrated to the perplexity.
    Calibrated { points: usize, seconds: f64 },
}

impl Stage {
    /// The stage's name and duration when it is a finished phase, for
    /// reports of where the time went.
    pub fn phase(&self) -> Option<(&'static str, f64)> {
        match *self {
            Stage::Pca { seconds, .. } => Some(("pca", seconds)),
            Stage::Neighbours { seconds, .. } => Some(("neighbours", seconds)),
            Stage::Recall { seconds, .. } => Some(("recall_check", seconds)),
            Stage::Calibrated { seconds, .. } => Some(("calibration", seconds)),
            _ => None,
        }
    }
}

impl std::fmt::Display for Stage {
    /// The progress line for the stage, as the front ends print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Stage::PcaSkipped { components, dims } => write!(
                f,
                "note: PCA to {components} components is not below the {dims} input dimensions; no PCA"
            ),
            Stage::Pca {
                components,
                seconds,
            } => write!(f, "PCA to {components} dimensions ({seconds:.2} s)"),
            Stage::Searching {
                progress,
                seconds,
                eta,
            } => {
                match progress {
                    DescentProgress::Tree { done, total } => write!(
                        f,
                        "  neighbour search: random-projection tree {done} of {total} ({seconds:.1} s)"
                    )?,
                    DescentProgress::Sweep {
                        sweep,
                        max_sweeps,
                        changed,
                        stop_below,
                        ..
                    } => write!(
                        f,
                        "  neighbour search: sweep {sweep} (at most {max_sweeps}) changed {:.2}% of the lists; stops below {:.2}% ({seconds:.1} s)",
                        100.0 * changed,
                        100.0 * stop_below
                    )?,
                }
                match eta {
                    Some(e) => write!(f, ", about {} left", crate::util::human_seconds(e)),
                    None => Ok(()),
                }
            }
            Stage::Recall {
                recall,
                sample,
                seconds,
            } => {
                write!(
                    f,
                    "  recall of the approximate neighbours: {recall:.4} (against an exact search of {sample} seeded points, {seconds:.2} s)"
                )?;
                if recall < LOW_RECALL {
                    write!(f, "\nnote: a low recall blurs the small-scale structure; --knn exact finds every neighbour, at O(N^2) cost")?;
                }
                Ok(())
            }
            Stage::Calibrated { points, seconds } => write!(
                f,
                "perplexity calibrated for {points} points ({seconds:.2} s)"
            ),
            Stage::Neighbours { k, method, seconds } => write!(
                f,
                "{k} nearest neighbours ({}): {seconds:.2} s",
                match method {
                    KnnMethod::Approx => "approximate, NN-descent",
                    _ => "exact",
                }
            ),
        }
    }
}

/// The conditional affinities of a point set.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AffinityGraph {
    /// Triplets (j, i, p(j|i)): column i holds point i's affinities.
    pub coo: Coo,
    /// Neighbours per point.
    pub k: usize,
    /// The neighbour search used (`auto` resolved).
    pub method: KnnMethod,
    /// Points whose Gaussian could not reach the perplexity (too few
    /// distinct distances); they use the closest entropy found.
    pub not_converged: usize,
    /// The PCA applied first, and the projected points the neighbours were
    /// found in (a model keeps them to place new points).
    pub pca: Option<(Pca, Points)>,
    /// For an approximate search: its recall, estimated on a sample.
    pub recall: Option<f64>,
    /// Each point's nearest neighbours, the first
    /// [`defaults::SEARCH_GRAPH_K`]: what a model keeps so new points can
    /// be matched by walking it.
    pub search: Option<SearchGraph>,
}

/// Below this estimated recall the front ends suggest the exact search.
pub const LOW_RECALL: f64 = 0.9;

impl Affinities {
    /// Checks the settings that do not depend on the data.
    pub fn validate(&self) -> Result<()> {
        let u = self.perplexity;
        if !(u.is_finite() && u > 0.0) {
            return Err(Error::param(
                "perplexity",
                format!("must be a positive number, got {u}"),
            ));
        }
        if (3.0 * u).floor() < 1.0 {
            return Err(Error::param(
                "perplexity",
                format!("{u} is too small: it gives no neighbours (need perplexity >= 1/3)"),
            ));
        }
        Ok(())
    }

    /// Neighbours per point for `n` points.
    pub fn neighbours(&self, n: usize) -> usize {
        knn::neighbours_for_perplexity(n, self.perplexity)
    }

    /// Builds the conditional affinities of `points`, calling `on_stage`
    /// as each long stage ends.
    pub fn graph(&self, points: &Points, on_stage: &mut dyn FnMut(Stage)) -> Result<AffinityGraph> {
        self.validate()?;
        if points.n() < 2 {
            return Err(Error::Input(format!(
                "need at least 2 points, found {}",
                points.n()
            )));
        }
        let mut fitted = None;
        let pts = if self.pca == 0 {
            points
        } else if self.pca >= points.d() {
            on_stage(Stage::PcaSkipped {
                components: self.pca,
                dims: points.d(),
            });
            points
        } else {
            let t = Instant::now();
            let phase = self
                .progress
                .phase(format!("PCA to {} dimensions", self.pca), 0);
            let p = Pca::fit(points, self.pca)?;
            let projected = p.project(points)?;
            drop(phase);
            on_stage(Stage::Pca {
                components: self.pca,
                seconds: t.elapsed().as_secs_f64(),
            });
            &fitted.insert((p, projected)).1
        };
        let k = self.neighbours(pts.n());
        let method = self.knn.resolve(pts.n(), pts.d());
        let t = Instant::now();
        let mut eta = Eta::default();
        let nn =
            knn::knn_with_progress(pts, k, method, self.seed, &self.progress, &mut |progress| {
                let seconds = t.elapsed().as_secs_f64();
                on_stage(Stage::Searching {
                    progress,
                    seconds,
                    eta: eta.update(progress, seconds),
                })
            })?;
        on_stage(Stage::Neighbours {
            k,
            method,
            seconds: t.elapsed().as_secs_f64(),
        });
        let recall = (method == KnnMethod::Approx).then(|| {
            let t = Instant::now();
            let sample = knn::RECALL_SAMPLE.min(pts.n());
            let recall = knn::sampled_recall(pts, &nn, sample, self.seed);
            on_stage(Stage::Recall {
                recall,
                sample,
                seconds: t.elapsed().as_secs_f64(),
            });
            recall
        });
        let t = Instant::now();
        let cal = knn::perplexity_graph_metered(&nn, self.perplexity, &self.progress)?;
        let search = Some(SearchGraph::from_knn(&nn, defaults::SEARCH_GRAPH_K));
        drop(nn);
        on_stage(Stage::Calibrated {
            points: pts.n(),
            seconds: t.elapsed().as_secs_f64(),
        });
        Ok(AffinityGraph {
            coo: cal.coo,
            k,
            method,
            not_converged: cal.not_converged,
            pca: fitted,
            recall,
            search,
        })
    }
}

/// A rough estimate of NN-descent's time left: the changes per sweep
/// shrink about geometrically, so the sweeps left follow from the last
/// ratio, each costing what the last one did (later sweeps cost less, so
/// the estimate errs long).
#[derive(Default)]
struct Eta {
    last: Option<(f64, f64)>,
}

impl Eta {
    fn update(&mut self, p: DescentProgress, seconds: f64) -> Option<f64> {
        let DescentProgress::Sweep {
            sweep,
            max_sweeps,
            changed,
            stop_below,
        } = p
        else {
            self.last = Some((f64::NAN, seconds));
            return None;
        };
        let prev = self.last.replace((changed, seconds));
        let (c0, t0) = prev?;
        let took = seconds - t0;
        if changed < stop_below || sweep >= max_sweeps {
            return None;
        }
        let left_max = (max_sweeps - sweep) as f64;
        let sweeps = if c0.is_finite() && changed < c0 && changed > 0.0 {
            ((stop_below / changed).ln() / (changed / c0).ln())
                .ceil()
                .clamp(1.0, left_max)
        } else {
            left_max.min(10.0)
        };
        Some(sweeps * took)
    }
}
