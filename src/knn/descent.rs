//! Approximate k nearest neighbours by NN-descent (Dong, Charikar, Li 2011):
//! a neighbour of a neighbour is likely a neighbour.
//!
//! At a million points the rows (200 bytes each in f32) and the lists no
//! longer fit any cache, so the layout is chosen for memory, not flops:
//! - Points are renumbered in the leaf order of a random-projection tree,
//!   so neighbours, and neighbours of neighbours, sit near each other in
//!   memory; the answer is mapped back at the end.
//! - Each sweep is a *local join*: for every point u, all pairs among u's
//!   sampled neighbours (new × new and new × old) are compared, each pair
//!   once for both of its points. The ~30 rows of one join stay in L1.
//! - The join offers its pairs as updates, collected per task and bucketed
//!   by target; the buckets are then applied in parallel, each in task
//!   order. No two threads write one list, and every list sees its offers
//!   in an order fixed by the data, so the result does not depend on the
//!   thread count.
//! - The lists are flat arrays (f32 distance, u32 index, new flag) used as
//!   bounded max-heaps; nothing is allocated per point.

use rayon::prelude::*;

use super::{sqdist, Knn};
use crate::points::Points;
use crate::util::Rng;

/// Tuning of NN-descent.
#[derive(Clone, Debug)]
pub struct DescentParams {
    pub seed: u64,
    /// Most sweeps.
    pub max_sweeps: usize,
    /// Stop when a sweep changes fewer than `delta · N · k` list entries.
    pub delta: f64,
    /// Sample of new entries per list and direction (forward and reverse).
    pub sample: usize,
    /// Old entries sampled per list and direction. A new entry meets only
    /// the old ones sampled, and meets each list only once, so the old
    /// sample sets the recall NN-descent converges to: on 1.3 million
    /// points of 50 dimensions, 32 gave 0.973 and 64 gave 0.98 or more.
    pub sample_old: usize,
    /// Random-projection trees for the initial lists.
    pub trees: usize,
    /// Where each tree and sweep reports how far it has got.
    pub meter: crate::progress::Meter,
}

impl Default for DescentParams {
    fn default() -> Self {
        DescentParams {
            seed: 0x5eed,
            max_sweeps: 30,
            delta: 0.001,
            sample: 12,
            sample_old: 64,
            trees: 3,
            meter: Default::default(),
        }
    }
}

/// What NN-descent has done so far, for progress display.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum DescentProgress {
    /// `done` of `total` random-projection trees have seeded the lists.
    Tree { done: usize, total: usize },
    /// Sweep `sweep` (from 1, at most `max_sweeps`) changed the fraction
    /// `changed` of the N·k list entries; the search stops after a sweep
    /// that changes fewer than `stop_below`.
    Sweep {
        sweep: usize,
        max_sweeps: usize,
        changed: f64,
        stop_below: f64,
    },
}

/// Points per join task and per tree task (the grain of the parallel loops).
const JOIN_TASK: usize = 256;
const TREE_TASK: usize = 2048;
/// Points per batch: updates are applied after each batch, which bounds the
/// update buffers and lets later batches filter against tighter lists.
const BATCH: usize = 8192;
/// Largest sample per list and direction.
const MAX_SAMPLE: usize = 64;
/// Target buckets of the apply phase.
const BUCKETS: usize = 256;

fn row_rng(seed: u64, sweep: usize, i: usize) -> Rng {
    Rng::new(
        seed ^ (sweep as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03),
    )
}

/// Approximate k nearest neighbours (1 ≤ k < N). Small inputs, where the
/// brute force is cheap anyway, are answered exactly.
pub fn approx(points: &Points, k: usize, p: &DescentParams) -> Knn {
    approx_with_progress(points, k, p, &mut |_| {})
}

