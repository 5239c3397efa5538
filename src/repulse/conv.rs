//! Aperiodic grid-to-grid convolution by operator splitting (SPEC §6).
//!
//! A linear convolution of length m is a circular one of length 2m on
//! zero-padded data; splitting the 2m frequencies into even and odd turns it
//! into two circular convolutions of length m. In D dimensions that gives 2^D
//! periodic convolutions of size m^D, one per even/odd pattern of the axes:
//! buffers of m^D, never (2m)^D.
//!
//! Each convolution maps real data to real results, so two channels travel
//! together as the real and imaginary parts of one complex transform, and
//! the 2^D pattern convolutions share their common transforms
//! (`convolve_pair`).
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

/// K(r) = (1 + h²‖r‖²)⁻², the squared t-kernel in grid units.
pub fn tsne_kernel(h2: f64, r2: f64) -> f64 {
    let w = 1.0 / (1.0 + h2 * r2);
    w * w
}

struct Plans {
    fwd: Arc<dyn LineFft>,
    inv: Arc<dyn LineFft>,
    scratch_len: usize,
}

/// Lines gathered per tile when transforming a strided axis: 32 lines of up
/// to a few hundred points stay in L1/L2 while they are transformed, and
/// each gathered row is 256 contiguous bytes. Measured on the 3D grid at
/// m = 80, one thread: 16 lines 150 ms, 32 lines 108 ms, 64 lines 106–116 ms.
const TILE: usize = 32;

/// Convolution engine for grids of m^D nodes: FFT plans cached per size,
/// kernel transforms cached while (m, h) stay the same, buffers reused.
pub struct Convolver<const D: usize> {
    planner: Planner,
    plans: HashMap<usize, Plans>,
    /// (m, h bits) of the cached kernel transforms.
    kernel_key: Option<(usize, u64)>,
    /// One transform per pattern, each m^D, pre-scaled by 1 / (2^D m^D).
    /// Real: they are samples of the transform of a real even kernel.
    kernel_hat: Vec<f32>,
    /// The kernel on [0, m]^D and, in place, its separable cosine
    /// transform (f64), from which every pattern's transform is read.
    kernel_cos: Vec<f64>,
    /// The same array with its axes rotated by one, between axis passes.
    kernel_rot: Vec<f64>,
    /// f64 plans of length 2m for the kernel's cosine transforms.
    planner64: rustfft::FftPlanner<f64>,
    plans64: HashMap<usize, Arc<dyn rustfft::Fft<f64>>>,
    /// Per worker: a line of 2m and FFT scratch for the kernel transforms.
    kernel_bufs: Vec<(Vec<C64>, Vec<C64>)>,
    /// ω^j = e^{−iπj/m} for j < m, rounded to f32, for the data.
    twiddle32: Vec<C32>,
    /// 2^(D−1) grids of the shared-transform variants.
    grids: Vec<C32>,
    /// Per-worker buffers of the shared-transform passes.
    lanes: Vec<Lane>,
}

impl<const D: usize> Default for Convolver<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const D: usize> Convolver<D> {
    /// A convolver on the default FFT backend ([`super::FftBackend::from_env`]).
    pub fn new() -> Self {
        Self::with_backend(super::FftBackend::from_env())
    }

    pub fn with_backend(backend: super::FftBackend) -> Self {
        Convolver {
            planner: Planner::with_backend(backend),
            plans: HashMap::new(),
            kernel_key: None,
            kernel_hat: Vec::new(),
            kernel_cos: Vec::new(),
            kernel_rot: Vec::new(),
            planner64: rustfft::FftPlanner::new(),
            plans64: HashMap::new(),
            kernel_bufs: Vec::new(),
            twiddle32: Vec::new(),
            grids: Vec::new(),
            lanes: Vec::new(),
        }
    }

