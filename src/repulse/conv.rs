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
//! Multi-dimensional transforms are D rounds of "FFT every contiguous line,
//! then rotate the axes" (a 2D transpose of m^(D−1) × m), which returns to the
//! original layout after D rounds.

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use rustfft::num_complex::Complex64 as C64;
use rustfft::{Fft, FftPlanner};

/// Number of independent work pieces of every parallel pass: fixed, so the
/// work split (and scratch) does not depend on the thread count.
const PIECES: usize = 64;

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

/// Convolution engine for grids of m^D nodes: FFT plans cached per size,
/// kernel transforms cached while (m, h) stay the same, buffers reused.
pub struct Convolver<const D: usize> {
    planner: FftPlanner<f64>,
    plans: HashMap<usize, Plans>,
    /// (m, h bits) of the cached kernel transforms.
    kernel_key: Option<(usize, u64)>,
    /// One transform per pattern, each m^D, pre-scaled by 1 / (2^D m^D).
    kernel_hat: Vec<C64>,
    buf: Vec<C64>,
    tmp: Vec<C64>,
    scratch: Vec<C64>,
    /// ω^j = e^{−iπj/m} for j < m.
    twiddle: Vec<C64>,
    /// Number of times kernel transforms were computed (for tests/benchmarks).
    pub kernel_builds: usize,
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
            buf: Vec::new(),
            tmp: Vec::new(),
            scratch: Vec::new(),
            twiddle: Vec::new(),
            kernel_builds: 0,
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
        grow(&mut self.buf, total);
        grow(&mut self.tmp, total);
        grow(&mut self.scratch, sl.max(1) * PIECES);
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
            self.kernel_builds += 1;
        }
    }

    fn build_kernel(&mut self, m: usize, h: f64) {
        let total = m.pow(D as u32);
        let npat = 1usize << D;
        self.kernel_hat.clear();
        self.kernel_hat.resize(total * npat, C64::new(0.0, 0.0));
        let h2 = h * h;
        let scale = 1.0 / (npat as f64 * total as f64);
        let tw = self.twiddle.clone();
        for s in 0..npat {
            // K_s[j] = Π_{odd k} ω^{j_k} Σ_{t ∈ {0,1}^D} Π_{odd k} (−1)^{t_k} K(r(j, t)),
            // r_k = j_k (t_k = 0) or j_k − m (t_k = 1; no term when j_k = 0).
            let dst = &mut self.buf[..total];
            dst.par_chunks_mut(m).enumerate().for_each(|(line, out)| {
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
                        for k in 0..D {
                            let jk = idx[k] as f64;
                            if t >> k & 1 == 1 {
                                if idx[k] == 0 {
                                    continue 'terms;
                                }
                                let r = jk - m as f64;
                                r2 += r * r;
                                if s >> k & 1 == 1 {
                                    sign = -sign;
                                }
                            } else {
                                r2 += jk * jk;
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
            });
            self.fft_nd(m, false);
            self.kernel_hat[s * total..(s + 1) * total].copy_from_slice(&self.buf[..total]);
        }
    }

    /// In-place D-dimensional FFT of `self.buf[..m^D]`.
    fn fft_nd(&mut self, m: usize, inverse: bool) {
        let total = m.pow(D as u32);
        let plans = &self.plans[&m];
        let fft = if inverse { &plans.inv } else { &plans.fwd };
        let sl = plans.scratch_len;
        let lines = total / m;
        let lines_per_piece = lines.div_ceil(PIECES).max(1);
        for _ in 0..D {
            let buf = &mut self.buf[..total];
            buf.par_chunks_mut(lines_per_piece * m)
                .zip(self.scratch.par_chunks_mut(sl.max(1)))
                .for_each(|(chunk, scratch)| fft.process_with_scratch(chunk, &mut scratch[..sl]));
            if D > 1 {
                transpose(&self.buf[..total], &mut self.tmp[..total], lines, m);
                std::mem::swap(&mut self.buf, &mut self.tmp);
            }
        }
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
        for s in 0..npat {
            for c0 in (0..nch).step_by(2) {
                let c1 = if c0 + 1 < nch { Some(c0 + 1) } else { None };
                // Load two channels as re/im, times ω^{j_k} on odd axes.
                {
                    let tw = &self.twiddle;
                    self.buf[..total]
                        .par_chunks_mut(m)
                        .enumerate()
                        .for_each(|(line, out)| {
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
                        });
                }
                self.fft_nd(m, false);
                {
                    let kh = &self.kernel_hat[s * total..(s + 1) * total];
                    self.buf[..total]
                        .par_chunks_mut(m * 16)
                        .zip(kh.par_chunks(m * 16))
                        .for_each(|(b, k)| b.iter_mut().zip(k).for_each(|(x, y)| *x *= y));
                }
                self.fft_nd(m, true);
                // Undo the twiddle and accumulate both channels.
                {
                    let tw = &self.twiddle;
                    let buf = &self.buf[..total];
                    phi.par_chunks_mut(m * nch)
                        .enumerate()
                        .for_each(|(line, out)| {
                            let lt = line_twiddle::<D>(line, m, s, tw).conj();
                            for j0 in 0..m {
                                let mut v = buf[line * m + j0];
                                if s & 1 == 1 {
                                    v *= tw[j0].conj() * lt;
                                } else if s > 1 {
                                    v *= lt;
                                }
                                out[j0 * nch + c0] += v.re;
                                if let Some(c) = c1 {
                                    out[j0 * nch + c] += v.im;
                                }
                            }
                        });
                }
            }
        }
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

/// Out-of-place transpose of a rows × cols matrix into cols × rows, blocked.
fn transpose(src: &[C64], dst: &mut [C64], rows: usize, cols: usize) {
    const B: usize = 32;
    // Parallel over blocks of destination rows (= source columns).
    dst.par_chunks_mut(B * rows)
        .enumerate()
        .for_each(|(bc, out)| {
            let c0 = bc * B;
            let c1 = (c0 + B).min(cols);
            for r0 in (0..rows).step_by(B) {
                let r1 = (r0 + B).min(rows);
                for c in c0..c1 {
                    let o = &mut out[(c - c0) * rows..];
                    for r in r0..r1 {
                        o[r] = src[r * cols + c];
                    }
                }
            }
        });
}