/// [`approx`], calling `on_progress` after each tree and each sweep.
pub fn approx_with_progress(
    points: &Points,
    k: usize,
    p: &DescentParams,
    on_progress: &mut dyn FnMut(DescentProgress),
) -> Knn {
    let n = points.n();
    assert!(k >= 1 && k < n, "need 1 <= k < N");
    if n <= 4096 || 4 * k >= n {
        return super::exact(points, k);
    }
    let d = points.d();
    let s = p.sample.clamp(1, MAX_SAMPLE);
    let so = p.sample_old.clamp(1, MAX_SAMPLE);
    let trees = p.trees.max(1);
    let max_leaf = 2 * (k + 1);

    // Renumber by the first tree's leaves. The search runs on a centred f32
    // copy; the final lists get their distances recomputed in f64.
    let mut perm: Vec<u32> = (0..n as u32).collect();
    let order = p.meter.phase(
        "neighbour search: ordering the points by a random-projection tree",
        0,
    );
    let mut x = points.centred_f32();
    let leaves0 = rp_tree(&x, d, &mut perm, max_leaf, p.seed, 1);
    x = {
        let mut y = vec![0.0f32; n * d];
        y.par_chunks_mut(d)
            .zip(perm.par_iter())
            .for_each(|(r, &i)| r.copy_from_slice(&x[i as usize * d..(i as usize + 1) * d]));
        y
    };
    drop(order);

    let mut lists = Lists::new(n, k);
    let mut bufs: Vec<TaskBuf> = Vec::new();
    // A power of two, so a target's bucket is a shift, not a division.
    let shift = n.div_ceil(BUCKETS).next_power_of_two().trailing_zeros();

    // Initial lists: all pairs within each leaf of each tree.
    for t in 0..trees {
        let phase = p.meter.phase(
            format!(
                "neighbour search: random-projection tree {} of {trees}",
                t + 1
            ),
            n as u64,
        );
        let (ids, leaves) = if t == 0 {
            ((0..n as u32).collect::<Vec<u32>>(), leaves0.clone())
        } else {
            let mut ids: Vec<u32> = (0..n as u32).collect();
            let leaves = rp_tree(&x, d, &mut ids, max_leaf, p.seed.wrapping_add(t as u64), 1);
            (ids, leaves)
        };
        // Tasks: runs of whole leaves (first, end) holding about TREE_TASK points.
        let mut tasks: Vec<(usize, usize)> = Vec::new();
        let mut starts = Vec::with_capacity(leaves.len() + 1);
        let mut at = 0;
        for &l in &leaves {
            starts.push(at);
            at += l;
        }
        starts.push(at);
        let mut first = 0;
        for l in 0..leaves.len() {
            if starts[l + 1] - starts[first] >= TREE_TASK || l + 1 == leaves.len() {
                tasks.push((first, l + 1));
                first = l + 1;
            }
        }
        let per_batch = (BATCH / TREE_TASK).max(1);
        for batch in tasks.chunks(per_batch) {
            let (l0, l1) = (batch[0].0, batch[batch.len() - 1].1);
            run_batch(
                &mut lists,
                &mut bufs,
                batch.len(),
                shift,
                |ti, lists, out, bnd| {
                    let (l0, l1) = batch[ti];
                    for l in l0..l1 {
                        let leaf = &ids[starts[l]..starts[l + 1]];
                        join(&x, d, lists, leaf, &[], bnd, out);
                    }
                },
            );
            phase.add((starts[l1] - starts[l0]) as u64);
        }
        drop(phase);
        on_progress(DescentProgress::Tree {
            done: t + 1,
            total: trees,
        });
    }

    // Candidate sets, `2s` (new) and `2so` (old) slots per point, reused
    // every sweep.
    let (c, co_) = (2 * s, 2 * so);
    let mut fwd_new = vec![0u32; n * s];
    let mut fwd_old = vec![0u32; n * so];
    let mut fwd_cnt = vec![(0u8, 0u8); n];
    let mut cand_new = vec![0u32; n * c];
    let mut cand_old = vec![0u32; n * co_];
    let mut cand_cnt = vec![(0u8, 0u8); n];
    let mut rev_start = vec![0u32; n + 1];
    let mut rev_new = vec![0u32; n * s];
    let mut rev_old_start = vec![0u32; n + 1];
    let mut rev_old = vec![0u32; n * so];
    let stop_below = p.delta;
    for sweep in 0..p.max_sweeps {
        // Counted by the joins, the bulk of a sweep's time.
        let phase = p
            .meter
            .phase(format!("neighbour search: sweep {}", sweep + 1), n as u64);
        // 1. Forward samples: up to s new entries (which become old) and so old.
        fwd_new
            .par_chunks_mut(s)
            .zip(fwd_old.par_chunks_mut(so))
            .zip(fwd_cnt.par_iter_mut())
            .zip(lists.idx.par_chunks(k).zip(lists.new.par_chunks_mut(k)))
            .enumerate()
            .for_each_init(
                || (vec![0u32; k], vec![0u32; k]),
                |(pos_new, pos_old), (i, (((fnew, fold), cnt), (idx, flags)))| {
                    let mut rng = row_rng(p.seed, sweep, i);
                    let (mut nn, mut no) = (0, 0);
                    for t in 0..k {
                        if idx[t] == u32::MAX {
                            continue;
                        }
                        if flags[t] {
                            pos_new[nn] = t as u32;
                            nn += 1;
                        } else {
                            pos_old[no] = t as u32;
                            no += 1;
                        }
                    }
                    let nn = sample_prefix(&mut pos_new[..nn], s, &mut rng);
                    let no = sample_prefix(&mut pos_old[..no], so, &mut rng);
                    for (q, &t) in pos_new[..nn].iter().enumerate() {
                        fnew[q] = idx[t as usize];
                        flags[t as usize] = false;
                    }
                    for (q, &t) in pos_old[..no].iter().enumerate() {
                        fold[q] = idx[t as usize];
                    }
                    *cnt = (nn as u8, no as u8);
                },
            );
        // 2. Reverse lists, in point order.
        reverse(&fwd_new, &fwd_cnt, s, |c| c.0, &mut rev_start, &mut rev_new);
        reverse(
            &fwd_old,
            &fwd_cnt,
            so,
            |c| c.1,
            &mut rev_old_start,
            &mut rev_old,
        );
        // 3. Join sets: forward ∪ sampled reverse; old ones not also new.
        cand_new
            .par_chunks_mut(c)
            .zip(cand_old.par_chunks_mut(co_))
            .zip(cand_cnt.par_iter_mut())
            .enumerate()
            .for_each(|(u, ((cn, co), cnt))| {
                let mut rng = row_rng(p.seed ^ 0xABCD, sweep, u);
                let mut take = |fwd: &[u32], rev: &[u32], s: usize, out: &mut [u32]| -> usize {
                    let mut m = fwd.len();
                    out[..m].copy_from_slice(fwd);
                    m += sample_into(rev, s, &mut rng, &mut out[m..]);
                    out[..m].sort_unstable();
                    dedup_sorted(&mut out[..m])
                };
                let (fnc, foc) = fwd_cnt[u];
                let nn = take(
                    &fwd_new[u * s..u * s + fnc as usize],
                    &rev_new[rev_start[u] as usize..rev_start[u + 1] as usize],
                    s,
                    cn,
                );
                let mut no = take(
                    &fwd_old[u * so..u * so + foc as usize],
                    &rev_old[rev_old_start[u] as usize..rev_old_start[u + 1] as usize],
                    so,
                    co,
                );
                let mut w = 0;
                for r in 0..no {
                    if cn[..nn].binary_search(&co[r]).is_err() {
                        co[w] = co[r];
                        w += 1;
                    }
                }
                no = w;
                *cnt = (nn as u8, no as u8);
            });
        // 4. Local joins, in batches of points.
        let tasks = n.div_ceil(JOIN_TASK);
        let per_batch = (BATCH / JOIN_TASK).max(1);
        let mut changed = 0usize;
        for b0 in (0..tasks).step_by(per_batch) {
            let nt = per_batch.min(tasks - b0);
            let points = ((b0 + nt) * JOIN_TASK).min(n) - b0 * JOIN_TASK;
            changed += run_batch(&mut lists, &mut bufs, nt, shift, |ti, lists, out, bnd| {
                let u0 = (b0 + ti) * JOIN_TASK;
                for u in u0..(u0 + JOIN_TASK).min(n) {
                    let (nn, no) = cand_cnt[u];
                    let nw = &cand_new[u * c..u * c + nn as usize];
                    let od = &cand_old[u * co_..u * co_ + no as usize];
                    join(&x, d, lists, nw, od, bnd, out);
                }
            });
            phase.add(points as u64);
        }
        drop(phase);
        let frac = changed as f64 / (n * k) as f64;
        on_progress(DescentProgress::Sweep {
            sweep: sweep + 1,
            max_sweeps: p.max_sweeps,
            changed: frac,
            stop_below,
        });
        if frac < stop_below {
            break;
        }
    }
    drop((fwd_new, fwd_old, cand_new, cand_old, rev_new, rev_old));

    // Back to the input's numbering, with distances in f64, nearest first.
    let mut inv = vec![0u32; n];
    for (q, &i) in perm.iter().enumerate() {
        inv[i as usize] = q as u32;
    }
    let mut idx = vec![0u32; n * k];
    let mut dist2 = vec![0.0f64; n * k];
    let phase = p.meter.phase(
        "neighbour search: final distances in double precision",
        n as u64,
    );
    idx.par_chunks_mut(k)
        .zip(dist2.par_chunks_mut(k))
        .enumerate()
        .for_each_init(
            || Vec::with_capacity(k),
            |tmp: &mut Vec<(f64, u32)>, (i, (io, dout))| {
                phase.add(1);
                let r = inv[i] as usize;
                let xi = points.row(i);
                tmp.clear();
                tmp.extend(lists.idx[r * k..(r + 1) * k].iter().map(|&jp| {
                    let j = perm[jp as usize];
                    (sqdist(xi, points.row(j as usize)), j)
                }));
                tmp.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                for (t, &(dd, j)) in tmp.iter().enumerate() {
                    io[t] = j;
                    dout[t] = dd;
                }
            },
        );
    Knn { n, k, idx, dist2 }
}

