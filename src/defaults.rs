//! Every default value, in one place. The library's settings start from
//! these and the command line's help and flags read them from here, so a
//! default cannot differ between the two.

/// Embedding dimension.
pub const DIM: usize = 2;
/// λ-rescaling target (1 = off).
pub const LAMBDA: f64 = 1.0;
/// Gradient-descent iterations of a run.
pub const MAX_ITER: usize = 1000;
/// Iterations with early exaggeration and the first momentum.
pub const EARLY_ITER: usize = 250;
/// Early exaggeration factor α.
pub const ALPHA: f64 = 12.0;
/// Exaggeration after the early phase (1 = none).
pub const EXAGGERATION: f64 = 1.0;
/// Degrees of freedom of the kernel (1 = standard t-SNE).
pub const DOF: f64 = 1.0;
/// Standard deviation of the start's first coordinate (random, PCA and
/// spectral starts alike), as openTSNE and scikit-learn scale theirs.
pub const INIT_STD: f64 = 1e-4;
/// Seed of the random start (and of the approximate kNN search).
pub const SEED: u64 = 1;
/// Momentum during early exaggeration for a graph (SG-t-SNE-Π's and
/// bh_tsne's), then after it.
pub const MOMENTUM: f64 = 0.5;
pub const FINAL_MOMENTUM: f64 = 0.8;
/// Momentum during early exaggeration for point input (openTSNE 1.0's):
/// it raised the global-structure score on Fashion-MNIST (0.861 → 0.873)
/// and a 250,000-point mixture (0.299 → 0.381) at the same KL, where on
/// the pbmc graph it lowered it (docs/performance.md).
pub const MOMENTUM_POINTS: f64 = 0.8;
/// Floor of the per-coordinate gains.
pub const MIN_GAIN: f64 = 0.01;
/// Longest step one vertex may take in one iteration (the update's
/// Euclidean norm), as FIt-SNE's `max_step_norm`: heavy edges and hubs
/// otherwise make the default step size oscillate and diverge. 0 = no bound.
pub const MAX_STEP: f64 = 5.0;
/// The cost is evaluated at iteration 1, every this many, and the last.
pub const REPORT_EVERY: usize = 50;
/// The automatic step size is max(ETA_FLOOR, N / α).
pub const ETA_FLOOR: f64 = 200.0;
/// Largest iteration count one call accepts.
pub const MAX_ITER_LIMIT: usize = 10_000_000;
/// Perplexity of the point affinities.
pub const PERPLEXITY: f64 = 30.0;
/// Largest graph (vertices) the automatic vertex order gives to METIS;
/// above it RCM, within 7% as fast for the attraction and far cheaper to
/// compute (docs/performance.md, "Vertex orders").
pub const AUTO_METIS_MAX_N: usize = 50_000;
/// Principal components to project points on first (0 = off).
pub const PCA: usize = 0;

/// The grid spacing h for dimension `dim` (SPEC §6): 0.5 / 0.7 / 1.2.
pub fn grid_h(dim: usize) -> f64 {
    match dim {
        1 => 0.5,
        2 => 0.7,
        _ => 1.2,
    }
}

/// The grid spacing for dimension `dim` and kernel degrees of freedom
/// `dof`: [`grid_h`] in units of the kernel's width, which shrinks as
/// √ν below ν = 1 (the kernel (1 + d²/ν)^(−ν) varies on the scale √ν),
/// so heavy tails keep SPEC §6's accuracy.
pub fn grid_h_for(dim: usize, dof: f64) -> f64 {
    grid_h(dim) * dof.sqrt().min(1.0)
}

/// Cap on the repulsion grid's interior nodes per side for dimension
/// `dim` and `n` points: beyond it the spacing grows with the extent
/// instead of the node count, and pairs closer than two (3D) or three
/// spacings are summed exactly (the near/far split, [`NEAR_SPLIT`]), so
/// time and memory per iteration stay bounded however far the embedding
/// spreads.
///
/// 1D and 2D grids grow slowly enough that their caps sit above what runs
/// of up to a million points reach (Fashion-MNIST 70k ends near 490 nodes
/// per side in 2D). In 3D the grid starts capped lower, at [`grid_start`],
/// and this is the ceiling it may grow to: 3 n^(1/3) between 48 and 192
/// nodes per side (at 192, about 1 GB of grids), a bound on memory more
/// than on time, since each evaluation takes the cheapest grid under it
/// (docs/algorithm.md, "Near/far split").
pub fn grid_max(dim: usize, n: usize) -> usize {
    match dim {
        1 => 1 << 16,
        2 => 2048,
        _ => ((3.0 * (n as f64).cbrt()).round() as usize).clamp(48, 192),
    }
}

