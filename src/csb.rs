//! Compressed sparse blocks (SPEC §7) over one triangle of the symmetric P.
//!
//! P is symmetric and so is w_ij, so each pair's coefficient
//! c_ij = P_ij w_ij is computed once and applied to both endpoints: half
//! the divisions, half the index and value bytes of a full CSR product
//! (measured: the plain CSR loop is bound by its divisions and its stream,
//! not by the gathers of Y once METIS has ordered the vertices).
//!
//! Blocks are β × β. Block row I holds the upper triangle's blocks (I, J),
//! J ≥ I, the diagonal block first. Inside a block the entries are row-major,
//! in runs of one row (row offset and run length in u16), each entry a u16
//! column offset and its value. SPEC §7 suggests Morton order inside a
//! block; measured here it was 0.6–0.9× the speed of plain CSR (scattered
//! accumulation), so runs are row-major and each accumulates in registers.
//!
//! The forces take two passes, each parallel over blocks of the output and
//! each owning its output slice, so there are no atomics and the bits do not
//! depend on the thread count:
//! 1. block row I: row-side sums of all its blocks into out_I, column-side
//!    updates of the diagonal block also into out_I (same slice), and the
//!    coefficients c of its off-diagonal blocks kept in a buffer;
//! 2. block column J: the column-side updates −c (y_i − y_j) of the
//!    off-diagonal blocks (I, J), I < J, in increasing I.
//!
//! Built once (symbolic); the values are used every iteration.

use rayon::prelude::*;

use crate::attract::Attraction;
use crate::graph::StochasticGraph;
use crate::kernel::Kernel;
use crate::order::Permutation;
use crate::util::dist2;

/// Bytes of Y a block row may touch, so one block's slice of Y stays in L2.
const L2_BYTES: usize = 256 * 1024;

/// Largest β: a run of one row inside a block must fit a u16 length.
pub const MAX_BETA: usize = 1 << 15;

/// The block size for N vertices and D dimensions: a power of two near
/// 32√N, at least 16, capped so β·D·8 bytes of Y fit in L2. SPEC §7 says
/// 4√N; measured on the pbmc graph and a 100k kNN graph in METIS order,
/// every doubling of β up to the L2 cap was faster (β = 8192 against 1024:
/// 1.3× on the 100k graph), because more pairs fall in the diagonal blocks,
/// which take one pass instead of two (docs/performance.md). It depends on
/// N and D only, never on the thread count, so the bits do not either.
pub fn block_size(n: usize, d: usize) -> usize {
    let target = (32.0 * (n as f64).sqrt()).max(16.0);
    let mut beta = target.log2().round().exp2() as usize;
    let cap = (L2_BYTES / (8 * d.max(1))).min(MAX_BETA);
    while beta > cap {
        beta /= 2;
    }
    beta.max(16)
}

#[derive(Clone, Debug)]
pub struct Csb {
    n: usize,
    beta: usize,
    /// For block row I, its blocks are `brow_ptr[I]..brow_ptr[I + 1]`, the
    /// first of them its diagonal block.
    brow_ptr: Vec<usize>,
    /// Per block: its block column, and the ranges of its runs and entries.
    block_col: Vec<u32>,
    block_run: Vec<usize>,
    block_ptr: Vec<usize>,
    /// Per block: where its coefficients start in its block row's buffer
    /// (off-diagonal blocks only).
    coef_off: Vec<usize>,
    /// Per run: its row inside the block and its number of entries.
    run_row: Vec<u16>,
    run_len: Vec<u16>,
    /// Per entry: the column inside the block and P_ij.
    col_off: Vec<u16>,
    vals: Vec<f64>,
    /// The off-diagonal blocks (I, J), I < J, of each block column J, by I.
    bcol_ptr: Vec<usize>,
    bcol_block: Vec<u32>,
    /// Per block row: how many coefficients its off-diagonal blocks keep
    /// from the first pass to the second.
    coef_len: Vec<usize>,
}

impl Csb {
    /// Lays out the strict upper triangle of `g` (which is symmetric with a
    /// zero diagonal by construction) in β × β blocks.
    pub fn new(g: &StochasticGraph, beta: usize) -> Csb {
        Self::build(g, None, beta)
    }

