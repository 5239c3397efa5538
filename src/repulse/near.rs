//! The near/far split of the repulsion kernel (issue 20), in the manner of
//! particle–particle particle–mesh methods.
//!
//! When the embedding is wider than the grid's node cap allows at the
//! target spacing h, the spacing H grows with the extent. The kernel
//! K = w^((ν+1)/ν) varies on the scale of one unit near r = 0, which a
//! coarse grid cannot follow; so the kernel is split with a smooth switch g
//! that is 0 below r₁ = A·H and 1 above r₂ = B·H:
//!
//! - far part K·g, on the coarse grid: it is zero where K is steep and only
//!   varies on the scale of H beyond, so cubic interpolation follows it;
//! - near part K·(1 − g), exactly, summed over the points of the cells
//!   within r₂ (the grid's binning already sorts the points by cell).
//!
//! Z splits the same way (w·g on the grid through its channels, w·(1 − g)
//! exactly), so force and Z come from one kernel each, never mixed.
//!
//! As the embedding spreads, H grows with the extent and the near radius
//! with H, while the points per unit volume fall: the number of near pairs
//! per point stays roughly constant, and so does the cost of an iteration.

use rayon::prelude::*;

use crate::kernel::Kernel;
use crate::util::CHUNK;

/// The switch's radii in units of the grid spacing H (0 < inner < outer;
/// only [`Split::for_dim`] makes one).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Split {
    /// r₁ / H: below, the pair is entirely in the near part.
    pub(crate) inner: f64,
    /// r₂ / H: above, entirely on the grid.
    pub(crate) outer: f64,
}

impl Split {
    /// The default radii for dimension `dim`, chosen by measured accuracy
    /// and cost (docs/algorithm.md, "Near/far split"): [1, 2] spacings in
    /// 3D, where a wider shell costs a volume of pairs, and [1, 3] in 1D
    /// and 2D, where the switch must be gentler because the cap binds at
    /// spacings close to the kernel's width.
    pub fn for_dim(dim: usize) -> Split {
        Split {
            inner: 1.0,
            outer: if dim >= 3 { 2.0 } else { 3.0 },
        }
    }

    /// r₂ / H: pairs closer than this many spacings are summed exactly.
    pub fn outer(&self) -> f64 {
        self.outer
    }

    /// Cells each side a point's near sum visits.
    pub fn reach(&self) -> usize {
        self.outer.ceil() as usize
    }

    /// g(r²) for r² in units of H² (1 = all far, 0 = all near).
    #[inline(always)]
    pub fn far(&self, r2: f64) -> f64 {
        let (a, b) = (self.inner * self.inner, self.outer * self.outer);
        if r2 <= a {
            0.0
        } else if r2 >= b {
            1.0
        } else {
            smooth((r2 - a) / (b - a))
        }
    }
}

/// A C³ step from 0 to 1 on [0, 1]: t⁴(35 − 84t + 70t² − 20t³). Cubic
/// interpolation's error follows the fourth derivative, so the far part
/// must be smooth to the third.
#[inline(always)]
fn smooth(t: f64) -> f64 {
    let t2 = t * t;
    t2 * t2 * (35.0 + t * (-84.0 + t * (70.0 - 20.0 * t)))
}