    fn prepare(&mut self, m: usize, h: f64) {
        let total = m.pow(D as u32);
        if !self.plans.contains_key(&m) {
            let (fwd, inv) = self.planner.plan(m);
            let scratch_len = fwd.scratch_len().max(inv.scratch_len());
            self.plans.insert(
                m,
                Plans {
                    fwd,
                    inv,
                    scratch_len,
                },
            );
        }
        let sl = self.plans[&m].scratch_len;
        // One lane per worker of the plane passes and per variant of the
        // last-axis pass; the count changes speed only, never the bits.
        let nv = 1 << (D - 1);
        let nl = rayon::current_num_threads().clamp(1, m).max(nv);
        self.lanes.resize_with(nl, Lane::default);
        for l in &mut self.lanes {
            grow(&mut l.tile, TILE * m);
            grow(&mut l.tile2, TILE * m);
            grow(&mut l.scratch, sl.max(1));
        }
        grow(&mut self.grids, nv * total);
        let fft2m = self
            .plans64
            .entry(m)
            .or_insert_with(|| self.planner64.plan_fft_forward(2 * m))
            .clone();
        let nk = rayon::current_num_threads().max(1);
        self.kernel_bufs.resize_with(nk, Default::default);
        for (line, scratch) in &mut self.kernel_bufs {
            if line.len() < 2 * m {
                line.resize(2 * m, C64::new(0.0, 0.0));
            }
            let sl = fft2m.get_inplace_scratch_len().max(1);
            if scratch.len() < sl {
                scratch.resize(sl, C64::new(0.0, 0.0));
            }
        }
        if self.twiddle32.len() != m {
            self.twiddle32.clear();
            self.twiddle32.extend((0..m).map(|j| {
                let t = C64::from_polar(1.0, -std::f64::consts::PI * j as f64 / m as f64);
                C32::new(t.re as f32, t.im as f32)
            }));
        }
        let key = (m, h.to_bits());
        if self.kernel_key != Some(key) {
            self.build_kernel(m, h);
            self.kernel_key = Some(key);
        }
    }

