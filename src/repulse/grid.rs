//! Repulsion on a grid (SPEC §6): binning, scattered-to-grid spreading (S2G),
//! grid-to-grid convolution (G2G, see [`super::conv`]) and grid-to-scattered
//! interpolation (G2S), then the assembly of Z and the forces.
//!
//! Every parallel step is split by the data (slab groups, fixed chunks), never
//! by the number of threads, so the result has the same bits for any thread count.

use rayon::prelude::*;

use super::conv::Convolver;
use super::interp::{cubic_weights, fft_size};
use super::near::{add_near, pair_bound, Split};
use super::{ExactRepulsion, Repulsion};
use crate::kernel::Kernel;
use crate::util::CHUNK;

/// Fewest interior grid points per side. SPEC §6 says 14; at 14 the 3D
/// interpolation leaves a systematic |Z − Z̃|/Z of 1.07e-4 on the SPEC's
/// accuracy layouts (limit 1e-4), at 16 about 6e-5. It only matters for
/// tiny extents, where the grid is cheap either way.
pub const MIN_GRID: usize = 16;

/// Consecutive slabs (planes of the last axis) spread by one task. A point
/// touches 4 planes, so groups of 4 slabs taken alternately in two phases
/// never write the same node.
const SLABS_PER_GROUP: usize = 4;

/// Most near pairs per point (a bound, [`pair_bound`]) for which the split
/// is used; beyond, the points are too crowded for exact short-range sums
/// and the plain coarse grid bounds the cost instead.
pub const NEAR_PAIRS_PER_POINT: u64 = 4096;

/// The grid geometry of one evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridShape {
    /// Nodes per side including one ghost node each side (a fast FFT length).
    pub m: usize,
    /// Spacing h* in embedding units.
    pub h: f64,
    /// Whether the node cap bound, so h* exceeds the target spacing.
    pub capped: bool,
    /// Whether the kernel was split: the short range summed exactly, the
    /// rest on the grid ([`super::near`]). Only when capped.
    pub near: bool,
    /// With the split: the bound on the near pairs summed exactly
    /// (Σ over points of the points in the cells around theirs); else 0.
    pub near_pairs: u64,
}

/// Grid for an embedding of extent `e` and target spacing `h`: interior
/// n = max(⌈e/h⌉, MIN_GRID) points, at most `max_side` (the cap; at least
/// MIN_GRID), plus a ghost node each side, rounded up to the size whose
/// transforms are fastest in `dim` dimensions
/// ([`fft_size`](super::interp::fft_size)). The spacing h* = e / (n − 1)
/// is at most h unless the cap binds; then it grows with the extent and
/// the grid's size, cost and memory stay bounded.
pub fn grid_shape(e: f64, h: f64, dim: usize, max_side: usize) -> GridShape {
    grid_shape_with(e, h, dim, max_side, MIN_GRID)
}

/// [`grid_shape`] with at least `min_side` interior nodes per side.
pub fn grid_shape_with(e: f64, h: f64, dim: usize, max_side: usize, min_side: usize) -> GridShape {
    // f64 → usize saturates, so a huge or infinite extent is just capped.
    let wanted = (e / h).ceil() as usize;
    let lo = min_side.max(MIN_GRID);
    let n0 = wanted.clamp(lo, max_side.max(lo));
    let m = fft_size(n0 + 2, dim);
    let n = m - 2;
    let e = if e > 0.0 { e } else { 1e-12 };
    GridShape {
        m,
        h: e / (n - 1) as f64,
        capped: wanted > n0,
        near: false,
        near_pairs: 0,
    }
}

/// Timings of the phases of the last evaluation, in seconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct PhaseTimes {
    pub binning: f64,
    pub s2g: f64,
    pub g2g: f64,
    pub g2s: f64,
}