/// Offers every pair within `nw`, and every pair of one point of `nw` and
/// one of `od`, to both of its lists where it is within the list's bound
/// (as the lists stood at the batch's start). `bnd` is scratch.
fn join(
    x: &[f32],
    d: usize,
    lists: &Lists,
    nw: &[u32],
    od: &[u32],
    bnd: &mut Vec<f32>,
    out: &mut Vec<Upd>,
) {
    let row = |i: u32| &x[i as usize * d..(i as usize + 1) * d];
    bnd.clear();
    bnd.extend(nw.iter().chain(od).map(|&v| lists.bound(v)));
    for (a, &v) in nw.iter().enumerate() {
        let xv = row(v);
        let bv = bnd[a];
        for (q, &w) in nw.iter().chain(od).enumerate().skip(a + 1) {
            let dd = sqdist32(xv, row(w));
            if dd <= bv {
                out.push(Upd { t: v, o: w, d: dd });
            }
            if dd <= bnd[q] {
                out.push(Upd { t: w, o: v, d: dd });
            }
        }
    }
}

/// One offer: list `t` may take point `o` at squared distance `d`.
#[derive(Clone, Copy)]
struct Upd {
    t: u32,
    o: u32,
    d: f32,
}

/// One task's offers, and the same bucketed by target.
#[derive(Default)]
struct TaskBuf {
    raw: Vec<Upd>,
    sorted: Vec<Upd>,
    start: Vec<usize>,
    at: Vec<usize>,
    /// Scratch of the generator: the bounds of one join's points.
    bnd: Vec<f32>,
}