/// The cap a run's grid starts from in dimension `dim` for `n` points (the
/// plan takes at most its `grid_max`). In 3D, 1.07 n^(1/3) between 24 and 160 (24 for
/// pbmc's 8,381 vertices, 44 for Fashion-MNIST's 70,000): there the
/// convolution's cost (the cap cubed) balances the exact near sums' (about
/// n / cap³ points per cell) for evenly spread clusters. Where points crowd
/// more (dense clusters), an evaluation takes the cheaper of a grown capped
/// grid and the uncapped grid at the target spacing, up to [`grid_max`], by
/// the cost model of [`NEAR_PAIRS_PER_NODE`].
pub fn grid_start(dim: usize, n: usize) -> usize {
    match dim {
        1 | 2 => grid_max(dim, n),
        _ => ((1.07 * (n as f64).cbrt()).round() as usize).clamp(24, 160),
    }
}

/// What one node of the grid's convolution costs, in near pairs summed
/// exactly: measured in 3D on two cores, about 57 ns a node against
/// 0.6–0.9 ns a pair (`sgtsne-bench repulsion-file`, docs/performance.md).
pub const NEAR_PAIRS_PER_NODE: f64 = 75.0;

/// What the repulsion's units of work cost, in nanoseconds on two cores,
/// by which an evaluation under `--repulsion auto` takes the exact sum
/// when it is the cheaper ([`crate::repulse::exact_is_cheaper`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RepulsionCost {
    /// One pair of the exact O(N²) sum.
    pub exact_pair: f64,
    /// One node of the grid's convolution, kernel transforms included.
    pub node: f64,
    /// One near pair summed exactly beside a capped grid.
    pub near_pair: f64,
    /// Spreading one point onto the grid and interpolating it back.
    pub point: f64,
}

/// [`RepulsionCost`] for 1, 2 and 3 dimensions, measured with
/// `sgtsne-bench repulsion --exact` (docs/performance.md, "Exact or grid").
pub const REPULSION_COST: [RepulsionCost; 3] = [
    RepulsionCost {
        exact_pair: 1.5,
        node: 90.0,
        near_pair: 0.8,
        point: 55.0,
    },
    RepulsionCost {
        exact_pair: 2.0,
        node: 90.0,
        near_pair: 0.8,
        point: 95.0,
    },
    RepulsionCost {
        exact_pair: 3.4,
        node: 170.0,
        near_pair: 0.8,
        point: 450.0,
    },
];

/// Cap on the grid of a placement's fixed field (`sgtsne transform`): it
/// is built once, so it can be finer than a run's.
pub fn place_grid_max(dim: usize) -> usize {
    match dim {
        1 => 1 << 16,
        2 => 2048,
        _ => 160,
    }
}

/// Whether a capped grid splits the kernel: pairs closer than
/// [`crate::repulse::Split::for_dim`]'s outer radius summed exactly, the
/// smooth rest on the coarse grid.
pub const NEAR_SPLIT: bool = true;

/// Placing new points (SPEC §12): perplexity and neighbours per new point.
pub const PLACE_PERPLEXITY: f64 = 5.0;
pub const PLACE_K: usize = 25;
/// Iterations, step size, exaggeration and gradient-norm clip of a placement.
/// 150 iterations, not openTSNE's 250: measured on Fashion-MNIST and on
/// the pbmc graph in 2D and 3D, the scores were the same to 0.001
/// (docs/performance.md), in 60% of the time.
pub const PLACE_ITER: usize = 150;
pub const PLACE_ETA: f64 = 0.1;
pub const PLACE_EXAGGERATION: f64 = 1.5;
pub const PLACE_MAX_GRAD_NORM: f64 = 0.25;
/// Neighbours per reference point a model keeps for graph-guided queries
/// (its fit's nearest, plus the points naming it).
pub const SEARCH_GRAPH_K: usize = 15;
/// How far past the current k-th distance a graph-guided query looks.
pub const QUERY_EPSILON: f64 = 0.05;
/// `--knn auto` in a transform: graph-guided queries from this many new
/// points on (fewer are searched exactly, as fast as building the entry
/// tree).
pub const QUERY_GRAPH_MIN: usize = 1000;

/// `--init subsample` without a size: openTSNE's large-data tutorial
/// embeds 25,000 of 1.3 million points first.
pub const SUBSAMPLE_SIZE: usize = 25_000;
/// Smallest sample a subsample start embeds.
pub const SUBSAMPLE_MIN: usize = 100;
/// A point outside the sample starts at the affinity-weighted median of
/// this many nearest sample points, calibrated to this perplexity (at most
/// a third of them).
pub const SUBSAMPLE_PLACE_K: usize = 10;
pub const SUBSAMPLE_PLACE_PERPLEXITY: f64 = 3.0;
/// Seeded noise on the placed points, relative to the sample embedding's
/// RMS radius.
pub const SUBSAMPLE_JITTER: f64 = 1e-3;