/// The grid repulsion engine; buffers grow to the largest grid seen and are reused.
pub struct GridRepulsion<const D: usize> {
    h: f64,
    /// Cap on the interior nodes per side (see [`grid_shape`]).
    max_side: usize,
    /// How far the cap may grow when the near sums get crowded (see
    /// [`GridRepulsion::with_growth`]); at most `max_side`: no growth.
    ceiling: usize,
    /// Near pairs per grid node above which the cap grows toward `ceiling`.
    pairs_per_node: f64,
    /// Fewest interior nodes per side.
    min_side: usize,
    /// The near/far split used when the cap binds (None: a plain coarse grid).
    split: Option<Split>,
    conv: Convolver<D>,
    /// Per point (working order): linear cell id.
    cell: Vec<u32>,
    /// Sorted position → point.
    order: Vec<u32>,
    /// Point → sorted position.
    rank: Vec<u32>,
    /// Per cell counts, then exclusive offsets.
    counts: Vec<u32>,
    /// Sorted points: grid coordinates (x − 1 − f per axis is δ), centred coordinates.
    gx: Vec<[f64; D]>,
    yc: Vec<[f64; D]>,
    q: Vec<f64>,
    phi: Vec<f64>,
    /// Sorted: force numerators and Z terms.
    fs: Vec<[f64; D]>,
    zs: Vec<f64>,
    /// Scratch of the near-pair bound.
    box_counts: Vec<u64>,
    box_sums: Vec<u64>,
    /// Sorted coordinates by axis (f32) for the near sums.
    soa: Vec<f32>,
    /// The near sums' shares of the sources (f32, by axis then Z).
    near_src: Vec<f32>,
    /// The exact sum, used in an evaluation where it is estimated to be
    /// cheaper than the chosen grid ([`GridRepulsion::with_exact_when_cheaper`]).
    exact: Option<ExactRepulsion>,
    /// The grid of the last evaluation; None when it took the exact sum.
    pub last_shape: Option<GridShape>,
    pub times: PhaseTimes,
}

impl<const D: usize> GridRepulsion<D> {
    pub fn new(h: f64) -> Self {
        Self::with_backend(h, super::FftBackend::default())
    }

    pub fn with_backend(h: f64, backend: super::FftBackend) -> Self {
        GridRepulsion {
            h,
            max_side: usize::MAX,
            ceiling: 0,
            pairs_per_node: f64::INFINITY,
            min_side: MIN_GRID,
            split: None,
            conv: Convolver::with_backend(backend),
            cell: Vec::new(),
            order: Vec::new(),
            rank: Vec::new(),
            counts: Vec::new(),
            gx: Vec::new(),
            yc: Vec::new(),
            q: Vec::new(),
            phi: Vec::new(),
            fs: Vec::new(),
            zs: Vec::new(),
            box_counts: Vec::new(),
            box_sums: Vec::new(),
            soa: Vec::new(),
            near_src: Vec::new(),
            exact: None,
            last_shape: None,
            times: PhaseTimes::default(),
        }
    }
}

impl<const D: usize> GridRepulsion<D> {
    /// Uses the heavy-tailed kernel `kernel` (default ν = 1). Below ν = 1
    /// the kernel varies on the scale √ν, so the fewest nodes per side
    /// grow as 1/√ν to keep the accuracy of small extents.
    pub fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.conv = self.conv.with_kernel(kernel);
        if self.exact.is_some() {
            self.exact = Some(ExactRepulsion::with_kernel(kernel));
        }
        let s = kernel.dof().sqrt().min(1.0);
        self.min_side = (MIN_GRID as f64 / s).ceil() as usize;
        self
    }

    /// Caps the grid at `max_side` interior nodes per side.
    pub fn with_max_side(mut self, max_side: usize) -> Self {
        self.max_side = max_side;
        self
    }

    /// Lets the cap grow up to `ceiling` nodes per side in an evaluation
    /// whose near sums would hold more than `pairs_per_node` pairs per grid
    /// node (points crowded in dense clusters). The near sums cost about
    /// one pair each and the convolution about `pairs_per_node` pairs a
    /// node, so this balances the two: the pairs fall with the cell volume
    /// (m^−D) as the nodes grow (m^D), so the side grows by the 2D-th root
    /// of the excess. The side depends only on the coordinates, never on
    /// earlier evaluations or the thread count.
    pub fn with_growth(mut self, ceiling: usize, pairs_per_node: f64) -> Self {
        self.ceiling = ceiling;
        self.pairs_per_node = pairs_per_node;
        self
    }

    /// Takes the exact O(N²) sum in any evaluation where it is estimated to
    /// cost less than the grid chosen for it ([`exact_is_cheaper`]): a few
    /// thousand points spread so wide that the grid sits at its cap. The
    /// choice depends only on the coordinates, so a run stays deterministic.
    pub fn with_exact_when_cheaper(mut self, on: bool) -> Self {
        self.exact = on.then(|| ExactRepulsion::with_kernel(self.conv.kernel()));
        self
    }

    /// Where the cap binds, splits the kernel at `split` (in units of the
    /// spacing): the short range exactly, the rest on the coarse grid.
    pub fn with_split(mut self, split: Option<Split>) -> Self {
        self.split = split;
        self
    }
}

