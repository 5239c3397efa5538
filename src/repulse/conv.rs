//! Aperiodic grid-to-grid convolution by operator splitting (SPEC §6).
//!
//! A linear convolution of length m is a circular one of length 2m on
//! zero-padded data; splitting the 2m frequencies into even and odd turns it
//! into two circular convolutions of length m. In D dimensions that gives 2^D
//! periodic convolutions of size m^D, one per even/odd pattern of the axes:
//! buffers of m^D, never (2m)^D.
//!
//! Each convolution maps real data to real results, so two channels travel
//! together as the real and imaginary parts of one complex transform.
//! The 2^D pattern convolutions are independent: they run in parallel, each
//! in its own buffer, and are summed in pattern order.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use rustfft::num_complex::Complex64 as C64;
use rustfft::{Fft, FftPlanner};

/// K(r) = (1 + h²‖r‖²)⁻², the squared t-kernel in grid units.
pub fn tsne_kernel(h2: f64, r2: f64) -> f64 {
    let w = 1.0 / (1.0 + h2 * r2);
    w * w
}

struct Plans {
    fwd: Arc<dyn Fft<f64>>,
    inv: Arc<dyn Fft<f64>>,
    scratch_len: usize,
}

/// Lines gathered per tile when transforming a strided axis: 16 lines of up
/// to a few hundred points stay in L1/L2 while they are transformed.
const TILE: usize = 16;

/// Buffers of one pattern convolution in flight.
struct Slot {
    work: Vec<C64>,
    tile: Vec<C64>,
    scratch: Vec<C64>,
}

/// Convolution engine for grids of m^D nodes: FFT plans cached per size,
/// kernel transforms cached while (m, h) stay the same, buffers reused.
pub struct Convolver<const D: usize> {
    planner: FftPlanner<f64>,
    plans: HashMap<usize, Plans>,
    /// (m, h bits) of the cached kernel transforms.
    kernel_key: Option<(usize, u64)>,
    /// One transform per pattern, each m^D, pre-scaled by 1 / (2^D m^D).
    kernel_hat: Vec<C64>,
    /// One slot per pattern convolution run at the same time.
    slots: Vec<Slot>,
    /// Tile and FFT scratch per pattern for building kernel transforms.
    kernel_bufs: Vec<(Vec<C64>, Vec<C64>)>,
    /// ω^j = e^{−iπj/m} for j < m.
    twiddle: Vec<C64>,
}

impl<const D: usize> Default for Convolver<D> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const D: usize> Convolver<D> {
    pub fn new() -> Self {
        Convolver {
            planner: FftPlanner::new(),
            plans: HashMap::new(),
            kernel_key: None,
            kernel_hat: Vec::new(),
            slots: Vec::new(),
            kernel_bufs: Vec::new(),
            twiddle: Vec::new(),
        }
    }