/// The neighbour lists: row i is a bounded max-heap of (distance, index),
/// ordered by distance then index, filled with (+∞, u32::MAX) sentinels.
struct Lists {
    k: usize,
    dist: Vec<f32>,
    idx: Vec<u32>,
    new: Vec<bool>,
}

impl Lists {
    fn new(n: usize, k: usize) -> Lists {
        Lists {
            k,
            dist: vec![f32::INFINITY; n * k],
            idx: vec![u32::MAX; n * k],
            new: vec![false; n * k],
        }
    }

    /// The largest distance list `i` holds.
    #[inline]
    fn bound(&self, i: u32) -> f32 {
        self.dist[i as usize * self.k]
    }
}

#[inline]
fn before(d: f32, j: u32, e: f32, l: u32) -> bool {
    d < e || (d == e && j < l)
}

/// Offers (d, j) to a heap row; true when it was taken (then flagged new).
#[inline]
fn offer(dist: &mut [f32], idx: &mut [u32], new: &mut [bool], d: f32, j: u32) -> bool {
    if !before(d, j, dist[0], idx[0]) || idx.contains(&j) {
        return false;
    }
    let k = dist.len();
    let mut p = 0;
    loop {
        let l = 2 * p + 1;
        if l >= k {
            break;
        }
        let r = l + 1;
        let c = if r < k && before(dist[l], idx[l], dist[r], idx[r]) {
            r
        } else {
            l
        };
        if before(d, j, dist[c], idx[c]) {
            dist[p] = dist[c];
            idx[p] = idx[c];
            new[p] = new[c];
            p = c;
        } else {
            break;
        }
    }
    dist[p] = d;
    idx[p] = j;
    new[p] = true;
    true
}