/// Upper bound of the near pairs: Σ over points of the points in the
/// (2·reach + 1)^D cells around theirs. `ends[c]` is the end of cell c in
/// sorted order (cells of an m^D grid, axis 0 fastest); `work` is scratch.
pub(crate) fn pair_bound<const D: usize>(
    ends: &[u32],
    m: usize,
    reach: usize,
    work: &mut Vec<u64>,
    box_sum: &mut Vec<u64>,
) -> u64 {
    let total = m.pow(D as u32);
    work.clear();
    work.extend((0..total).map(|c| {
        let s = if c == 0 { 0 } else { ends[c - 1] };
        (ends[c] - s) as u64
    }));
    box_sum.clear();
    box_sum.resize(total, 0);
    // Separable box filter, one axis at a time, by running sums: work
    // holds the counts, then each axis's partial box sums.
    let mut stride = 1;
    let window = reach.min(m - 1);
    for _ in 0..D {
        for line in 0..total / m {
            let base = (line / stride) * stride * m + line % stride;
            let mut acc: u64 = (0..=window).map(|k| work[base + k * stride]).sum();
            for k in 0..m {
                box_sum[base + k * stride] = acc;
                if k + reach + 1 < m {
                    acc += work[base + (k + reach + 1) * stride];
                }
                if k >= reach {
                    acc -= work[base + (k - reach) * stride];
                }
            }
        }
        std::mem::swap(work, box_sum);
        stride *= m;
    }
    let mut pairs = 0u64;
    for c in 0..total {
        let s = if c == 0 { 0 } else { ends[c - 1] };
        pairs += (ends[c] - s) as u64 * work[c];
    }
    pairs
}

/// Lanes of the pair loop: eight independent partial sums per quantity,
/// so the loop vectorises without reassociating a float sum (the lanes are
/// combined in a fixed order, so the bits do not depend on the hardware's
/// vector width or the thread count).
const LANES: usize = 8;

/// Coordinate of the padding pairs: far enough that the switch is 1 and
/// they add 0, small enough that its square stays finite in f32.
const PAD: f32 = 1e17;

/// Points of one cell handled together (a stack array of their sums).
const GROUP: usize = 32;

/// Adds the near part to each sorted point's force numerator `fs` and Z
/// term `zs`: Σ_j K(r)(1 − g)(y_i − y_j) and Σ_j w(r)(1 − g) over the
/// points j ≠ i closer than r₂. `yc` are the sorted coordinates, `gx` the
/// grid coordinates (cell = floor), `ends` the cell ends of the m^D grid
/// of spacing `h`; `soa` and `src` are scratch (coordinates by axis, the
/// sources' shares).
///
/// Each pair is evaluated once (half the work of summing every point's
/// neighbourhood): by the point whose cell comes first in sorted order,
/// which adds its share to its own lanes and the opposite share to the
/// other point's. The points of a cell are taken together: they share the
/// rows of cells (along axis 0) that come within r₂ of their cell, so a
/// row's bounds are found once per cell, and each row is cut to the cells
/// the r₂-neighbourhood of the cell crosses.
#[allow(clippy::too_many_arguments)]
pub(crate) fn add_near<const D: usize>(
    yc: &[[f64; D]],
    gx: &[[f64; D]],
    ends: &[u32],
    m: usize,
    h: f64,
    split: Split,
    kernel: Kernel,
    soa: &mut Vec<f32>,
    src: &mut Vec<f32>,
    fs: &mut [[f64; D]],
    zs: &mut [f64],
) {
    let stride = fill_soa(yc, soa);
    let reach = split.reach();
    let ctx = Ctx {
        soa: &soa[..],
        stride,
        gx,
        ends,
        m,
        sw: Switch::new(split, h),
        big_r: split.outer,
        reach,
        kernel,
    };
    // The sources' shares, by axis then Z (f32, like the pair loop).
    src.clear();
    src.resize((D + 1) * stride, 0.0);
    let plane = m.pow(D as u32 - 1);
    let slab_start = |s: usize| -> usize {
        let c = s.min(m) * plane;
        if c == 0 {
            0
        } else {
            ends[c - 1] as usize
        }
    };
    // A task takes the points of `sg` slabs (planes of the last axis) as
    // targets and writes to the sources up to `reach` slabs beyond, so
    // with sg ≥ reach tasks two groups apart never write the same point:
    // even groups run together, then odd ones. Every point's sums arrive
    // in an order fixed by the data, whatever the thread count. The
    // thinnest slabs balance two threads best (Fashion-MNIST 3D: 39.0 s
    // against 41.3 s for 4-slab groups).
    let sg = reach.max(1);
    let ngroups = m.div_ceil(sg);
    let wide = wide_vectors();
    for phase in 0..2 {
        let groups: Vec<usize> = (phase..ngroups).step_by(2).collect();
        let targets: Vec<(usize, usize)> = groups
            .iter()
            .map(|&g| (slab_start(g * sg), slab_start(g * sg + sg)))
            .collect();
        let writes: Vec<(usize, usize)> = groups
            .iter()
            .map(|&g| (slab_start(g * sg), slab_start(g * sg + sg + reach)))
            .collect();
        let fw = windows(&mut fs[..], &targets);
        let zw = windows(&mut zs[..], &targets);
        let mut srcw: Vec<Vec<&mut [f32]>> = (0..groups.len()).map(|_| Vec::new()).collect();
        for col in src.chunks_exact_mut(stride) {
            for (k, w) in windows(col, &writes).into_iter().enumerate() {
                srcw[k].push(w);
            }
        }
        fw.into_par_iter()
            .zip(zw)
            .zip(srcw)
            .zip(targets.par_iter().zip(&writes))
            .for_each(|(((fs, zs), mut src), (&(t0, _), &(w0, _)))| {
                let mut task = Task {
                    t0,
                    w0,
                    fs,
                    zs,
                    src: &mut src,
                };
                #[cfg(target_arch = "x86_64")]
                if wide {
                    // SAFETY: wide_vectors() found AVX2 on this CPU.
                    unsafe { slab_task_avx2(&ctx, &mut task) };
                    return;
                }
                let _ = wide;
                slab_task(&ctx, &mut task);
            });
    }
    let src = &src[..];
    fs.par_chunks_mut(CHUNK)
        .zip(zs.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(c, (fs, zs))| {
            for (k, (f, z)) in fs.iter_mut().zip(zs.iter_mut()).enumerate() {
                let i = c * CHUNK + k;
                for (a, fa) in f.iter_mut().enumerate() {
                    *fa += src[a * stride + i] as f64;
                }
                *z += src[D * stride + i] as f64;
            }
        });
}

