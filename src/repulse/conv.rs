//! Aperiodic grid-to-grid convolution (SPEC §6).
//!
//! A linear convolution of length m is a circular one of length 2m on
//! zero-padded data. SPEC §6 splits the 2m frequencies into even and odd:
//! 2^D periodic convolutions of size m^D, one per even/odd pattern of the
//! axes. Patterns that agree on the first axes share their transforms along
//! them, and once shared, the 2^k variants of a grid along k axes are
//! exactly the pruned 2m-point transforms of the zero-padded data along
//! those axes: here they are computed that way, one 2m-point FFT per line
//! in place of a twiddle pass and two m-point FFTs, with the same number of
//! butterflies and no twiddle passes. The padding lives only in a tile of
//! lines being transformed; the grids hold m nodes along the last axis, so
//! a work grid has 2^(D−1) m^D nodes, as the 2^(D−1) shared variants of
//! the even/odd split did, never (2m)^D.
//!
//! Each convolution maps real data to real results, so two channels travel
//! together as the real and imaginary parts of one complex transform.
//!
//! Grids and transforms are single precision: the grid's interpolation error
//! (~1e-3 relative at the default spacing) is far above f32 round-off, and f32
//! doubles the SIMD width and halves the memory traffic of the FFTs. Kernel
//! values are computed in f64 and rounded once; results are summed in f64.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use rustfft::num_complex::Complex32 as C32;
use rustfft::num_complex::Complex64 as C64;

use super::fft::{LineFft, Planner};
use super::near::Split;
use crate::kernel::Kernel;

struct Plans {
    fwd: Arc<dyn LineFft>,
    inv: Arc<dyn LineFft>,
    scratch_len: usize,
}

/// Lines gathered per tile when transforming a strided axis: 32 lines of up
/// to a few hundred points stay in L1/L2 while they are transformed, and
/// each gathered row is 256 contiguous bytes. Measured with the 2m-point
/// lines on pbmc's 3D grid (m = 56, one thread), G2G ms in three rounds:
/// 8 lines 38–47, 16 lines 36–39, 32 lines 29–30. 64 lines was faster there
/// (23 / 32 against 29 / 40 ms) but slower at m = 160 on 2 threads
/// (400 / 478 against 394 / 401 ms), on a noisy host, so 32 stays.
const TILE: usize = 32;

/// Convolution engine for grids of m^D nodes: FFT plans cached per size,
/// kernel transforms cached while (m, h) stay the same, buffers reused.
pub struct Convolver<const D: usize> {
    planner: Planner,
    /// Plans by line length (2m).
    plans: HashMap<usize, Plans>,
    /// The kernel K = w^((ν+1)/ν) it convolves with.
    kernel: Kernel,
    /// The far part of a split kernel, or None for the whole kernel.
    split: Option<Split>,
    /// (m, h bits, ν bits, split) of the cached kernel transforms.
    kernel_key: Option<(usize, u64, u64, Option<Split>)>,
    /// The kernel's 2m-point transform is real and even on every axis, so
    /// (m+1)^D values hold it all: lines along the last axis (the order of
    /// pass 2), line (a_0, …, a_{D−2}) at index Σ a_k (m+1)^k, pre-scaled by
    /// 1 / (2m)^D for the unnormalised transforms. Frequency f reads a = f
    /// for f ≤ m, 2m − f above.
    kernel_lines: Vec<f32>,
    /// The kernel on [0, m]^D and, in place, its separable cosine
    /// transform (f64), from which the lines above are read.
    kernel_cos: Vec<f64>,
    /// The same array with its axes rotated by one, between axis passes.
    kernel_rot: Vec<f64>,
    /// f64 plans of length 2m for the kernel's cosine transforms.
    planner64: rustfft::FftPlanner<f64>,
    plans64: HashMap<usize, Arc<dyn rustfft::Fft<f64>>>,
    /// Per worker: a line of 2m and FFT scratch for the kernel transforms.
    kernel_bufs: Vec<(Vec<C64>, Vec<C64>)>,
    /// Pass 1's output: per plane of the last axis, the plane's (2m)^(D−1)
    /// frequencies (axis 0 fastest).
    spectra: Vec<C32>,
    /// Pass 2's output, by tiles of TILE plane frequencies: tile T holds
    /// m planes × its width, so each worker of pass 2 owns a contiguous run.
    results: Vec<C32>,
    /// Per-worker buffers.
    lanes: Vec<Lane>,
}