/// Fills `nt` task buffers with `gen` (task index, lists as they stood at
/// the batch's start, output) in parallel, then applies the offers bucket
/// by bucket, each bucket's in task order. Returns the offers taken.
fn run_batch<F>(lists: &mut Lists, bufs: &mut Vec<TaskBuf>, nt: usize, shift: u32, gen: F) -> usize
where
    F: Fn(usize, &Lists, &mut Vec<Upd>, &mut Vec<f32>) + Sync,
{
    if bufs.len() < nt {
        bufs.resize_with(nt, TaskBuf::default);
    }
    let width = 1usize << shift;
    let nb = lists.dist.len().div_ceil(width * lists.k);
    {
        let l: &Lists = lists;
        bufs[..nt].par_iter_mut().enumerate().for_each(|(ti, b)| {
            b.raw.clear();
            gen(ti, l, &mut b.raw, &mut b.bnd);
            b.start.clear();
            b.start.resize(nb + 1, 0);
            for u in &b.raw {
                b.start[(u.t >> shift) as usize + 1] += 1;
            }
            for q in 0..nb {
                b.start[q + 1] += b.start[q];
            }
            b.sorted.clear();
            b.sorted.resize(b.raw.len(), Upd { t: 0, o: 0, d: 0.0 });
            b.at.clear();
            b.at.extend_from_slice(&b.start);
            for u in &b.raw {
                let q = (u.t >> shift) as usize;
                b.sorted[b.at[q]] = *u;
                b.at[q] += 1;
            }
        });
    }
    let k = lists.k;
    let bufs = &bufs[..nt];
    lists
        .dist
        .par_chunks_mut(width * k)
        .zip(lists.idx.par_chunks_mut(width * k))
        .zip(lists.new.par_chunks_mut(width * k))
        .enumerate()
        .map(|(q, ((dist, idx), new))| {
            let base = q * width;
            let mut taken = 0;
            for b in bufs {
                for u in &b.sorted[b.start[q]..b.start[q + 1]] {
                    let r = (u.t as usize - base) * k;
                    if offer(
                        &mut dist[r..r + k],
                        &mut idx[r..r + k],
                        &mut new[r..r + k],
                        u.d,
                        u.o,
                    ) {
                        taken += 1;
                    }
                }
            }
            taken
        })
        .sum()
}