/// Fills `soa` with the coordinates of `yc` by axis, in f32, and returns
/// the values per axis. Pair arithmetic is in f32: the split's own error
/// is 1e-3 to 1e-2 (docs/algorithm.md), far above f32 round-off, and f32
/// doubles the vector width. Each axis is followed by LANES padding
/// values, so the pair loop can always read eight and mask the excess.
fn fill_soa<const D: usize>(yc: &[[f64; D]], soa: &mut Vec<f32>) -> usize {
    let stride = yc.len() + LANES;
    soa.clear();
    soa.resize(D * stride, PAD);
    for (a, col) in soa.chunks_exact_mut(stride).enumerate() {
        for (v, p) in col.iter_mut().zip(yc) {
            *v = p[a] as f32;
        }
    }
    stride
}

/// The given increasing, disjoint ranges of `s`, as slices.
fn windows<'a, T>(mut s: &'a mut [T], ranges: &[(usize, usize)]) -> Vec<&'a mut [T]> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut consumed = 0;
    for &(a, b) in ranges {
        let rest = std::mem::take(&mut s);
        let (_, rest) = rest.split_at_mut(a - consumed);
        let (w, rest) = rest.split_at_mut(b - a);
        out.push(w);
        s = rest;
        consumed = b;
    }
    out
}

/// One task of the symmetric near sums: the targets at sorted positions
/// t0.. (their sums in `fs`, `zs`) and the sources' shares from w0 on.
struct Task<'a, 'b, const D: usize> {
    t0: usize,
    w0: usize,
    fs: &'a mut [[f64; D]],
    zs: &'a mut [f64],
    src: &'b mut Vec<&'a mut [f32]>,
}