fn resize<T: Clone>(v: &mut Vec<T>, n: usize, x: T) {
    if v.len() != n {
        v.resize(n, x);
    }
}

impl<const D: usize> GridRepulsion<D> {
    /// The grid of an evaluation, with the points binned into it, and the
    /// split if it is used. At the cap with the split, the near pairs are
    /// counted; if growth is allowed ([`GridRepulsion::with_growth`]), the
    /// cheapest of three grids is taken by a cost model in near pairs
    /// (the convolution costing `pairs_per_node` a node): the capped one,
    /// one grown toward the balance of the two costs (the pairs fall as
    /// m^−D), and the uncapped grid at the target spacing when it fits
    /// under the ceiling (no near sums at all); the grown grid's own pair
    /// count can still send it to the uncapped one. At most two re-binnings.
    fn choose_grid(&mut self, y: &[[f64; D]], lo: &[f64; D], e: f64) -> (GridShape, Option<Split>) {
        let n = y.len() as u64;
        let mut shape = grid_shape_with(e, self.h, D, self.max_side, self.min_side);
        self.bin(y, lo, shape);
        // counts[c] now holds the end of cell c = the start of cell c + 1.
        let Some(sp) = self.split.filter(|_| shape.capped) else {
            return (shape, None);
        };
        let mut pairs = self.near_pairs(shape.m, sp);
        if self.ceiling > self.max_side {
            let k = self.pairs_per_node;
            let nodes = |m: usize| (m as f64).powi(D as i32);
            let pairs_at = |m: usize| pairs as f64 * nodes(shape.m) / nodes(m);
            let cost = |m: usize| k * nodes(m) + pairs_at(m);
            let here = cost(shape.m);
            let balance = (self.max_side as f64
                * (pairs as f64 / (k * nodes(shape.m))).powf(0.5 / D as f64))
            .ceil() as usize;
            let grown = grid_shape_with(e, self.h, D, balance.min(self.ceiling), self.min_side);
            let plain = grid_shape_with(e, self.h, D, self.ceiling, self.min_side);
            let plain_cost = if plain.capped {
                f64::INFINITY
            } else {
                k * nodes(plain.m)
            };
            let grown_cost = if grown.capped {
                cost(grown.m)
            } else {
                k * nodes(grown.m)
            };
            let best = if plain_cost <= grown_cost.min(here) {
                Some(plain)
            } else if grown.m > shape.m && grown_cost < here {
                Some(grown)
            } else {
                None
            };
            if let Some(b) = best {
                shape = b;
                self.bin(y, lo, shape);
                if !shape.capped {
                    return (shape, None);
                }
                pairs = self.near_pairs(shape.m, sp);
                // Pairs fall slower than m^−D once cells are smaller than
                // the clusters' cores: with the grown grid's own count, the
                // uncapped grid may be the cheaper after all.
                if plain_cost < k * nodes(shape.m) + pairs as f64 {
                    self.bin(y, lo, plain);
                    return (plain, None);
                }
            }
        }
        // A layout too dense for the near sums (a few far outliers stretch
        // the box) keeps the plain coarse grid.
        if pairs <= NEAR_PAIRS_PER_POINT * n {
            (
                GridShape {
                    near_pairs: pairs,
                    ..shape
                },
                Some(sp),
            )
        } else {
            (shape, None)
        }
    }