    /// As [`Csb::new`] for `g` with vertex `v` renamed `perm.new_of(v)`,
    /// without the permuted copy of `g` (12 bytes an entry, the largest
    /// array of the setup on big graphs).
    pub fn new_permuted(g: &StochasticGraph, perm: &Permutation, beta: usize) -> Csb {
        assert_eq!(g.n(), perm.len(), "permutation and graph sizes differ");
        Self::build(g, Some(perm), beta)
    }

    fn build(g: &StochasticGraph, perm: Option<&Permutation>, beta: usize) -> Csb {
        assert!(beta.is_power_of_two() && beta <= MAX_BETA);
        let n = g.n();
        let nb = n.div_ceil(beta).max(1);
        // Each block row independently: (block col, r, c, v), sorted, so the
        // diagonal block (block col = I, the least J ≥ I) comes first.
        type Entry = (u32, u16, u16, f64);
        let block_row = |bi: usize| -> Vec<Entry> {
            let lo = bi * beta;
            let hi = ((bi + 1) * beta).min(n);
            let row_len = |i: usize| {
                let o = perm.map_or(i, |p| p.old_of(i));
                g.rowptr()[o + 1] - g.rowptr()[o]
            };
            let mut e = Vec::with_capacity((lo..hi).map(row_len).sum::<usize>() / 2 + 1);
            for i in lo..hi {
                let (cols, vals) = g.row(perm.map_or(i, |p| p.old_of(i)));
                let r = (i - lo) as u16;
                for (&j, &v) in cols.iter().zip(vals) {
                    let j = perm.map_or(j as usize, |p| p.new_of(j as usize));
                    if j <= i {
                        continue;
                    }
                    let bj = j / beta;
                    e.push((bj as u32, r, (j - bj * beta) as u16, v));
                }
            }
            e.sort_unstable_by_key(|t| (t.0, t.1, t.2));
            e
        };
        // The upper triangle holds half the entries (symmetric, no diagonal).
        let upper = g.nnz() / 2;
        let mut csb = Csb {
            n,
            beta,
            brow_ptr: Vec::with_capacity(nb + 1),
            block_col: Vec::new(),
            block_run: vec![0],
            block_ptr: vec![0],
            coef_off: Vec::new(),
            run_row: Vec::new(),
            run_len: Vec::new(),
            col_off: Vec::with_capacity(upper),
            vals: Vec::with_capacity(upper),
            bcol_ptr: Vec::new(),
            bcol_block: Vec::new(),
            coef_len: Vec::with_capacity(nb),
        };
        csb.brow_ptr.push(0);
        // A few block rows at a time, so the sort buffers (16 bytes an entry)
        // never hold the whole triangle beside the blocks being filled. The
        // batch only bounds memory: each block row's entries are the same
        // whatever the batch.
        let batch = (2 * rayon::current_num_threads()).max(4);
        for first in (0..nb).step_by(batch) {
            let rows: Vec<Vec<Entry>> = (first..(first + batch).min(nb))
                .into_par_iter()
                .map(block_row)
                .collect();
            for (e, bi) in rows.into_iter().zip(first..) {
                csb.push_block_row(bi, &e);
            }
        }
        // Block columns: off-diagonal blocks listed by increasing block row.
        let mut count = vec![0usize; nb + 1];
        for bi in 0..nb {
            for b in csb.brow_ptr[bi] + 1..csb.brow_ptr[bi + 1] {
                count[csb.block_col[b] as usize + 1] += 1;
            }
        }
        for j in 0..nb {
            count[j + 1] += count[j];
        }
        let mut fill = count.clone();
        csb.bcol_block = vec![0; count[nb]];
        for bi in 0..nb {
            for b in csb.brow_ptr[bi] + 1..csb.brow_ptr[bi + 1] {
                let j = csb.block_col[b] as usize;
                csb.bcol_block[fill[j]] = b as u32;
                fill[j] += 1;
            }
        }
        csb.bcol_ptr = count;
        csb
    }