/// Reverse lists of the forward samples, in point order: CSR in
/// (`start`, `out`).
fn reverse(
    fwd: &[u32],
    cnt: &[(u8, u8)],
    s: usize,
    pick: impl Fn(&(u8, u8)) -> u8,
    start: &mut [u32],
    out: &mut [u32],
) {
    start.fill(0);
    for (i, c) in cnt.iter().enumerate() {
        for &j in &fwd[i * s..i * s + pick(c) as usize] {
            start[j as usize + 1] += 1;
        }
    }
    for q in 1..start.len() {
        start[q] += start[q - 1];
    }
    let mut at: Vec<u32> = start[..start.len() - 1].to_vec();
    for (i, c) in cnt.iter().enumerate() {
        for &j in &fwd[i * s..i * s + pick(c) as usize] {
            out[at[j as usize] as usize] = i as u32;
            at[j as usize] += 1;
        }
    }
}

/// Moves a uniform random subset of at most `s` items to the front, in a
/// seeded order; returns its length.
fn sample_prefix<T>(v: &mut [T], s: usize, rng: &mut Rng) -> usize {
    if v.len() <= s {
        return v.len();
    }
    for t in 0..s {
        let r = t + rng.below(v.len() - t);
        v.swap(t, r);
    }
    s
}

/// Copies a uniform random subset of at most `s` of `v` into `out`
/// (Floyd's method: no shuffle of `v`); returns its length.
fn sample_into(v: &[u32], s: usize, rng: &mut Rng, out: &mut [u32]) -> usize {
    let len = v.len();
    if len <= s {
        out[..len].copy_from_slice(v);
        return len;
    }
    let mut pos = [0usize; MAX_SAMPLE];
    for (m, j) in (len - s..len).enumerate() {
        let t = rng.below(j + 1);
        pos[m] = if pos[..m].contains(&t) { j } else { t };
    }
    for (o, &p) in out.iter_mut().zip(&pos[..s]) {
        *o = v[p];
    }
    s
}

/// Removes repeats from a sorted slice in place; returns the new length.
fn dedup_sorted(v: &mut [u32]) -> usize {
    if v.is_empty() {
        return 0;
    }
    let mut w = 1;
    for r in 1..v.len() {
        if v[r] != v[w - 1] {
            v[w] = v[r];
            w += 1;
        }
    }
    w
}

/// A random-projection tree over `ids` (rearranged in place into leaf
/// order): split at the median of the projection on the line through two
/// random members, until a part holds fewer than `max_leaf` points (and so
/// at least `max_leaf / 2`). Returns the leaf sizes in order.
fn rp_tree(
    x: &[f32],
    d: usize,
    ids: &mut [u32],
    max_leaf: usize,
    seed: u64,
    node: u64,
) -> Vec<usize> {
    if ids.len() < max_leaf {
        return vec![ids.len()];
    }
    let big = ids.len() > 65_536;
    let (_, _, mid) = rp_split(x, d, ids, seed, node);
    let (left, right) = ids.split_at_mut(mid);
    let (mut l, r) = if big {
        rayon::join(
            || rp_tree(x, d, left, max_leaf, seed, 2 * node),
            || rp_tree(x, d, right, max_leaf, seed, 2 * node + 1),
        )
    } else {
        (
            rp_tree(x, d, left, max_leaf, seed, 2 * node),
            rp_tree(x, d, right, max_leaf, seed, 2 * node + 1),
        )
    };
    l.extend(r);
    l
}