    /// The exact sum in place of the grid ([`GridRepulsion::with_exact_when_cheaper`]).
    fn exact_instead(
        &mut self,
        y: &[[f64; D]],
        out: &mut [[f64; D]],
        t0: std::time::Instant,
    ) -> f64 {
        let exact = self.exact.as_mut().expect("the exact engine is enabled");
        let z = Repulsion::<D>::compute(exact, y, out);
        self.last_shape = None;
        self.times = PhaseTimes {
            binning: t0.elapsed().as_secs_f64(),
            ..PhaseTimes::default()
        };
        z
    }

    fn near_pairs(&mut self, m: usize, sp: Split) -> u64 {
        pair_bound::<D>(
            &self.counts,
            m,
            sp.reach(),
            &mut self.box_counts,
            &mut self.box_sums,
        )
    }

    /// Bins the points into the cells of `shape`: cell ids (last axis
    /// slowest), then a counting sort into `order` and `rank`; `counts[c]`
    /// ends as the end of cell c in sorted order.
    fn bin(&mut self, y: &[[f64; D]], lo: &[f64; D], shape: GridShape) {
        let n = y.len();
        let m = shape.m;
        let total = m.pow(D as u32);
        let inv_h = 1.0 / shape.h;
        let fmax = m - 3;
        // Binning: cell ids (last axis slowest), then a counting sort.
        resize(&mut self.cell, n, 0);
        self.cell
            .par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(c, cells)| {
                for (k, cell) in cells.iter_mut().enumerate() {
                    let p = &y[c * CHUNK + k];
                    let mut id = 0usize;
                    for a in (0..D).rev() {
                        let x = 1.0 + (p[a] - lo[a]) * inv_h;
                        // x ≥ 1, so truncation is the floor (and no libm call).
                        let f = (x as usize).min(fmax);
                        id = id * m + f;
                    }
                    *cell = id as u32;
                }
            });
        resize(&mut self.counts, total + 1, 0);
        self.counts.iter_mut().for_each(|c| *c = 0);
        for &c in &self.cell {
            self.counts[c as usize + 1] += 1;
        }
        // Exclusive prefix sum: every cell's start, empty cells included.
        for i in 0..total {
            self.counts[i + 1] += self.counts[i];
        }
        resize(&mut self.order, n, 0);
        resize(&mut self.rank, n, 0);
        {
            let starts = &mut self.counts;
            for (i, &c) in self.cell.iter().enumerate() {
                let pos = starts[c as usize];
                self.order[pos as usize] = i as u32;
                self.rank[i] = pos;
                starts[c as usize] += 1;
            }
        }
    }
}

impl<const D: usize> Repulsion<D> for GridRepulsion<D> {
    fn grid(&self) -> Option<GridShape> {
        self.last_shape
    }