    /// Appends block row `bi` from its entries (block col, row, col, value)
    /// sorted.
    fn push_block_row(&mut self, bi: usize, e: &[(u32, u16, u16, f64)]) {
        // Every block row gets a diagonal block, empty if need be, so the
        // first pass can rely on it.
        if e.first().is_none_or(|t| t.0 as usize != bi) {
            self.push_block(bi as u32, 0);
        }
        let mut in_row = 0;
        let mut k = 0;
        while k < e.len() {
            let bj = e[k].0;
            while k < e.len() && e[k].0 == bj {
                let r = e[k].1;
                let start = k;
                while k < e.len() && e[k].0 == bj && e[k].1 == r {
                    self.col_off.push(e[k].2);
                    self.vals.push(e[k].3);
                    k += 1;
                }
                self.run_row.push(r);
                self.run_len.push((k - start) as u16);
            }
            let entries = self.vals.len() - self.block_ptr.last().copied().unwrap_or(0);
            let off = if bj as usize == bi { 0 } else { in_row };
            if bj as usize != bi {
                in_row += entries;
            }
            self.push_block(bj, off);
        }
        self.coef_len.push(in_row);
        self.brow_ptr.push(self.block_col.len());
    }

    fn push_block(&mut self, bj: u32, coef_off: usize) {
        self.block_col.push(bj);
        self.coef_off.push(coef_off);
        self.block_run.push(self.run_row.len());
        self.block_ptr.push(self.vals.len());
    }

    pub fn beta(&self) -> usize {
        self.beta
    }
    /// Stored entries: the strict upper triangle.
    pub fn nnz(&self) -> usize {
        self.vals.len()
    }
    pub fn blocks(&self) -> usize {
        self.block_col.len()
    }
    /// Stored entries that lie in diagonal blocks (one pass instead of two).
    pub fn diagonal_entries(&self) -> usize {
        (0..self.brow_ptr.len() - 1)
            .map(|bi| {
                let b = self.brow_ptr[bi];
                self.block_ptr[b + 1] - self.block_ptr[b]
            })
            .sum()
    }

    /// The runs and entries of block `b`: (row, run's columns, run's values).
    fn runs(&self, b: usize) -> impl Iterator<Item = (usize, std::ops::Range<usize>)> + '_ {
        let mut k = self.block_ptr[b];
        (self.block_run[b]..self.block_run[b + 1]).map(move |r| {
            let len = self.run_len[r] as usize;
            let range = k..k + len;
            k += len;
            (self.run_row[r] as usize, range)
        })
    }
}

/// The attraction evaluated over a [`Csb`].
#[derive(Clone)]
pub struct CsbAttraction {
    csb: Csb,
    /// Coefficients of each block row's off-diagonal entries, kept from the
    /// first pass to the second; sized once.
    coefs: Vec<Vec<f64>>,
    kernel: Kernel,
}

impl CsbAttraction {
    /// Builds the blocks for D-dimensional use; the block size depends on D
    /// only through the L2 cap, so 3 is assumed.
    pub fn new(g: &StochasticGraph) -> Self {
        Self::with_beta(g, block_size(g.n(), 3))
    }
    pub fn with_beta(g: &StochasticGraph, beta: usize) -> Self {
        Self::from_csb(Csb::new(g, beta))
    }
    /// The blocks of `g` in the vertex order `perm` (see
    /// [`Csb::new_permuted`]).
    pub fn with_beta_permuted(g: &StochasticGraph, perm: &Permutation, beta: usize) -> Self {
        Self::from_csb(Csb::new_permuted(g, perm, beta))
    }
    fn from_csb(csb: Csb) -> Self {
        let coefs = csb.coef_len.iter().map(|&l| vec![0.0; l]).collect();
        CsbAttraction {
            csb,
            coefs,
            kernel: Kernel::CAUCHY,
        }
    }
    /// Uses the heavy-tailed kernel `kernel` (default ν = 1).
    pub fn with_kernel(mut self, kernel: Kernel) -> Self {
        self.kernel = kernel;
        self
    }
    pub fn csb(&self) -> &Csb {
        &self.csb
    }
}