impl<const D: usize> Default for Convolver<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const D: usize> Convolver<D> {
    /// A convolver on the default FFT backend ([`super::FftBackend::default`]).
    pub fn new() -> Self {
        Self::with_backend(super::FftBackend::default())
    }

    pub fn with_backend(backend: super::FftBackend) -> Self {
        Convolver {
            planner: Planner::with_backend(backend),
            plans: HashMap::new(),
            kernel: Kernel::CAUCHY,
            split: None,
            kernel_key: None,
            kernel_lines: Vec::new(),
            kernel_cos: Vec::new(),
            kernel_rot: Vec::new(),
            planner64: rustfft::FftPlanner::new(),
            plans64: HashMap::new(),
            kernel_bufs: Vec::new(),
            spectra: Vec::new(),
            results: Vec::new(),
            lanes: Vec::new(),
        }
    }

    /// Convolves with `kernel`'s repulsion weight (default ν = 1, K(r) =
    /// (1 + h²‖r‖²)⁻²).
    pub fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }

    /// The kernel it convolves with.
    pub fn kernel(&self) -> Kernel {
        self.kernel
    }

    /// Convolves with the far part K·g of the kernel split at `split`
    /// (radii in units of the spacing), or with all of K for None.
    pub(crate) fn set_split(&mut self, split: Option<Split>) {
        self.split = split;
    }

    fn prepare(&mut self, m: usize, h: f64) {
        let l = 2 * m;
        if !self.plans.contains_key(&l) {
            let (fwd, inv) = self.planner.plan(l);
            let scratch_len = fwd.scratch_len().max(inv.scratch_len());
            self.plans.insert(
                l,
                Plans {
                    fwd,
                    inv,
                    scratch_len,
                },
            );
        }
        let sl = self.plans[&l].scratch_len;
        let spec = l.pow(D as u32 - 1);
        // One lane per worker; the count changes speed only, never the bits.
        let nl = rayon::current_num_threads().clamp(1, m);
        self.lanes.resize_with(nl, Lane::default);
        for ln in &mut self.lanes {
            grow(&mut ln.tile, TILE * l);
            grow(&mut ln.plane, spec);
            grow(&mut ln.scratch, sl.max(1));
        }
        grow(&mut self.spectra, spec * m);
        grow(&mut self.results, spec * m);
        let key = (m, h.to_bits(), self.kernel.dof().to_bits(), self.split);
        if self.kernel_key != Some(key) {
            self.build_kernel(m, h);
            self.kernel_key = Some(key);
        }
    }

    /// The kernel's transform. The aperiodic convolution is a circular one
    /// of length 2m on the kernel k(r) = K(r) for |r_k| < m (0 at
    /// r_k = ±m). k is real and even on every axis, so its 2m-point
    /// transform is real and even: a cosine transform of k on [0, m]^D,
    /// separable, one axis at a time. This evaluates (m+1)^D kernel values
    /// and transforms (m+1)^(D−1) lines per axis, where a complex FFT of
    /// (2m)^D would evaluate and transform 2^D times as much. Done in f64,
    /// rounded once.
    fn build_kernel(&mut self, m: usize, h: f64) {
        let e = m + 1;
        let ne = e.pow(D as u32);
        let h2 = h * h;
        let kernel = self.kernel;
        let split = self.split;
        self.kernel_cos.resize(ne, 0.0);
        self.kernel_rot.resize(ne, 0.0);
        // k on [0, m]^D, axis 0 fastest; zero where any offset is m.
        self.kernel_cos
            .par_chunks_mut(e)
            .enumerate()
            .for_each(|(line, out)| {
                let mut rest = line;
                let mut r2 = 0.0;
                let mut edge = false;
                for _ in 1..D {
                    let j = rest % e;
                    rest /= e;
                    edge |= j == m;
                    r2 += (j * j) as f64;
                }
                for (j0, o) in out.iter_mut().enumerate() {
                    *o = if edge || j0 == m {
                        0.0
                    } else {
                        let r2 = r2 + (j0 * j0) as f64;
                        kernel.grid(h2, r2) * split.map_or(1.0, |s| s.far(r2))
                    };
                }
            });
        // Per axis: transform the contiguous lines, then rotate the axes by
        // one so the next axis is contiguous; after D rounds the order is
        // back. Lines go in pairs as the real and imaginary parts of one
        // complex FFT of the even extension: both transforms are real, so
        // they separate exactly.
        let fft = self
            .plans64
            .entry(m)
            .or_insert_with(|| self.planner64.plan_fft_forward(2 * m))
            .clone();
        let sl = fft.get_inplace_scratch_len().max(1);
        let nk = rayon::current_num_threads().max(1);
        self.kernel_bufs.resize_with(nk, Default::default);
        for (line, scratch) in &mut self.kernel_bufs {
            line.resize(line.len().max(2 * m), C64::new(0.0, 0.0));
            scratch.resize(scratch.len().max(sl), C64::new(0.0, 0.0));
        }
        let lines = ne / e;
        // A line's result carries a trace of its partner's rounding, so the
        // pairs must not depend on the split: blocks hold an even number of
        // lines, and lines 2i and 2i+1 always go together.
        let per = lines.div_ceil(nk).div_ceil(2) * 2;
        for _ in 0..D {
            self.kernel_cos
                .par_chunks_mut(per * e)
                .zip(self.kernel_bufs.par_iter_mut())
                .for_each(|(block, (z, scratch))| {
                    let z = &mut z[..2 * m];
                    for pair in block.chunks_mut(2 * e) {
                        let (a, b) = pair.split_at_mut(e.min(pair.len()));
                        for (r, zr) in z.iter_mut().enumerate() {
                            let src = fold(r, m);
                            *zr = C64::new(a[src], b.get(src).copied().unwrap_or(0.0));
                        }
                        fft.process_with_scratch(z, scratch);
                        for k in 0..e {
                            a[k] = z[k].re;
                            if let Some(v) = b.get_mut(k) {
                                *v = z[k].im;
                            }
                        }
                    }
                });
            if D == 1 {
                break;
            }
            // rot[c] = cos[j] with c = (j_1, …, j_{D−1}, j_0).
            let src = &self.kernel_cos;
            self.kernel_rot
                .par_chunks_mut(e)
                .enumerate()
                .for_each(|(line, out)| {
                    // line = (c_1, …, c_{D−1}) = (j_2, …, j_{D−1}, j_0);
                    // out[c_0] with c_0 = j_1.
                    let mut rest = line;
                    let mut base = 0;
                    let mut mult = e * e;
                    for _ in 1..D - 1 {
                        base += (rest % e) * mult;
                        rest /= e;
                        mult *= e;
                    }
                    base += rest; // j_0
                    for (j1, o) in out.iter_mut().enumerate() {
                        *o = src[base + j1 * e];
                    }
                });
            std::mem::swap(&mut self.kernel_cos, &mut self.kernel_rot);
        }
        // Lines along the last axis: entry li·e + a_last of line
        // li = Σ_{k<D−1} a_k e^k is the transform at (a_0, …, a_last).
        let scale = 1.0 / ((2 * m) as f64).powi(D as i32);
        let cos = &self.kernel_cos;
        let stride = ne / e;
        self.kernel_lines.resize(ne, 0.0);
        self.kernel_lines
            .par_chunks_mut(e)
            .enumerate()
            .for_each(|(li, out)| {
                for (al, o) in out.iter_mut().enumerate() {
                    *o = (cos[li + al * stride] * scale) as f32;
                }
            });
    }

    /// Convolves each of the `nch` interleaved real channels of `q`
    /// (q[node * nch + c]) with the kernel and writes the linear (aperiodic)
    /// convolution to `phi` in the same layout.
    pub fn convolve(&mut self, m: usize, h: f64, nch: usize, q: &[f64], phi: &mut [f64]) {
        let total = m.pow(D as u32);
        assert_eq!(q.len(), total * nch);
        assert_eq!(phi.len(), total * nch);
        self.prepare(m, h);
        phi.iter_mut().for_each(|v| *v = 0.0);
        for c0 in (0..nch).step_by(2) {
            self.convolve_pair(m, nch, c0, q, phi);
        }
    }
}