/// Whether the CPU has 8-wide f32 vectors (AVX2). The pair loop gives the
/// same bits either way: its arithmetic is lane by lane, with no fused
/// multiply-add, so only the speed differs.
fn wide_vectors() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`slab_task`] compiled for AVX2: twice the vector width of the x86-64
/// baseline (SSE2). Measured on Fashion-MNIST 3D (docs/performance.md).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn slab_task_avx2<const D: usize>(ctx: &Ctx<D>, task: &mut Task<D>) {
    slab_task(ctx, task)
}

/// What every task of the near sums reads.
struct Ctx<'a, const D: usize> {
    soa: &'a [f32],
    /// Values per axis in `soa` (the points, then LANES of padding).
    stride: usize,
    gx: &'a [[f64; D]],
    ends: &'a [u32],
    m: usize,
    sw: Switch,
    big_r: f64,
    reach: usize,
    kernel: Kernel,
}

/// The near sums of one task: each pair once, from the target whose cell
/// comes first (cells in sorted order; within a cell, the earlier point),
/// its share to the target's lanes and the opposite share to the source.
#[inline(always)]
fn slab_task<const D: usize>(ctx: &Ctx<D>, task: &mut Task<D>) {
    let Ctx {
        soa,
        stride: n,
        gx,
        ends,
        m,
        big_r,
        reach,
        kernel,
        ..
    } = *ctx;
    let sw = &ctx.sw;
    let (t0, w0) = (task.t0, task.w0);
    let hi = m - 3; // last interior cell
    let cell_of = |i: usize| -> [usize; D] {
        // As the binning computes it.
        std::array::from_fn(|a| (gx[i][a] as usize).min(hi))
    };
    let start = |c: usize| -> usize {
        if c == 0 {
            0
        } else {
            ends[c - 1] as usize
        }
    };
    let len = task.fs.len();
    let mut accs = [Acc::<D>::default(); GROUP];
    let mut yi = [[0f32; D]; GROUP];
    let mut p = 0;
    while p < len {
        let f = cell_of(t0 + p);
        let mut q = p + 1;
        while q < len && q - p < GROUP && cell_of(t0 + q) == f {
            q += 1;
        }
        let g = q - p;
        for t in 0..g {
            accs[t] = Acc::default();
            for a in 0..D {
                yi[t][a] = soa[a * n + t0 + p + t];
            }
        }
        // Rows of cells along axis 0 from this cell's row on, in sorted
        // order: the cells after it in its own row, then the rows after
        // it (the last axis slowest), up to `reach` cells away.
        let mut lo = [0usize; D];
        let mut up = [0usize; D];
        for a in 0..D {
            lo[a] = f[a].saturating_sub(reach).max(1);
            up[a] = (f[a] + reach).min(hi);
        }
        if D > 1 {
            lo[D - 1] = f[D - 1];
        }
        let mut cell = lo;
        'rows: loop {
            // Whether this row comes after the cell's own (compared from
            // the last axis), or is its own.
            let mut order = std::cmp::Ordering::Equal;
            for a in (1..D).rev() {
                if order == std::cmp::Ordering::Equal {
                    order = cell[a].cmp(&f[a]);
                }
            }
            let mut perp = 0.0;
            let mut id_rest = 0usize;
            let mut stride = m;
            for a in 1..D {
                let gap = cell[a].abs_diff(f[a]).saturating_sub(1) as f64;
                perp += gap * gap;
                id_rest += cell[a] * stride;
                stride *= m;
            }
            if order != std::cmp::Ordering::Less && perp < big_r * big_r {
                let k = (big_r * big_r - perp).sqrt().ceil() as usize;
                let own = order == std::cmp::Ordering::Equal;
                let c0 = if own {
                    f[0]
                } else {
                    f[0].saturating_sub(k).max(1)
                };
                let c1 = (f[0] + k).min(hi);
                let (s, e) = (start(id_rest + c0), ends[id_rest + c1] as usize);
                for t in 0..g {
                    // In its own cell, a point pairs with the later points.
                    let s = if own { t0 + p + t + 1 } else { s };
                    if s >= e {
                        continue;
                    }
                    // With LANES values past the row's end (other points
                    // or the padding), masked by the row length.
                    let cols: [&[f32]; D] =
                        std::array::from_fn(|a| &soa[a * n + s..a * n + e + LANES]);
                    if kernel.is_cauchy() {
                        accs[t].cauchy(&yi[t], &cols, e - s, sw, task.src, s - w0);
                    } else {
                        accs[t].general(&yi[t], &cols, e - s, sw, kernel, task.src, s - w0);
                    }
                }
            }
            // Next row: odometer over axes 1..D.
            let mut a = 1;
            loop {
                if a == D {
                    break 'rows;
                }
                if cell[a] < up[a] {
                    cell[a] += 1;
                    break;
                }
                cell[a] = lo[a];
                a += 1;
            }
        }
        for (t, acc) in accs[..g].iter().enumerate() {
            let (force, z) = acc.finish();
            for (f, v) in task.fs[p + t].iter_mut().zip(force) {
                *f += v;
            }
            task.zs[p + t] += z;
        }
        p = q;
    }
}