impl<const D: usize> Attraction<D> for CsbAttraction {
    fn forces(&mut self, y: &[[f64; D]], out: &mut [[f64; D]]) {
        let s = &self.csb;
        let k = self.kernel;
        let beta = s.beta;
        let coefs = &mut self.coefs;
        // Pass 1: block rows.
        out.par_chunks_mut(beta)
            .zip(coefs.par_iter_mut())
            .enumerate()
            .for_each(|(bi, (o, coef))| {
                o.iter_mut().for_each(|r| *r = [0.0; D]);
                let yi_blk = &y[bi * beta..bi * beta + o.len()];
                let diag = s.brow_ptr[bi];
                for (r, range) in s.runs(diag) {
                    let yi = yi_blk[r];
                    let mut f = [0.0; D];
                    for (&c, &p) in s.col_off[range.clone()].iter().zip(&s.vals[range]) {
                        let c = c as usize;
                        let yj = yi_blk[c];
                        let w = k.attraction(p, dist2(&yi, &yj));
                        let oc = &mut o[c];
                        for d in 0..D {
                            let t = w * (yi[d] - yj[d]);
                            f[d] += t;
                            oc[d] -= t;
                        }
                    }
                    for d in 0..D {
                        o[r][d] += f[d];
                    }
                }
                for b in diag + 1..s.brow_ptr[bi + 1] {
                    let j0 = s.block_col[b] as usize * beta;
                    let yj_blk = &y[j0..(j0 + beta).min(s.n)];
                    let base = s.block_ptr[b];
                    let cb = &mut coef[s.coef_off[b]..];
                    for (r, range) in s.runs(b) {
                        let yi = yi_blk[r];
                        let mut f = [0.0; D];
                        let cr = &mut cb[range.start - base..range.end - base];
                        for ((&c, &p), cw) in
                            s.col_off[range.clone()].iter().zip(&s.vals[range]).zip(cr)
                        {
                            let yj = &yj_blk[c as usize];
                            let w = k.attraction(p, dist2(&yi, yj));
                            *cw = w;
                            for d in 0..D {
                                f[d] += w * (yi[d] - yj[d]);
                            }
                        }
                        for d in 0..D {
                            o[r][d] += f[d];
                        }
                    }
                }
            });
        // Pass 2: block columns take the transposed halves.
        let coefs = &*coefs;
        out.par_chunks_mut(beta).enumerate().for_each(|(bj, o)| {
            let yj_blk = &y[bj * beta..bj * beta + o.len()];
            for &b in &s.bcol_block[s.bcol_ptr[bj]..s.bcol_ptr[bj + 1]] {
                let b = b as usize;
                let bi = s.brow_ptr.partition_point(|&p| p <= b) - 1;
                let yi_blk = &y[bi * beta..];
                let base = s.block_ptr[b];
                let cb = &coefs[bi][s.coef_off[b]..];
                for (r, range) in s.runs(b) {
                    let yi = yi_blk[r];
                    let cr = &cb[range.start - base..range.end - base];
                    for (&c, &w) in s.col_off[range].iter().zip(cr) {
                        let c = c as usize;
                        let yj = yj_blk[c];
                        let oc = &mut o[c];
                        for d in 0..D {
                            oc[d] -= w * (yi[d] - yj[d]);
                        }
                    }
                }
            }
        });
    }

    fn kl_part(&self, y: &[[f64; D]]) -> f64 {
        let s = &self.csb;
        let k = self.kernel;
        let beta = s.beta;
        let nb = s.brow_ptr.len() - 1;
        let partial: Vec<f64> = (0..nb)
            .into_par_iter()
            .map(|bi| {
                let mut acc = 0.0;
                for b in s.brow_ptr[bi]..s.brow_ptr[bi + 1] {
                    let j0 = s.block_col[b] as usize * beta;
                    for (r, range) in s.runs(b) {
                        let yi = &y[bi * beta + r];
                        for (&c, &p) in s.col_off[range.clone()].iter().zip(&s.vals[range]) {
                            let yj = &y[j0 + c as usize];
                            acc += p * (p.ln() + k.neg_ln_w(dist2(yi, yj)));
                        }
                    }
                }
                acc
            })
            .collect();
        // Each stored pair stands for (i, j) and (j, i).
        2.0 * partial.iter().sum::<f64>()
    }
}
