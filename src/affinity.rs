//! From points to a graph (SPEC §8): optional PCA, k nearest neighbours
//! (exact or NN-descent), and a Gaussian per point calibrated to the
//! perplexity. The result is the conditional-affinity triplets, column i
//! holding p(j|i), ready for [`crate::graph::StochasticGraph::from_coo`].

use std::time::Instant;

use crate::defaults;
use crate::error::{Error, Result};
use crate::knn::{self, KnnMethod};
use crate::pca::Pca;
use crate::points::Points;
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
    }
}

impl Default for Affinities {
    fn default() -> Self {
        Affinities {
            perplexity: defaults::PERPLEXITY,
            knn: KnnMethod::Auto,
            pca: defaults::PCA,
            seed: defaults::SEED,
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
    /// The `k` nearest neighbours were found with `method` (resolved).
    Neighbours {
        k: usize,
        method: KnnMethod,
        seconds: f64,
    },
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
}

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
            let p = Pca::fit(points, self.pca)?;
            let projected = p.project(points)?;
            on_stage(Stage::Pca {
                components: self.pca,
                seconds: t.elapsed().as_secs_f64(),
            });
            &fitted.insert((p, projected)).1
        };
        let k = self.neighbours(pts.n());
        let method = self.knn.resolve(pts.n(), pts.d());
        let t = Instant::now();
        let nn = knn::knn(pts, k, method, self.seed)?;
        on_stage(Stage::Neighbours {
            k,
            method,
            seconds: t.elapsed().as_secs_f64(),
        });
        let cal = knn::perplexity_graph(&nn, self.perplexity)?;
        Ok(AffinityGraph {
            coo: cal.coo,
            k,
            method,
            not_converged: cal.not_converged,
            pca: fitted,
        })
    }
}