/// The lane sums of one point's near pairs.
#[derive(Clone, Copy)]
struct Acc<const D: usize> {
    z: [f32; LANES],
    f: [[f32; LANES]; D],
}

impl<const D: usize> Default for Acc<D> {
    fn default() -> Self {
        Acc {
            z: [0.0; LANES],
            f: [[0.0; LANES]; D],
        }
    }
}

/// The switch in the form the pair loop evaluates: t = d²·c1 − c0, clamped
/// to [0, 1], is the position in the transition zone; near = 1 − smooth(t).
struct Switch {
    c1: f32,
    c0: f32,
    c1_64: f64,
    c0_64: f64,
}

impl Switch {
    fn new(split: Split, h: f64) -> Self {
        let (a2, b2) = (split.inner * split.inner, split.outer * split.outer);
        let c1 = 1.0 / ((b2 - a2) * h * h);
        let c0 = a2 / (b2 - a2);
        Switch {
            c1: c1 as f32,
            c0: c0 as f32,
            c1_64: c1,
            c0_64: c0,
        }
    }
}

impl<const D: usize> Acc<D> {
    /// ν = 1, branch-free, eight pairs at a time in local arrays (which
    /// the compiler turns into vector registers): the clamped switch is 1
    /// beyond r₂, so farther pairs, and the padding of the last eight,
    /// add exactly 0.
    #[inline(always)]
    fn cauchy(
        &mut self,
        yi: &[f32; D],
        cols: &[&[f32]; D],
        len: usize,
        sw: &Switch,
        src: &mut [&mut [f32]],
        off: usize,
    ) {
        let mut z = self.z;
        let mut f = self.f;
        let mut j = 0;
        while j < len {
            let c: [&[f32; LANES]; D] =
                std::array::from_fn(|a| cols[a][j..j + LANES].try_into().expect("padded"));
            // One pass per lane, all of a pair's arithmetic together, so
            // each quantity is one vector register across the lanes.
            let mut fx = [[0f32; LANES]; D];
            let mut zw = [0f32; LANES];
            for l in 0..LANES {
                let mut d2 = 0f32;
                let mut dx = [0f32; D];
                for a in 0..D {
                    let v = if j + l < len { c[a][l] } else { PAD };
                    dx[a] = yi[a] - v;
                    d2 += dx[a] * dx[a];
                }
                let t = d2 * sw.c1 - sw.c0;
                let t = if t > 0.0 { t } else { 0.0 };
                let t = if t < 1.0 { t } else { 1.0 };
                let t2 = t * t;
                let g = t2 * t2 * (35.0 + t * (-84.0 + t * (70.0 - 20.0 * t)));
                let q = 1.0 / (1.0 + d2);
                let wn = (1.0 - g) * q;
                z[l] += wn;
                let kn = wn * q;
                for a in 0..D {
                    f[a][l] += kn * dx[a];
                    fx[a][l] = kn * dx[a];
                }
                zw[l] = wn;
            }
            // The sources' opposite shares; only the row's own points.
            let valid = LANES.min(len - j);
            for a in 0..D {
                let col = &mut src[a][off + j..off + j + valid];
                for (v, x) in col.iter_mut().zip(&fx[a]) {
                    *v -= x;
                }
            }
            let col = &mut src[D][off + j..off + j + valid];
            for (v, x) in col.iter_mut().zip(&zw) {
                *v += x;
            }
            j += LANES;
        }
        self.z = z;
        self.f = f;
    }