/// One split of a random-projection tree: `ids` rearranged so that the
/// half with the smaller projections on the line through two random
/// members comes first. Returns the line's direction, the projection where
/// the upper half starts (see [`project`]) and the lower half's size.
/// Seeded by `seed` and the node's heap number, so any thread count splits
/// the same way.
pub(super) fn rp_split(
    x: &[f32],
    d: usize,
    ids: &mut [u32],
    seed: u64,
    node: u64,
) -> (Vec<f32>, f32, usize) {
    let mut rng = Rng::new(seed ^ node.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let a = ids[rng.below(ids.len())] as usize;
    let b = ids[rng.below(ids.len())] as usize;
    let dir: Vec<f32> = if a != b {
        (0..d).map(|l| x[b * d + l] - x[a * d + l]).collect()
    } else {
        (0..d).map(|_| rng.normal() as f32).collect()
    };
    let key = |i: u32| (project(&x[i as usize * d..(i as usize + 1) * d], &dir), i);
    let mut proj: Vec<(f32, u32)> = if ids.len() > 65_536 {
        ids.par_iter().map(|&i| key(i)).collect()
    } else {
        ids.iter().map(|&i| key(i)).collect()
    };
    let mid = proj.len() / 2;
    proj.select_nth_unstable_by(mid, |p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)));
    let thr = proj[mid].0;
    for (o, &(_, i)) in ids.iter_mut().zip(&proj) {
        *o = i;
    }
    (dir, thr, mid)
}

/// A point's projection on a split's direction.
#[inline]
pub(super) fn project(row: &[f32], dir: &[f32]) -> f32 {
    row.iter().zip(dir).map(|(u, v)| u * v).sum()
}

/// Squared distance in f32: eight lanes summed apart, then combined in a
/// fixed order, so every build gives the same bits.
#[inline(always)]
pub(super) fn sqdist32(a: &[f32], b: &[f32]) -> f32 {
    let mut s = [0.0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        let x: &[f32; 8] = x.try_into().expect("chunk of 8");
        let y: &[f32; 8] = y.try_into().expect("chunk of 8");
        for l in 0..8 {
            let t = x[l] - y[l];
            s[l] += t * t;
        }
    }
    let mut r: f32 = ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        let t = x - y;
        r += t * t;
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flat heap keeps the k smallest distinct offers, whatever their order.
    #[test]
    fn offer_keeps_the_smallest_distinct() {
        let k = 7;
        let mut rng = Rng::new(4);
        let offers: Vec<(f32, u32)> = (0..200)
            .map(|_| ((rng.below(50) as f32) * 0.5, rng.below(60) as u32))
            .collect();
        let mut want: Vec<(f32, u32)> = Vec::new();
        for &(d, j) in &offers {
            if !want.iter().any(|w| w.1 == j) {
                want.push((d, j));
            }
        }
        // Only a point's first offer counts in `want`; give each point one
        // distance so that order cannot matter.
        let dist_of = |j: u32| (j % 13) as f32;
        let mut want: Vec<(f32, u32)> = want.iter().map(|&(_, j)| (dist_of(j), j)).collect();
        want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        want.truncate(k);
        for rot in [0, 17, 99] {
            let (mut d, mut i, mut f) = (vec![f32::INFINITY; k], vec![u32::MAX; k], vec![false; k]);
            for t in 0..offers.len() {
                let j = offers[(t + rot) % offers.len()].1;
                offer(&mut d, &mut i, &mut f, dist_of(j), j);
            }
            let mut got: Vec<(f32, u32)> = d.iter().copied().zip(i.iter().copied()).collect();
            got.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            assert_eq!(got, want);
            // The root is the largest.
            assert!(got.iter().all(|&(dd, jj)| !before(d[0], i[0], dd, jj)));
        }
    }

    #[test]
    fn rp_tree_leaves_partition_the_points() {
        let mut rng = Rng::new(2);
        let (n, d) = (5000, 6);
        let x: Vec<f32> = (0..n * d).map(|_| rng.normal() as f32).collect();
        let mut ids: Vec<u32> = (0..n as u32).collect();
        let leaves = rp_tree(&x, d, &mut ids, 40, 9, 1);
        assert_eq!(leaves.iter().sum::<usize>(), n);
        assert!(leaves.iter().all(|&l| (20..40).contains(&l)));
        let mut seen = ids.clone();
        seen.sort_unstable();
        assert!(seen.iter().enumerate().all(|(q, &i)| q as u32 == i));
    }
}