    /// The 2^D pattern kernels' transforms. The aperiodic convolution is a
    /// circular one of length 2m on the kernel k(r) = K(r) for |r_k| < m
    /// (0 at r_k = ±m), and pattern s's transform is the 2m-point transform
    /// of k at the frequencies 2q + s. k is real and even on every axis, so
    /// that transform is real and even: a cosine transform of k on [0, m]^D,
    /// separable, one axis at a time. This evaluates (m+1)^D kernel values
    /// and transforms (m+1)^(D−1) lines per axis, where 2^D complex FFTs of
    /// m^D would transform 2^D · D · m^(D−1) lines. Done in f64, rounded once.
    fn build_kernel(&mut self, m: usize, h: f64) {
        let total = m.pow(D as u32);
        let npat = 1usize << D;
        let e = m + 1;
        let ne = e.pow(D as u32);
        let h2 = h * h;
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
                        tsne_kernel(h2, r2 + (j0 * j0) as f64)
                    };
                }
            });
        // Per axis: transform the contiguous lines, then rotate the axes by
        // one so the next axis is contiguous; after D rounds the order is
        // back. Lines go in pairs as the real and imaginary parts of one
        // complex FFT of the even extension: both transforms are real, so
        // they separate exactly.
        let fft = &*self.plans64[&m];
        let lines = ne / e;
        let nk = self.kernel_bufs.len();
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
                            let src = if r <= m { r } else { 2 * m - r };
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
        // Pattern s at frequency q reads the cosine transform at 2q + s,
        // folded into [0, m] by evenness.
        let scale = 1.0 / (npat as f64 * total as f64);
        let fold = |f: usize| if f <= m { f } else { 2 * m - f };
        let cos = &self.kernel_cos;
        self.kernel_hat.resize(total * npat, 0.0);
        self.kernel_hat
            .par_chunks_mut(m)
            .enumerate()
            .for_each(|(line, out)| {
                let s = line / (total / m);
                let mut rest = line % (total / m);
                let mut base = 0;
                let mut mult = e;
                for k in 1..D {
                    base += fold(2 * (rest % m) + (s >> k & 1)) * mult;
                    rest /= m;
                    mult *= e;
                }
                for (q0, o) in out.iter_mut().enumerate() {
                    *o = (cos[base + fold(2 * q0 + (s & 1))] * scale) as f32;
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

/// Buffers of one worker of the shared-transform passes.
#[derive(Default)]
struct Lane {
    tile: Vec<C32>,
    tile2: Vec<C32>,
    scratch: Vec<C32>,
}

/// ω^{j_axis} of node `node` of a plane (axis 0 fastest).
#[inline]
fn plane_index(node: usize, m: usize, axis: usize) -> usize {
    if axis == 0 {
        node % m
    } else {
        node / m % m
    }
}

/// FFT along `axis` (< D − 1) of one plane of m^(D−1) nodes.
fn plane_fft(pl: &mut [C32], m: usize, axis: usize, fft: &dyn LineFft, lane: &mut Lane) {
    if axis == 0 {
        fft.process(pl, &mut lane.scratch);
    } else {
        last_axis(pl, m, m, fft, &mut lane.tile, &mut lane.scratch);
    }
}

impl<const D: usize> Convolver<D> {
    /// The 2^D pattern convolutions of one channel pair with their common
    /// transforms shared. Patterns that agree on the twiddles of
    /// axes 0..k share their transforms along those axes, so the forward
    /// pass branches (2 variants after axis 0, 4 after axis 1, …) and the
    /// inverse pass merges in the same tree: 28 line transforms per node
    /// line in 3D instead of 48, 12 instead of 16 in 2D, and each grid is
    /// read and written three times instead of three times per pattern.
    ///
    /// Pass 1, by planes (fixed last index): pack the channel pair, then per
    /// plane axis k copy each variant with the twiddle ω^{j_k} and transform
    /// both along k. Pass 2, per variant: along the last axis, the plain and
    /// the twiddled line are transformed, multiplied by their pattern's
    /// kernel, transformed back, untwiddled and summed. Pass 3, by planes:
    /// back along the plane axes in reverse, untwiddling and summing pairs,
    /// then the channel pair is added to φ. Each plane and each variant is
    /// computed alone, so the bits do not depend on how the work is split.
    /// In 1D there are no plane axes: pass 2 does the two patterns alone.
    fn convolve_pair(&mut self, m: usize, nch: usize, c0: usize, q: &[f64], phi: &mut [f64]) {
        let total = m.pow(D as u32);
        let plane = total / m;
        let nv = 1usize << (D - 1);
        let c1 = (c0 + 1 < nch).then_some(c0 + 1);
        let plans = &self.plans[&m];
        let (fwd, inv) = (&*plans.fwd, &*plans.inv);
        let tw = &self.twiddle32;
        let kernel_hat = &self.kernel_hat;
        let lanes = &mut self.lanes;
        let grids = &mut self.grids[..nv * total];
        let nl = rayon::current_num_threads().clamp(1, m);
        let per = m.div_ceil(nl);
        // Pass 1 and pass 3 work on the same groups of planes.
        type PlaneFn<'a> = dyn Fn(usize, &mut [&mut [C32]; 4], &mut [f64], &mut Lane) + Sync + 'a;
        let by_planes = |grids: &mut [C32], phi: &mut [f64], lanes: &mut [Lane], f: &PlaneFn| {
            let chunk = plane * per;
            let (g01, g23) = grids.split_at_mut(2.min(nv) * total);
            let (g0, g1) = g01.split_at_mut(total);
            let phis = phi.par_chunks_mut(chunk * nch);
            if nv == 1 {
                g0.par_chunks_mut(chunk)
                    .zip(phis)
                    .zip(lanes.par_iter_mut())
                    .enumerate()
                    .for_each(|(grp, ((a, ph), lane))| {
                        let mut gv: [&mut [C32]; 4] = [a, &mut [], &mut [], &mut []];
                        f(grp * per, &mut gv, ph, lane);
                    });
            } else if nv == 2 {
                g0.par_chunks_mut(chunk)
                    .zip(g1.par_chunks_mut(chunk))
                    .zip(phis)
                    .zip(lanes.par_iter_mut())
                    .enumerate()
                    .for_each(|(grp, (((a, b), ph), lane))| {
                        let mut gv: [&mut [C32]; 4] = [a, b, &mut [], &mut []];
                        f(grp * per, &mut gv, ph, lane);
                    });
            } else {
                let (g2, g3) = g23.split_at_mut(total);
                g0.par_chunks_mut(chunk)
                    .zip(g1.par_chunks_mut(chunk))
                    .zip(g2.par_chunks_mut(chunk).zip(g3.par_chunks_mut(chunk)))
                    .zip(phis)
                    .zip(lanes.par_iter_mut())
                    .enumerate()
                    .for_each(|(grp, ((((a, b), (c, d)), ph), lane))| {
                        let mut gv: [&mut [C32]; 4] = [a, b, c, d];
                        f(grp * per, &mut gv, ph, lane);
                    });
            }
        };
        // Pass 1.
        by_planes(grids, phi, lanes, &|p0, gv, _phi, lane| {
            let planes = gv[0].len() / plane;
            for k in 0..planes {
                let off = k * plane;
                let p = p0 + k;
                for (node, o) in gv[0][off..off + plane].iter_mut().enumerate() {
                    let at = (p * plane + node) * nch;
                    let im = c1.map_or(0.0, |c| q[at + c] as f32);
                    *o = C32::new(q[at + c0] as f32, im);
                }
                let mut nvar = 1;
                for axis in 0..D - 1 {
                    for v in 0..nvar {
                        let (lo, hi) = gv.split_at_mut(v + nvar);
                        let src = &mut lo[v][off..off + plane];
                        let dst = &mut hi[0][off..off + plane];
                        for (node, (d, s)) in dst.iter_mut().zip(src.iter()).enumerate() {
                            *d = s * tw[plane_index(node, m, axis)];
                        }
                        plane_fft(src, m, axis, fwd, lane);
                        plane_fft(dst, m, axis, fwd, lane);
                    }
                    nvar *= 2;
                }
            }
        });
        // Pass 2.
        grids
            .par_chunks_mut(total)
            .zip(lanes[..nv].par_iter_mut())
            .enumerate()
            .for_each(|(v, (g, lane))| {
                let k0 = &kernel_hat[v * total..(v + 1) * total];
                let s1 = v | nv;
                let k1 = &kernel_hat[s1 * total..(s1 + 1) * total];
                let mut i0 = 0;
                while i0 < plane {
                    let t = TILE.min(plane - i0);
                    let (a, b) = (&mut lane.tile[..t * m], &mut lane.tile2[..t * m]);
                    for j in 0..m {
                        let row = &g[j * plane + i0..j * plane + i0 + t];
                        for (u, x) in row.iter().enumerate() {
                            a[u * m + j] = *x;
                            b[u * m + j] = x * tw[j];
                        }
                    }
                    fwd.process(a, &mut lane.scratch);
                    fwd.process(b, &mut lane.scratch);
                    for j in 0..m {
                        let r0 = &k0[j * plane + i0..j * plane + i0 + t];
                        let r1 = &k1[j * plane + i0..j * plane + i0 + t];
                        for (u, (x0, x1)) in r0.iter().zip(r1).enumerate() {
                            a[u * m + j] *= x0;
                            b[u * m + j] *= x1;
                        }
                    }
                    inv.process(a, &mut lane.scratch);
                    inv.process(b, &mut lane.scratch);
                    for j in 0..m {
                        let tc = tw[j].conj();
                        let row = &mut g[j * plane + i0..j * plane + i0 + t];
                        for (u, x) in row.iter_mut().enumerate() {
                            *x = a[u * m + j] + b[u * m + j] * tc;
                        }
                    }
                    i0 += t;
                }
            });
        // Pass 3.
        by_planes(grids, phi, lanes, &|_p0, gv, ph, lane| {
            let planes = gv[0].len() / plane;
            for k in 0..planes {
                let off = k * plane;
                let mut nvar = nv;
                for axis in (0..D - 1).rev() {
                    nvar /= 2;
                    for v in 0..nvar {
                        let (lo, hi) = gv.split_at_mut(v + nvar);
                        let dst = &mut lo[v][off..off + plane];
                        let src = &mut hi[0][off..off + plane];
                        plane_fft(dst, m, axis, inv, lane);
                        plane_fft(src, m, axis, inv, lane);
                        for (node, (d, s)) in dst.iter_mut().zip(src.iter()).enumerate() {
                            *d += s * tw[plane_index(node, m, axis)].conj();
                        }
                    }
                }
                let out = &mut ph[off * nch..(off + plane) * nch];
                for (node, x) in gv[0][off..off + plane].iter().enumerate() {
                    out[node * nch + c0] += x.re as f64;
                    if let Some(c) = c1 {
                        out[node * nch + c] += x.im as f64;
                    }
                }
            }
        });
    }
}

/// FFT along the slowest axis of `work` (m lines of `stride` nodes), a tile
/// of lines at a time: gather, transform, scatter.
fn last_axis(
    work: &mut [C32],
    m: usize,
    stride: usize,
    fft: &dyn LineFft,
    tile: &mut [C32],
    scratch: &mut [C32],
) {
    let mut i0 = 0;
    while i0 < stride {
        let t = TILE.min(stride - i0);
        for j in 0..m {
            let row = &work[j * stride + i0..j * stride + i0 + t];
            for (u, v) in row.iter().enumerate() {
                tile[u * m + j] = *v;
            }
        }
        fft.process(&mut tile[..t * m], scratch);
        for j in 0..m {
            let row = &mut work[j * stride + i0..j * stride + i0 + t];
            for (u, v) in row.iter_mut().enumerate() {
                *v = tile[u * m + j];
            }
        }
        i0 += t;
    }
}

fn grow(v: &mut Vec<C32>, n: usize) {
    if v.len() < n {
        v.resize(n, C32::new(0.0, 0.0));
    }
}