    fn compute(&mut self, y: &[[f64; D]], out: &mut [[f64; D]]) -> f64 {
        let n = y.len();
        let nch = D + 1;
        let t0 = std::time::Instant::now();

        // Extent; min and max do not depend on the order of evaluation.
        let (lo, hi) = y
            .par_chunks(CHUNK)
            .map(|c| {
                let mut lo = [f64::INFINITY; D];
                let mut hi = [f64::NEG_INFINITY; D];
                for p in c {
                    for k in 0..D {
                        lo[k] = lo[k].min(p[k]);
                        hi[k] = hi[k].max(p[k]);
                    }
                }
                (lo, hi)
            })
            .reduce(
                || ([f64::INFINITY; D], [f64::NEG_INFINITY; D]),
                |a, b| {
                    let mut r = a;
                    for k in 0..D {
                        r.0[k] = a.0[k].min(b.0[k]);
                        r.1[k] = a.1[k].max(b.1[k]);
                    }
                    r
                },
            );
        let e = (0..D).map(|k| hi[k] - lo[k]).fold(0.0, f64::max);
        // The exact sum is tried twice: against the capped grid before any
        // binning (a lower bound of the grid's cost: binning a grid at its
        // cap costs more than the exact sum of a few thousand points), then
        // against the grid chosen with its near pairs.
        let capped = grid_shape_with(e, self.h, D, self.max_side, self.min_side);
        if self.exact.is_some() && exact_is_cheaper(D, n, &capped) {
            return self.exact_instead(y, out, t0);
        }
        let (shape, split) = self.choose_grid(y, &lo, e);
        if self.exact.is_some() && exact_is_cheaper(D, n, &shape) {
            return self.exact_instead(y, out, t0);
        }
        let GridShape { m, h, .. } = shape;
        let total = m.pow(D as u32);
        let inv_h = 1.0 / h;
        // Charges use coordinates centred on the box: smaller magnitudes keep
        // the cancellation in Z's assembly small.
        let mut centre = [0.0; D];
        for k in 0..D {
            centre[k] = 0.5 * (lo[k] + hi[k]);
        }
        self.last_shape = Some(GridShape {
            near: split.is_some(),
            ..shape
        });
        resize(&mut self.gx, n, [0.0; D]);
        resize(&mut self.yc, n, [0.0; D]);
        {
            let order = &self.order;
            self.gx
                .par_chunks_mut(CHUNK)
                .zip(self.yc.par_chunks_mut(CHUNK))
                .enumerate()
                .for_each(|(c, (gx, yc))| {
                    for k in 0..gx.len() {
                        let p = &y[order[c * CHUNK + k] as usize];
                        for a in 0..D {
                            gx[k][a] = 1.0 + (p[a] - lo[a]) * inv_h;
                            yc[k][a] = p[a] - centre[a];
                        }
                    }
                });
        }
        let t1 = std::time::Instant::now();

        // S2G by slab groups of the last axis in two phases.
        resize(&mut self.q, total * nch, 0.0);
        self.q.iter_mut().for_each(|v| *v = 0.0);
        let plane = total / m * nch; // values per plane of the last axis
        let slab_start = |s: usize| -> usize {
            // Sorted position of the first point whose last-axis cell is ≥ s:
            // the end of the cells before slab s (exclusive prefix sum).
            if s == 0 {
                0
            } else {
                self.counts[(s * (total / m)) - 1] as usize
            }
        };
        let ngroups = m.div_ceil(SLABS_PER_GROUP);
        for phase in 0..2 {
            // Group g writes planes [4g − 1, 4g + 6): split the grid into
            // disjoint pieces of 8 planes, one per group of this phase.
            let mut pieces: Vec<(usize, usize, usize, &mut [f64])> = Vec::new();
            let mut rest: &mut [f64] = &mut self.q[..];
            let mut consumed = 0usize; // planes already split off
            let mut g = phase;
            while g < ngroups {
                let first = (SLABS_PER_GROUP * g).saturating_sub(1).min(m);
                let last = (SLABS_PER_GROUP * g + 6).min(m);
                let (_, r) = std::mem::take(&mut rest).split_at_mut((first - consumed) * plane);
                let (piece, r2) = r.split_at_mut((last - first) * plane);
                rest = r2;
                consumed = last;
                let s0 = SLABS_PER_GROUP * g;
                let s1 = (s0 + SLABS_PER_GROUP).min(m);
                pieces.push((first, slab_start(s0), slab_start(s1), piece));
                g += 2;
            }
            let gx = &self.gx;
            let yc = &self.yc;
            pieces.into_par_iter().for_each(|(first, p0, p1, piece)| {
                spread::<D>(&gx[p0..p1], &yc[p0..p1], m, first, piece);
            });
        }
        let t2 = std::time::Instant::now();

        resize(&mut self.phi, total * nch, 0.0);
        self.conv.set_split(split);
        self.conv.convolve(m, h, nch, &self.q, &mut self.phi);
        let t3 = std::time::Instant::now();

        // K on in-stencil offsets e ∈ {0..3}^D, entry Σ e_k 4^k (axis 0
        // fastest, as self_term reads it).
        let kernel = self.conv.kernel();
        let inv_dof = kernel.inv_dof();
        let mut kself = [0.0; 64];
        for (t, k) in kself.iter_mut().enumerate().take(1 << (2 * D)) {
            let r2: usize = (0..D).map(|a| ((t >> (2 * a)) & 3).pow(2)).sum();
            let r2 = r2 as f64;
            *k = kernel.grid(h * h, r2) * split.map_or(1.0, |sp| sp.far(r2));
        }

        // G2S and the per-point terms, in sorted order.
        resize(&mut self.fs, n, [0.0; D]);
        resize(&mut self.zs, n, 0.0);
        {
            let (gx, yc, phi) = (&self.gx, &self.yc, &self.phi);
            self.fs
                .par_chunks_mut(CHUNK)
                .zip(self.zs.par_chunks_mut(CHUNK))
                .enumerate()
                .for_each(|(c, (fs, zs))| {
                    for k in 0..fs.len() {
                        let i = c * CHUNK + k;
                        let v = gather::<D>(&gx[i], m, phi);
                        let yi = &yc[i];
                        let mut yy = 0.0;
                        let mut ydot = 0.0;
                        for a in 0..D {
                            yy += yi[a] * yi[a];
                            ydot += yi[a] * v[a + 1];
                            fs[k][a] = yi[a] * v[0] - v[a + 1];
                        }
                        // Z's j = i terms come back through the grid as s_i, not
                        // the exact 1: subtract what the grid added.
                        // Σ_j K_ij (1 + ‖y_i − y_j‖²/ν) = Σ_j w_ij, using the
                        // symmetry of K for the ‖y_j‖² part.
                        zs[k] = (1.0 + 2.0 * yy * inv_dof) * v[0]
                            - 2.0 * ydot * inv_dof
                            - self_term::<D>(&gx[i], m, &kself);
                    }
                });
        }
        if let Some(sp) = split {
            add_near::<D>(
                &self.yc,
                &self.gx,
                &self.counts,
                m,
                h,
                sp,
                kernel,
                &mut self.soa,
                &mut self.near_src,
                &mut self.fs,
                &mut self.zs,
            );
        }
        {
            let (fs, rank) = (&self.fs, &self.rank);
            out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
                for (k, r) in o.iter_mut().enumerate() {
                    *r = fs[rank[c * CHUNK + k] as usize];
                }
            });
        }
        let z = crate::util::fixed_sum(&self.zs);
        let t4 = std::time::Instant::now();
        self.times = PhaseTimes {
            binning: (t1 - t0).as_secs_f64(),
            s2g: (t2 - t1).as_secs_f64(),
            g2g: (t3 - t2).as_secs_f64(),
            g2s: (t4 - t3).as_secs_f64(),
        };
        z
    }
}