/// Buffers of one worker.
#[derive(Default)]
struct Lane {
    /// Up to TILE lines of 2m being transformed.
    tile: Vec<C32>,
    /// One plane's (2m)^(D−1) frequencies (pass 3).
    plane: Vec<C32>,
    scratch: Vec<C32>,
}

/// Frequency a ∈ [0, m] holding the value of an even function's 2m-point
/// transform at frequency f.
#[inline]
fn fold(f: usize, m: usize) -> usize {
    if f <= m {
        f
    } else {
        2 * m - f
    }
}

/// tile[u·l + j] = src[j·stride + u] for j < rows, u < t: rows of the grid
/// into lines of the tile, four rows at a time so each line gets 32
/// contiguous bytes per step rather than 8.
#[inline]
fn gather_lines(src: &[C32], stride: usize, rows: usize, t: usize, tile: &mut [C32], l: usize) {
    let mut j = 0;
    while j + 4 <= rows {
        let r0 = &src[j * stride..j * stride + t];
        let r1 = &src[(j + 1) * stride..(j + 1) * stride + t];
        let r2 = &src[(j + 2) * stride..(j + 2) * stride + t];
        let r3 = &src[(j + 3) * stride..(j + 3) * stride + t];
        for (u, line) in tile.chunks_exact_mut(l).take(t).enumerate() {
            let d = &mut line[j..j + 4];
            d[0] = r0[u];
            d[1] = r1[u];
            d[2] = r2[u];
            d[3] = r3[u];
        }
        j += 4;
    }
    for j in j..rows {
        let r = &src[j * stride..j * stride + t];
        for (line, v) in tile.chunks_exact_mut(l).zip(r) {
            line[j] = *v;
        }
    }
}

