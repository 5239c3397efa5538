//! Compressed sparse blocks (SPEC §7): the symmetric P cut into β × β blocks,
//! nonzeros with 16-bit in-block offsets. SPEC §7 suggests Morton order
//! inside a block; measured here it was 0.6–0.9× the speed of plain CSR
//! (scattered accumulation), so blocks are row-major and each row's run
//! accumulates in registers. Even so CSB is not yet faster than CSR in METIS
//! order (docs/performance.md), which is why CSR is the default.
//! Built once (symbolic); the values are used every iteration. Block rows
//! are evaluated in parallel, each owning its output slice: no atomics, and
//! the same bits for any thread count.

use rayon::prelude::*;

use crate::attract::Attraction;
use crate::graph::StochasticGraph;
use crate::util::dist2;

/// Bytes of Y a block row may touch, so one block's slice of Y stays in L2.
const L2_BYTES: usize = 256 * 1024;

/// The block size for N vertices and D dimensions: a power of two near 4√N,
/// at least 16, capped so β·D·8 bytes fit in L2 and offsets fit in u16.
pub fn block_size(n: usize, d: usize) -> usize {
    let target = (4.0 * (n as f64).sqrt()).max(16.0);
    let mut beta = target.log2().round().exp2() as usize;
    let cap = (L2_BYTES / (8 * d.max(1))).min(1 << 16);
    while beta > cap {
        beta /= 2;
    }
    beta.max(16)
}

#[derive(Clone, Debug)]
pub struct Csb {
    n: usize,
    beta: usize,
    /// For block row I, its blocks are `brow_ptr[I]..brow_ptr[I + 1]`.
    brow_ptr: Vec<usize>,
    /// Per block: its block column and the range of its nonzeros.
    block_col: Vec<u32>,
    block_ptr: Vec<usize>,
    row_off: Vec<u16>,
    col_off: Vec<u16>,
    vals: Vec<f64>,
}

impl Csb {
    pub fn new(g: &StochasticGraph, beta: usize) -> Csb {
        assert!(beta.is_power_of_two() && beta <= 1 << 16);
        let n = g.n();
        let nb = n.div_ceil(beta).max(1);
        // Each block row independently: (block col, r, c, v), sorted.
        type Entry = (u32, u16, u16, f64);
        let per_row: Vec<Vec<Entry>> = (0..nb)
            .into_par_iter()
            .map(|bi| {
                let lo = bi * beta;
                let hi = ((bi + 1) * beta).min(n);
                let mut e = Vec::with_capacity(g.rowptr()[hi] - g.rowptr()[lo]);
                for i in lo..hi {
                    let (cols, vals) = g.row(i);
                    let r = (i - lo) as u16;
                    for (&j, &v) in cols.iter().zip(vals) {
                        let bj = j as usize / beta;
                        let c = (j as usize - bj * beta) as u16;
                        e.push((bj as u32, r, c, v));
                    }
                }
                e.sort_unstable_by_key(|t| (t.0, t.1, t.2));
                e
            })
            .collect();
        let nnz = g.nnz();
        let mut csb = Csb {
            n,
            beta,
            brow_ptr: Vec::with_capacity(nb + 1),
            block_col: Vec::new(),
            block_ptr: vec![0],
            row_off: Vec::with_capacity(nnz),
            col_off: Vec::with_capacity(nnz),
            vals: Vec::with_capacity(nnz),
        };
        csb.brow_ptr.push(0);
        for e in per_row {
            let mut k = 0;
            while k < e.len() {
                let bj = e[k].0;
                while k < e.len() && e[k].0 == bj {
                    csb.row_off.push(e[k].1);
                    csb.col_off.push(e[k].2);
                    csb.vals.push(e[k].3);
                    k += 1;
                }
                csb.block_col.push(bj);
                csb.block_ptr.push(csb.vals.len());
            }
            csb.brow_ptr.push(csb.block_col.len());
        }
        csb
    }

    pub fn beta(&self) -> usize {
        self.beta
    }
    pub fn nnz(&self) -> usize {
        self.vals.len()
    }
    pub fn blocks(&self) -> usize {
        self.block_col.len()
    }
}

/// The attraction evaluated over a [`Csb`].
pub struct CsbAttraction {
    csb: Csb,
}

impl CsbAttraction {
    /// Builds the blocks for D-dimensional use; the block size depends on D
    /// only through the L2 cap, so 3 is assumed.
    pub fn new(g: &StochasticGraph) -> Self {
        CsbAttraction {
            csb: Csb::new(g, block_size(g.n(), 3)),
        }
    }
    pub fn with_beta(g: &StochasticGraph, beta: usize) -> Self {
        CsbAttraction {
            csb: Csb::new(g, beta),
        }
    }
    pub fn csb(&self) -> &Csb {
        &self.csb
    }
}

impl<const D: usize> Attraction<D> for CsbAttraction {
    fn forces(&self, y: &[[f64; D]], out: &mut [[f64; D]]) {
        let s = &self.csb;
        let beta = s.beta;
        out.par_chunks_mut(beta).enumerate().for_each(|(bi, o)| {
            o.iter_mut().for_each(|r| *r = [0.0; D]);
            let yi_blk = &y[bi * beta..(bi * beta + o.len())];
            for b in s.brow_ptr[bi]..s.brow_ptr[bi + 1] {
                let j0 = s.block_col[b] as usize * beta;
                let yj_blk = &y[j0..(j0 + beta).min(s.n)];
                // Runs of one row inside the block accumulate in registers.
                let (mut k, end) = (s.block_ptr[b], s.block_ptr[b + 1]);
                while k < end {
                    let r = s.row_off[k] as usize;
                    let yi = yi_blk[r];
                    let mut f = [0.0; D];
                    while k < end && s.row_off[k] as usize == r {
                        let yj = &yj_blk[s.col_off[k] as usize];
                        let w = s.vals[k] / (1.0 + dist2(&yi, yj));
                        for d in 0..D {
                            f[d] += w * (yi[d] - yj[d]);
                        }
                        k += 1;
                    }
                    for d in 0..D {
                        o[r][d] += f[d];
                    }
                }
            }
        });
    }

    fn kl_part(&self, y: &[[f64; D]]) -> f64 {
        let s = &self.csb;
        let beta = s.beta;
        let nb = s.brow_ptr.len() - 1;
        let partial: Vec<f64> = (0..nb)
            .into_par_iter()
            .map(|bi| {
                let mut acc = 0.0;
                for b in s.brow_ptr[bi]..s.brow_ptr[bi + 1] {
                    let j0 = s.block_col[b] as usize * beta;
                    for k in s.block_ptr[b]..s.block_ptr[b + 1] {
                        let p = s.vals[k];
                        let i = bi * beta + s.row_off[k] as usize;
                        let j = j0 + s.col_off[k] as usize;
                        acc += p * (p.ln() + (1.0 + dist2(&y[i], &y[j])).ln());
                    }
                }
                acc
            })
            .collect();
        partial.iter().sum()
    }
}