    /// Any ν, one pair at a time (powf does not vectorise).
    #[allow(clippy::needless_range_loop)] // j and a index several arrays
    #[allow(clippy::too_many_arguments)]
    fn general(
        &mut self,
        yi: &[f32; D],
        cols: &[&[f32]; D],
        len: usize,
        sw: &Switch,
        kernel: Kernel,
        src: &mut [&mut [f32]],
        off: usize,
    ) {
        for j in 0..len {
            let mut d2 = 0f64;
            let mut dx = [0f64; D];
            for a in 0..D {
                dx[a] = (yi[a] - cols[a][j]) as f64;
                d2 += dx[a] * dx[a];
            }
            let t = (d2 * sw.c1_64 - sw.c0_64).clamp(0.0, 1.0);
            let near = 1.0 - smooth(t);
            let (w, k2) = kernel.repulsion(d2);
            let l = j % LANES;
            let (zn, kn) = ((near * w) as f32, near * k2);
            self.z[l] += zn;
            src[D][off + j] += zn;
            for a in 0..D {
                let v = (kn * dx[a]) as f32;
                self.f[a][l] += v;
                src[a][off + j] -= v;
            }
        }
    }

    /// The lanes combined in a fixed order.
    #[allow(clippy::needless_range_loop)]
    fn finish(&self) -> ([f64; D], f64) {
        let mut f = [0.0; D];
        for a in 0..D {
            f[a] = self.f[a].iter().map(|&v| v as f64).sum();
        }
        (f, self.z.iter().map(|&v| v as f64).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::Rng;

    /// Sorted cell ends of `cells` (cell id per point) on `total` cells.
    fn ends_of(cells: &[usize], total: usize) -> Vec<u32> {
        let mut ends = vec![0u32; total];
        for &c in cells {
            ends[c] += 1;
        }
        for c in 1..total {
            ends[c] += ends[c - 1];
        }
        ends
    }

    #[test]
    fn pair_bound_counts_the_box_of_cells() {
        fn run<const D: usize>(m: usize, reach: usize) {
            let mut rng = Rng::new(3);
            let total = m.pow(D as u32);
            let mut cells: Vec<usize> = (0..500)
                .map(|_| (rng.uniform() * total as f64) as usize % total)
                .collect();
            cells.sort();
            let ends = ends_of(&cells, total);
            let coord =
                |c: usize| -> [usize; D] { std::array::from_fn(|a| (c / m.pow(a as u32)) % m) };
            let mut brute = 0u64;
            for &a in &cells {
                for &b in &cells {
                    let (ca, cb) = (coord(a), coord(b));
                    if (0..D).all(|k| ca[k].abs_diff(cb[k]) <= reach) {
                        brute += 1;
                    }
                }
            }
            let got = pair_bound::<D>(&ends, m, reach, &mut Vec::new(), &mut Vec::new());
            assert_eq!(got, brute, "d={D} m={m} reach={reach}");
        }
        run::<1>(40, 3);
        run::<2>(12, 2);
        run::<3>(7, 2);
        run::<3>(9, 1);
    }

    #[test]
    fn switch_goes_from_near_to_far_smoothly() {
        let s = Split::for_dim(3);
        let (a, b) = (s.inner * s.inner, s.outer * s.outer);
        assert_eq!(s.far(0.0), 0.0);
        assert_eq!(s.far(a), 0.0);
        assert_eq!(s.far(b), 1.0);
        assert_eq!(s.far(10.0 * b), 1.0);
        let mut last = 0.0;
        for k in 1..=100 {
            let g = s.far(a + (b - a) * k as f64 / 100.0);
            assert!(g >= last && g <= 1.0, "not monotone at step {k}");
            last = g;
        }
        // Flat to the third derivative at both ends: g(t) − g(0) = O(t⁴).
        assert!(smooth(1e-3) < 1e-10 && 1.0 - smooth(1.0 - 1e-3) < 1e-10);
    }

    /// The AVX2 build of the pair loop gives the bits of the baseline one
    /// (lane-wise arithmetic, no fused multiply-add), which is its oracle.
    #[test]
    fn wide_vectors_give_the_baseline_bits() {
        fn run<const D: usize>() {
            let n = 3000;
            let mut rng = Rng::new(11);
            let m = 24;
            let hi = m - 3;
            let yc: Vec<[f64; D]> = (0..n)
                .map(|_| std::array::from_fn(|_| 20.0 * rng.uniform()))
                .collect();
            let h = 20.0 / (hi - 1) as f64;
            let mut gx: Vec<[f64; D]> = yc
                .iter()
                .map(|p| std::array::from_fn(|a| 1.0 + p[a] / h))
                .collect();
            let cell = |x: &[f64; D]| -> usize {
                (0..D)
                    .rev()
                    .fold(0, |id, a| id * m + (x[a] as usize).min(hi))
            };
            let mut idx: Vec<usize> = (0..n).collect();
            idx.sort_by_key(|&i| cell(&gx[i]));
            let yc: Vec<[f64; D]> = idx.iter().map(|&i| yc[i]).collect();
            gx = idx.iter().map(|&i| gx[i]).collect();
            let cells: Vec<usize> = gx.iter().map(cell).collect();
            let ends = ends_of(&cells, m.pow(D as u32));
            let split = Split::for_dim(D);
            let mut soa = Vec::new();
            let stride = fill_soa(&yc, &mut soa);
            let ctx = Ctx {
                soa: &soa,
                stride,
                gx: &gx,
                ends: &ends,
                m,
                sw: Switch::new(split, h),
                big_r: split.outer,
                reach: split.reach(),
                kernel: Kernel::CAUCHY,
            };
            // One task over all the points (targets and sources alike).
            let eval = |wide: bool| -> Vec<u64> {
                let (mut f, mut z) = (vec![[0.0; D]; n], vec![0.0; n]);
                let mut src = vec![0f32; (D + 1) * stride];
                let mut cols: Vec<&mut [f32]> = src.chunks_exact_mut(stride).collect();
                let mut task = Task {
                    t0: 0,
                    w0: 0,
                    fs: &mut f,
                    zs: &mut z,
                    src: &mut cols,
                };
                if wide {
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: the caller checked wide_vectors().
                    unsafe {
                        slab_task_avx2(&ctx, &mut task)
                    };
                } else {
                    slab_task(&ctx, &mut task);
                }
                assert!(z.iter().any(|&v| v > 0.0), "d={D}: no near pairs");
                f.iter()
                    .flatten()
                    .chain(&z)
                    .map(|v| v.to_bits())
                    .chain(src.iter().map(|v| v.to_bits() as u64))
                    .collect()
            };
            let base = eval(false);
            if wide_vectors() {
                assert!(base == eval(true), "d={D}");
            }
        }
        run::<1>();
        run::<2>();
        run::<3>();
    }
}