/// dst[j·stride + u] = tile[u·l + j] for j < rows, u < t: the inverse of
/// [`gather_lines`].
#[inline]
fn scatter_lines(tile: &[C32], l: usize, rows: usize, t: usize, dst: &mut [C32], stride: usize) {
    let mut j = 0;
    while j + 4 <= rows {
        let (a, rest) = dst[j * stride..].split_at_mut(stride);
        let (b, rest) = rest.split_at_mut(stride);
        let (c, rest) = rest.split_at_mut(stride);
        let d = &mut rest[..t];
        for (u, line) in tile.chunks_exact(l).take(t).enumerate() {
            let s = &line[j..j + 4];
            a[u] = s[0];
            b[u] = s[1];
            c[u] = s[2];
            d[u] = s[3];
        }
        j += 4;
    }
    for j in j..rows {
        let r = &mut dst[j * stride..j * stride + t];
        for (line, v) in tile.chunks_exact(l).zip(r) {
            *v = line[j];
        }
    }
}

/// Transforms every column of `pl` (rows of `l = 2m` nodes) along the
/// strided axis, a tile at a time: the first `rows_in` rows are read (the
/// rest of each line is zero padding, never read), and the first
/// `rows_out` rows of the result written back. Forward: m in, l out;
/// inverse: l in, m out (the rest is the padding's image, not needed).
fn columns(
    pl: &mut [C32],
    m: usize,
    rows_in: usize,
    rows_out: usize,
    fft: &dyn LineFft,
    tile: &mut [C32],
    scratch: &mut [C32],
) {
    let l = 2 * m;
    let mut c0 = 0;
    while c0 < l {
        let t = TILE.min(l - c0);
        let tile = &mut tile[..t * l];
        gather_lines(&pl[c0..], l, rows_in, t, tile, l);
        for line in tile.chunks_mut(l) {
            line[rows_in..].fill(C32::new(0.0, 0.0));
        }
        fft.process(tile, scratch);
        scatter_lines(tile, l, rows_out, t, &mut pl[c0..], l);
        c0 += t;
    }
}