/// Whether the exact sum over the `n²` pairs is estimated to cost less
/// than an evaluation on `shape` (its convolution, its near pairs and the
/// spreading and interpolation of `n` points in `dim` dimensions), by the
/// per-unit costs measured in [`crate::defaults::REPULSION_COST`].
pub fn exact_is_cheaper(dim: usize, n: usize, shape: &GridShape) -> bool {
    let c = crate::defaults::REPULSION_COST[dim.clamp(1, 3) - 1];
    let n = n as f64;
    let nodes = (shape.m as f64).powi(dim as i32);
    let grid = c.node * nodes + c.near_pair * shape.near_pairs as f64 + c.point * n;
    c.exact_pair * n * n < grid
}

/// Floor cell and cubic weights of one point along each axis.
#[inline(always)]
fn axis_weights<const D: usize>(gx: &[f64; D], m: usize) -> ([usize; D], [[f64; 4]; D]) {
    let mut f = [0usize; D];
    let mut w = [[0.0; 4]; D];
    for a in 0..D {
        // gx ≥ 1, so truncation is the floor (and no libm call).
        f[a] = (gx[a] as usize).clamp(1, m - 3);
        w[a] = cubic_weights(gx[a] - f[a] as f64);
    }
    (f, w)
}

/// Calls `row(node, weight)` for each of the 4^(D−1) rows of a point's
/// stencil: `node` is the row's first node (axis 0 fastest, the last axis
/// counted from plane `first`), `weight` the product of the other axes'
/// weights. Rows run along axis 0, so the 4 nodes of a row (and their
/// channels) are contiguous and the inner loops unroll.
#[inline(always)]
fn stencil_rows<const D: usize>(
    f: &[usize; D],
    w: &[[f64; 4]; D],
    m: usize,
    first: usize,
    mut row: impl FnMut(usize, f64),
) {
    if D == 1 {
        row(f[0] - 1 - first, 1.0);
        return;
    }
    for t in 0..(1usize << (2 * (D - 1))) {
        let mut wt = 1.0;
        let mut node = f[0] - 1;
        let mut stride = m;
        for a in 1..D {
            let ta = (t >> (2 * (a - 1))) & 3;
            wt *= w[a][ta];
            let n = f[a] + ta - 1;
            node += if a + 1 == D { n - first } else { n } * stride;
            stride *= m;
        }
        row(node, wt);
    }
}

