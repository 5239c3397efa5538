//! Approximate k nearest neighbours by NN-descent (Dong, Charikar, Li 2011):
//! a neighbour of a neighbour is likely a neighbour. Written in "pull" form:
//! each point gathers candidates from its neighbours' lists and updates only
//! its own list, so threads never share a write and the result does not
//! depend on the thread count. All sampling is seeded per (sweep, point).

use rayon::prelude::*;

use super::heap::BoundedHeap;
use super::{exact, sqdist, Knn};
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
    /// Sample size per list and direction (new and old, forward and reverse).
    pub sample: usize,
}

impl Default for DescentParams {
    fn default() -> Self {
        DescentParams {
            seed: 0x5eed,
            max_sweeps: 20,
            delta: 0.005,
            sample: 8,
        }
    }
}

/// Rows per parallel task.
const ROWS: usize = 256;
/// Random-projection trees for the initial lists.
const TREES: usize = 3;

fn row_rng(seed: u64, sweep: usize, i: usize) -> Rng {
    Rng::new(
        seed ^ (sweep as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (i as u64).wrapping_mul(0xD1B5_4A32_D192_ED03),
    )
}

/// Approximate k nearest neighbours (1 ≤ k < N). Small inputs, where the
/// brute force is cheap anyway, are answered exactly.
pub fn approx(points: &Points, k: usize, p: &DescentParams) -> Knn {
    let n = points.n();
    assert!(k >= 1 && k < n, "need 1 <= k < N");
    if n <= 4096 || 4 * k >= n {
        return exact(points, k);
    }
    let s = p.sample.max(1);
    // The search is bound by memory latency (each candidate is a random
    // row), so it runs on a centred f32 copy; the final lists get their
    // distances recomputed in f64.
    let d = points.d();
    let x32 = points.centred_f32();
    let row32 = |i: usize| &x32[i * d..(i + 1) * d];

    // Initial lists from the leaves of a few random-projection trees
    // (points that share a leaf are likely close), all flagged new. One tree
    // alone would leave every list inside its leaf, a closed world where
    // neighbours of neighbours find nothing new; several trees cut across.
    let mut cur = vec![(0.0f64, 0u32); n * k];
    let mut is_new = vec![true; n * k];
    let forest: Vec<(Vec<Vec<u32>>, Vec<u32>)> = (0..TREES as u64)
        .map(|t| {
            let leaves = rp_leaves(&x32, n, d, 2 * (k + 1), p.seed.wrapping_add(t));
            let mut leaf_of = vec![0u32; n];
            for (l, leaf) in leaves.iter().enumerate() {
                for &i in leaf {
                    leaf_of[i as usize] = l as u32;
                }
            }
            (leaves, leaf_of)
        })
        .collect();
    cur.par_chunks_mut(k).enumerate().for_each(|(i, row)| {
        let mut cand: Vec<u32> = forest
            .iter()
            .flat_map(|(leaves, leaf_of)| leaves[leaf_of[i] as usize].iter().copied())
            .filter(|&j| j as usize != i)
            .collect();
        cand.sort_unstable();
        cand.dedup();
        let xi = row32(i);
        let mut c: Vec<(f64, u32)> = cand
            .iter()
            .map(|&j| (sqdist32(xi, row32(j as usize)), j))
            .collect();
        c.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        row.copy_from_slice(&c[..k]);
    });
    drop(forest);

    for sweep in 0..p.max_sweeps {
        // 1. Forward samples: up to s new (which become old) and s old entries.
        let fwd: Vec<(Vec<u32>, Vec<u32>)> = cur
            .par_chunks(k)
            .zip(is_new.par_chunks_mut(k))
            .enumerate()
            .map(|(i, (row, flags))| {
                let mut rng = row_rng(p.seed, sweep, i);
                let mut newp: Vec<usize> = (0..k).filter(|&t| flags[t]).collect();
                let mut oldp: Vec<usize> = (0..k).filter(|&t| !flags[t]).collect();
                sample(&mut newp, s, &mut rng);
                sample(&mut oldp, s, &mut rng);
                for &t in &newp {
                    flags[t] = false;
                }
                (
                    newp.iter().map(|&t| row[t].1).collect(),
                    oldp.iter().map(|&t| row[t].1).collect(),
                )
            })
            .collect();
        // 2. Reverse lists, built in vertex order, then sampled.
        let rev_new = reverse(&fwd, n, |f| &f.0);
        let rev_old = reverse(&fwd, n, |f| &f.1);
        // 3. Join sets: forward ∪ sampled reverse.
        let joins: Vec<(Vec<u32>, Vec<u32>)> = (0..n)
            .into_par_iter()
            .map(|i| {
                let mut rng = row_rng(p.seed ^ 0xABCD, sweep, i);
                let mut rn = rev_new[i].clone();
                let mut ro = rev_old[i].clone();
                sample(&mut rn, s, &mut rng);
                sample(&mut ro, s, &mut rng);
                let mut nw = fwd[i].0.clone();
                nw.extend(rn);
                nw.sort_unstable();
                nw.dedup();
                let mut od = fwd[i].1.clone();
                od.extend(ro);
                od.sort_unstable();
                od.dedup();
                od.retain(|v| nw.binary_search(v).is_err());
                (nw, od)
            })
            .collect();
        drop((rev_new, rev_old, fwd));
        // 4. Pull: each point offers itself its neighbours' neighbours.
        let changed: usize = cur
            .par_chunks_mut(ROWS * k)
            .zip(is_new.par_chunks_mut(ROWS * k))
            .enumerate()
            .map_init(
                || (vec![u32::MAX; n], BoundedHeap::new(k)),
                |(stamp, heap), (c, (rows, flags))| {
                    let mut changed = 0;
                    for r in 0..rows.len() / k {
                        let i = c * ROWS + r;
                        let row = &mut rows[r * k..(r + 1) * k];
                        let fl = &mut flags[r * k..(r + 1) * k];
                        let xi = row32(i);
                        let mark = i as u32;
                        stamp[i] = mark;
                        heap.clear();
                        for &(d, j) in row.iter() {
                            stamp[j as usize] = mark;
                            heap.push(d, j);
                        }
                        let mut offer = |v: u32, heap: &mut BoundedHeap| {
                            if stamp[v as usize] != mark {
                                stamp[v as usize] = mark;
                                let d = sqdist32(xi, row32(v as usize));
                                if d <= heap.bound() {
                                    heap.push(d, v);
                                }
                            }
                        };
                        let (nw, od) = &joins[i];
                        for &u in nw.iter().chain(od.iter()) {
                            offer(u, heap);
                        }
                        for &u in nw {
                            let (un, uo) = &joins[u as usize];
                            for &v in un.iter().chain(uo.iter()) {
                                offer(v, heap);
                            }
                        }
                        for &u in od {
                            for &v in &joins[u as usize].0 {
                                offer(v, heap);
                            }
                        }
                        let prev: Vec<u32> = row.iter().map(|&(_, j)| j).collect();
                        let prev_new: Vec<bool> = fl.to_vec();
                        for (t, it) in heap.sorted().into_iter().enumerate() {
                            row[t] = it;
                            fl[t] = match prev.iter().position(|&j| j == it.1) {
                                Some(q) => prev_new[q],
                                None => {
                                    changed += 1;
                                    true
                                }
                            };
                        }
                    }
                    changed
                },
            )
            .sum();
        if (changed as f64) < p.delta * (n * k) as f64 {
            break;
        }
    }
    cur.par_chunks_mut(k).enumerate().for_each(|(i, row)| {
        for it in row.iter_mut() {
            it.0 = sqdist(points.row(i), points.row(it.1 as usize));
        }
        row.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    });
    let idx = cur.iter().map(|&(_, j)| j).collect();
    let dist2 = cur.iter().map(|&(d, _)| d).collect();
    Knn { n, k, idx, dist2 }
}

/// Leaves of a random-projection tree: split at the median of the
/// projection on the line through two random members, until a leaf holds
/// fewer than `max_leaf` points (and so at least `max_leaf / 2`).
fn rp_leaves(x: &[f32], n: usize, d: usize, max_leaf: usize, seed: u64) -> Vec<Vec<u32>> {
    let mut leaves = Vec::new();
    let mut stack: Vec<(Vec<u32>, u64)> = vec![((0..n as u32).collect(), 1)];
    while let Some((ids, node)) = stack.pop() {
        if ids.len() < max_leaf {
            leaves.push(ids);
            continue;
        }
        let mut rng = Rng::new(seed ^ node.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let a = ids[rng.below(ids.len())] as usize;
        let b = ids[rng.below(ids.len())] as usize;
        let dir: Vec<f32> = if a != b {
            (0..d).map(|l| x[b * d + l] - x[a * d + l]).collect()
        } else {
            (0..d).map(|_| rng.normal() as f32).collect()
        };
        let mut proj: Vec<(f32, u32)> = ids
            .iter()
            .map(|&i| {
                let r = &x[i as usize * d..(i as usize + 1) * d];
                (r.iter().zip(&dir).map(|(u, v)| u * v).sum(), i)
            })
            .collect();
        let mid = proj.len() / 2;
        proj.select_nth_unstable_by(mid, |p, q| p.0.total_cmp(&q.0).then(p.1.cmp(&q.1)));
        let right: Vec<u32> = proj[mid..].iter().map(|&(_, i)| i).collect();
        let left: Vec<u32> = proj[..mid].iter().map(|&(_, i)| i).collect();
        stack.push((right, 2 * node + 1));
        stack.push((left, 2 * node));
    }
    leaves
}

#[inline]
fn sqdist32(a: &[f32], b: &[f32]) -> f64 {
    let mut s = [0.0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..8 {
            let t = x[l] - y[l];
            s[l] += t * t;
        }
    }
    let mut r: f32 = s.iter().sum();
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        let t = x - y;
        r += t * t;
    }
    r as f64
}

/// Keeps a uniform random subset of at most `s` items, in a seeded order.
fn sample<T>(v: &mut Vec<T>, s: usize, rng: &mut Rng) {
    if v.len() > s {
        for t in 0..s {
            let r = t + rng.below(v.len() - t);
            v.swap(t, r);
        }
        v.truncate(s);
    }
}

fn reverse<F>(fwd: &[(Vec<u32>, Vec<u32>)], n: usize, pick: F) -> Vec<Vec<u32>>
where
    F: Fn(&(Vec<u32>, Vec<u32>)) -> &Vec<u32>,
{
    let mut rev: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (i, f) in fwd.iter().enumerate() {
        for &u in pick(f) {
            rev[u as usize].push(i as u32);
        }
    }
    rev
}