impl<const D: usize> Convolver<D> {
    /// Convolves channels c0 and c0 + 1 (if any) in three passes.
    ///
    /// Pass 1, by planes of the last axis: pack the channel pair as complex
    /// values, then transform each plane along its D − 1 axes (rows of 2m,
    /// the upper half zero; in 3D then the columns, only their first m
    /// entries data). Pass 2, by tiles of plane frequencies: gather each
    /// line along the last axis, pad it to 2m, transform, multiply by the
    /// kernel, transform back and keep its first m values. Pass 3, by
    /// planes: back along the plane axes, keeping the first m of each line,
    /// and add the channel pair to φ. Each plane and each line is computed
    /// alone, so the bits do not depend on how the work is split.
    fn convolve_pair(&mut self, m: usize, nch: usize, c0: usize, q: &[f64], phi: &mut [f64]) {
        let l = 2 * m;
        let e = m + 1;
        // Plane: frequencies of one plane; nodes: its data nodes.
        let spec = l.pow(D as u32 - 1);
        let nodes = m.pow(D as u32 - 1);
        // A plane's data: `rows` rows of `len` nodes, `stride` apart.
        let (rows, len, stride) = match D {
            1 => (1, 1, 1),
            2 => (1, m, l),
            _ => (m, m, l),
        };
        let c1 = (c0 + 1 < nch).then_some(c0 + 1);
        let plans = &self.plans[&l];
        let (fwd, inv) = (&*plans.fwd, &*plans.inv);
        let kernel = &self.kernel_lines;
        let lanes = &mut self.lanes;
        let nl = lanes.len();
        let per = m.div_ceil(nl);
        let spectra = &mut self.spectra[..spec * m];
        let results = &mut self.results[..spec * m];

        // Pass 1.
        spectra
            .par_chunks_mut(spec * per)
            .zip(lanes.par_iter_mut())
            .enumerate()
            .for_each(|(grp, (chunk, lane))| {
                for (k, pl) in chunk.chunks_mut(spec).enumerate() {
                    let first = (grp * per + k) * nodes;
                    for r in 0..rows {
                        let row = &mut pl[r * stride..r * stride + stride];
                        let src = &q[(first + r * len) * nch..(first + (r + 1) * len) * nch];
                        for (o, x) in row.iter_mut().zip(src.chunks_exact(nch)) {
                            let im = c1.map_or(0.0, |c| x[c] as f32);
                            *o = C32::new(x[c0] as f32, im);
                        }
                        row[len..].fill(C32::new(0.0, 0.0));
                    }
                    if D >= 2 {
                        fwd.process(&mut pl[..rows * l], &mut lane.scratch);
                    }
                    if D == 3 {
                        columns(pl, m, m, l, fwd, &mut lane.tile, &mut lane.scratch);
                    }
                }
            });

        // Pass 2.
        let ntiles = spec.div_ceil(TILE);
        let tpg = ntiles.div_ceil(nl);
        let spectra = &*spectra;
        results
            .par_chunks_mut(tpg * TILE * m)
            .zip(lanes.par_iter_mut())
            .enumerate()
            .for_each(|(grp, (chunk, lane))| {
                for (k, blk) in chunk.chunks_mut(TILE * m).enumerate() {
                    let i0 = (grp * tpg + k) * TILE;
                    let t = blk.len() / m;
                    let tile = &mut lane.tile[..t * l];
                    gather_lines(&spectra[i0..], spec, m, t, tile, l);
                    for line in tile.chunks_mut(l) {
                        line[m..].fill(C32::new(0.0, 0.0));
                    }
                    fwd.process(tile, &mut lane.scratch);
                    for (u, line) in tile.chunks_mut(l).enumerate() {
                        let i = i0 + u;
                        let li = match D {
                            1 => 0,
                            2 => fold(i, m),
                            _ => fold(i % l, m) + fold(i / l, m) * e,
                        };
                        let kl = &kernel[li * e..(li + 1) * e];
                        let (lo, hi) = line.split_at_mut(e);
                        for (x, k) in lo.iter_mut().zip(kl) {
                            *x *= k;
                        }
                        for (x, k) in hi.iter_mut().zip(kl[1..m].iter().rev()) {
                            *x *= k;
                        }
                    }
                    inv.process(tile, &mut lane.scratch);
                    scatter_lines(tile, l, m, t, blk, t);
                }
            });

        // Pass 3.
        let results = &*results;
        phi.par_chunks_mut(nodes * nch * per)
            .zip(lanes.par_iter_mut())
            .enumerate()
            .for_each(|(grp, (chunk, lane))| {
                let Lane {
                    tile,
                    plane: pl,
                    scratch,
                } = lane;
                for (k, out) in chunk.chunks_mut(nodes * nch).enumerate() {
                    let p = grp * per + k;
                    for (tidx, blk) in results.chunks(TILE * m).enumerate() {
                        let t = blk.len() / m;
                        pl[tidx * TILE..tidx * TILE + t].copy_from_slice(&blk[p * t..(p + 1) * t]);
                    }
                    if D == 3 {
                        columns(&mut pl[..spec], m, l, m, inv, tile, scratch);
                    }
                    if D >= 2 {
                        inv.process(&mut pl[..rows * l], scratch);
                    }
                    for r in 0..rows {
                        let row = &pl[r * stride..r * stride + len];
                        let dst = &mut out[r * len * nch..(r + 1) * len * nch];
                        for (o, x) in dst.chunks_exact_mut(nch).zip(row) {
                            o[c0] += x.re as f64;
                            if let Some(c) = c1 {
                                o[c] += x.im as f64;
                            }
                        }
                    }
                }
            });
    }
}

fn grow(v: &mut Vec<C32>, n: usize) {
    if v.len() < n {
        v.resize(n, C32::new(0.0, 0.0));
    }
}