/// Spreads the charges (1, y) of sorted points onto `piece`, which holds the
/// planes `first..` of the last axis (D + 1 values per node, by channel).
fn spread<const D: usize>(
    gx: &[[f64; D]],
    yc: &[[f64; D]],
    m: usize,
    first: usize,
    piece: &mut [f64],
) {
    let nch = D + 1;
    let mut charge = [0.0; 4];
    charge[0] = 1.0;
    for (p, y) in gx.iter().zip(yc) {
        let (f, w) = axis_weights::<D>(p, m);
        charge[1..=D].copy_from_slice(y);
        stencil_rows::<D>(&f, &w, m, first, |node, wt| {
            let row = &mut piece[node * nch..(node + 4) * nch];
            for (t0, vals) in row.chunks_exact_mut(nch).enumerate() {
                let wt = wt * w[0][t0];
                for (v, c) in vals.iter_mut().zip(&charge) {
                    *v += wt * c;
                }
            }
        });
    }
}

/// Interpolates the D + 1 potentials at one point.
#[inline]
fn gather<const D: usize>(gx: &[f64; D], m: usize, phi: &[f64]) -> [f64; 4] {
    let nch = D + 1;
    let (f, w) = axis_weights::<D>(gx, m);
    let mut v = [0.0; 4];
    stencil_rows::<D>(&f, &w, m, 0, |node, wt| {
        let row = &phi[node * nch..(node + 4) * nch];
        for (t0, vals) in row.chunks_exact(nch).enumerate() {
            let wt = wt * w[0][t0];
            for (a, x) in v.iter_mut().zip(vals) {
                *a += wt * x;
            }
        }
    });
    v
}

/// What the grid returns for a point's interaction with itself:
/// s = Σ_{a,b} W_a W_b K(a − b) over its 4^D stencil nodes. Grouped by the
/// offset a − b per axis, u_k(e) = Σ_a W_a W_{a+e}, so that
/// s = Σ_{e ∈ {0..3}^D} Π_k c(e_k) u_k(e_k) K(e), with c(0) = 1, c(e > 0) = 2.
#[inline]
fn self_term<const D: usize>(gx: &[f64; D], m: usize, kself: &[f64; 64]) -> f64 {
    let (_, w) = axis_weights::<D>(gx, m);
    let mut u = [[0.0; 4]; D];
    for (uk, wk) in u.iter_mut().zip(&w) {
        for (e, ue) in uk.iter_mut().enumerate() {
            let s: f64 = (0..4 - e).map(|a| wk[a] * wk[a + e]).sum();
            *ue = if e == 0 { s } else { 2.0 * s };
        }
    }
    // By rows of axis 0: four independent products per row, so the sum is
    // not one chain of 4^D dependent additions.
    let mut total = 0.0;
    for (t, row) in kself.chunks_exact(4).take(1 << (2 * (D - 1))).enumerate() {
        let mut prod = 1.0;
        for (k, uk) in u.iter().enumerate().skip(1) {
            prod *= uk[(t >> (2 * (k - 1))) & 3];
        }
        let u0 = &u[0];
        total += prod * (u0[0] * row[0] + u0[1] * row[1] + u0[2] * row[2] + u0[3] * row[3]);
    }
    total
}