    fn prepare(&mut self, m: usize, h: f64) {
        let total = m.pow(D as u32);
        if !self.plans.contains_key(&m) {
            let fwd = self.planner.plan_fft_forward(m);
            let inv = self.planner.plan_fft_inverse(m);
            let scratch_len = fwd
                .get_inplace_scratch_len()
                .max(inv.get_inplace_scratch_len());
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
        // Patterns in flight: bounded by the thread count and the pattern
        // count. It changes only memory and speed, never the result, since
        // every pattern is computed alone and summed in pattern order.
        let nslots = rayon::current_num_threads().clamp(1, 1 << D);
        if self.slots.len() != nslots {
            self.slots = (0..nslots)
                .map(|_| Slot {
                    work: Vec::new(),
                    tile: Vec::new(),
                    scratch: Vec::new(),
                })
                .collect();
        }
        for s in &mut self.slots {
            grow(&mut s.work, total);
            grow(&mut s.tile, TILE * m);
            grow(&mut s.scratch, sl.max(1));
        }
        self.kernel_bufs.resize_with(1 << D, Default::default);
        for (tile, scratch) in &mut self.kernel_bufs {
            grow(tile, TILE * m);
            grow(scratch, sl.max(1));
        }
        if self.twiddle.len() != m {
            self.twiddle.clear();
            self.twiddle.extend(
                (0..m).map(|j| C64::from_polar(1.0, -std::f64::consts::PI * j as f64 / m as f64)),
            );
        }
        let key = (m, h.to_bits());
        if self.kernel_key != Some(key) {
            self.build_kernel(m, h);
            self.kernel_key = Some(key);
        }
    }

    fn build_kernel(&mut self, m: usize, h: f64) {
        let total = m.pow(D as u32);
        let npat = 1usize << D;
        self.kernel_hat.clear();
        self.kernel_hat.resize(total * npat, C64::new(0.0, 0.0));
        let h2 = h * h;
        let scale = 1.0 / (npat as f64 * total as f64);
        let tw = &self.twiddle;
        let plans = &self.plans[&m];
        self.kernel_hat
            .par_chunks_mut(total)
            .zip(self.kernel_bufs.par_iter_mut())
            .enumerate()
            .for_each(|(s, (dst, (tile, scratch)))| {
                // K_s[j] = Π_{odd k} ω^{j_k} Σ_{t ∈ {0,1}^D} Π_{odd k} (−1)^{t_k} K(r(j, t)),
                // r_k = j_k (t_k = 0) or j_k − m (t_k = 1; no term when j_k = 0).
                for (line, out) in dst.chunks_mut(m).enumerate() {
                    let mut idx = [0usize; D];
                    let mut rest = line;
                    for slot in idx.iter_mut().skip(1) {
                        *slot = rest % m;
                        rest /= m;
                    }
                    for (j0, o) in out.iter_mut().enumerate() {
                        idx[0] = j0;
                        let mut acc = 0.0;
                        'terms: for t in 0..npat {
                            let mut r2 = 0.0;
                            let mut sign = 1.0;
                            for (k, &j) in idx.iter().enumerate() {
                                if t >> k & 1 == 1 {
                                    if j == 0 {
                                        continue 'terms;
                                    }
                                    r2 += ((m - j) * (m - j)) as f64;
                                    if s >> k & 1 == 1 {
                                        sign = -sign;
                                    }
                                } else {
                                    r2 += (j * j) as f64;
                                }
                            }
                            acc += sign * tsne_kernel(h2, r2);
                        }
                        let mut v = C64::new(acc * scale, 0.0);
                        for k in 0..D {
                            if s >> k & 1 == 1 {
                                v *= tw[idx[k]];
                            }
                        }
                        *o = v;
                    }
                }
                fft_nd::<D>(dst, m, &*plans.fwd, tile, &mut scratch[..plans.scratch_len]);
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
        let npat = 1usize << D;
        let plans = &self.plans[&m];
        let sl = plans.scratch_len;
        let tw = &self.twiddle;
        let kernel_hat = &self.kernel_hat;
        let nslots = self.slots.len();
        for c0 in (0..nch).step_by(2) {
            let c1 = if c0 + 1 < nch { Some(c0 + 1) } else { None };
            for first in (0..npat).step_by(nslots) {
                let batch = (npat - first).min(nslots);
                self.slots[..batch]
                    .par_iter_mut()
                    .enumerate()
                    .for_each(|(b, slot)| {
                        let s = first + b;
                        let work = &mut slot.work[..total];
                        // Two channels as re/im, times ω^{j_k} on the odd axes.
                        for (line, out) in work.chunks_mut(m).enumerate() {
                            let lt = line_twiddle::<D>(line, m, s, tw);
                            for (j0, o) in out.iter_mut().enumerate() {
                                let node = line * m + j0;
                                let re = q[node * nch + c0];
                                let im = c1.map_or(0.0, |c| q[node * nch + c]);
                                let mut v = C64::new(re, im);
                                if s & 1 == 1 {
                                    v *= tw[j0] * lt;
                                } else if s > 1 {
                                    v *= lt;
                                }
                                *o = v;
                            }
                        }
                        fft_nd::<D>(
                            work,
                            m,
                            &*plans.fwd,
                            &mut slot.tile,
                            &mut slot.scratch[..sl],
                        );
                        let kh = &kernel_hat[s * total..(s + 1) * total];
                        work.iter_mut().zip(kh).for_each(|(x, k)| *x *= k);
                        fft_nd::<D>(
                            work,
                            m,
                            &*plans.inv,
                            &mut slot.tile,
                            &mut slot.scratch[..sl],
                        );
                        // Undo the twiddle: the result of each channel is real.
                        if s != 0 {
                            for (line, out) in work.chunks_mut(m).enumerate() {
                                let lt = line_twiddle::<D>(line, m, s, tw).conj();
                                for (j0, v) in out.iter_mut().enumerate() {
                                    if s & 1 == 1 {
                                        *v *= tw[j0].conj() * lt;
                                    } else {
                                        *v *= lt;
                                    }
                                }
                            }
                        }
                    });
                // Sum the patterns in pattern order: the same bits for any thread count.
                let slots = &self.slots[..batch];
                phi.par_chunks_mut(m * nch)
                    .enumerate()
                    .for_each(|(line, out)| {
                        for slot in slots {
                            let src = &slot.work[line * m..(line + 1) * m];
                            for (j0, v) in src.iter().enumerate() {
                                out[j0 * nch + c0] += v.re;
                                if let Some(c) = c1 {
                                    out[j0 * nch + c] += v.im;
                                }
                            }
                        }
                    });
            }
        }
    }
}

/// In-place D-dimensional FFT of `work` (m^D, axis 0 fastest). Strided axes
/// are transformed a tile of lines at a time: gather, FFT, scatter.
fn fft_nd<const D: usize>(
    work: &mut [C64],
    m: usize,
    fft: &dyn Fft<f64>,
    tile: &mut [C64],
    scratch: &mut [C64],
) {
    let total = work.len();
    fft.process_with_scratch(work, scratch);
    let mut stride = m;
    for _axis in 1..D {
        let outer = total / (m * stride);
        for o in 0..outer {
            let base = o * m * stride;
            let block = &mut work[base..base + m * stride];
            let mut i0 = 0;
            while i0 < stride {
                let t = TILE.min(stride - i0);
                for j in 0..m {
                    let row = &block[j * stride + i0..j * stride + i0 + t];
                    for (u, v) in row.iter().enumerate() {
                        tile[u * m + j] = *v;
                    }
                }
                fft.process_with_scratch(&mut tile[..t * m], scratch);
                for j in 0..m {
                    let row = &mut block[j * stride + i0..j * stride + i0 + t];
                    for (u, v) in row.iter_mut().enumerate() {
                        *v = tile[u * m + j];
                    }
                }
                i0 += t;
            }
        }
        stride *= m;
    }
}

/// Product of ω^{j_k} over the odd axes k ≥ 1 of pattern `s` for a line.
#[inline]
fn line_twiddle<const D: usize>(line: usize, m: usize, s: usize, tw: &[C64]) -> C64 {
    let mut v = C64::new(1.0, 0.0);
    let mut rest = line;
    for k in 1..D {
        let jk = rest % m;
        rest /= m;
        if s >> k & 1 == 1 {
            v *= tw[jk];
        }
    }
    v
}

fn grow(v: &mut Vec<C64>, n: usize) {
    if v.len() < n {
        v.resize(n, C64::new(0.0, 0.0));
    }
}
