//! Approximate k-nearest-neighbour queries against a fixed reference set,
//! guided by the reference's own neighbour graph (the one its fit found).
//!
//! A query descends a random-projection tree to a leaf of at most
//! [`LEAF`] reference points, adds one point of each of the graph's
//! largest connected components (a walk cannot leave its component), then
//! walks the graph best first: the nearest
//! unexpanded candidate's neighbours are measured, and those closer than
//! the current `keep`-th best by the factor (1 + ε) become candidates in
//! turn; the walk ends when no candidate is that close. The survivors are
//! re-ranked with distances recomputed in f64, as the exact search does.
//!
//! Each query depends only on the index and on itself, so the results do
//! not depend on the batch a query comes in or on the thread count.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::descent::{project, rp_split, sqdist32};
use super::heap::BoundedHeap;
use super::{sqdist, Knn};
use crate::error::{Error, Result};
use crate::points::Points;

/// Largest leaf of the entry tree.
pub const LEAF: usize = 48;
/// Components of the graph given an entry point each (the largest).
pub const MAX_ENTRIES: usize = 64;
/// Queries per parallel task.
const QB: usize = 64;

/// The first `k` neighbours of every reference point, as its fit found
/// them (nearest first): the graph a query walks.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchGraph {
    n: usize,
    k: usize,
    idx: Vec<u32>,
}

impl SearchGraph {
    /// Checks that `idx` holds `k` indices below `n` for each of `n`
    /// points.
    pub fn try_new(n: usize, k: usize, idx: Vec<u32>) -> Result<SearchGraph> {
        if k == 0 || idx.len() != n * k {
            return Err(Error::Input(format!(
                "a search graph of {n} points with {k} neighbours each needs {} entries, got {}",
                n * k,
                idx.len()
            )));
        }
        if let Some(p) = idx.iter().position(|&j| j as usize >= n) {
            return Err(Error::Input(format!(
                "search graph: point {} names neighbour {}, beyond the {n} points",
                p / k,
                idx[p]
            )));
        }
        Ok(SearchGraph { n, k, idx })
    }

    /// The first `k` (at most) of each point's neighbours in `knn`.
    pub fn from_knn(knn: &Knn, k: usize) -> SearchGraph {
        let k = k.min(knn.k);
        let mut idx = Vec::with_capacity(knn.n * k);
        for i in 0..knn.n {
            idx.extend_from_slice(&knn.neighbors(i).0[..k]);
        }
        SearchGraph { n: knn.n, k, idx }
    }

    pub fn n(&self) -> usize {
        self.n
    }
    pub fn k(&self) -> usize {
        self.k
    }
    /// Row i: point i's neighbours.
    pub fn idx(&self) -> &[u32] {
        &self.idx
    }
}

enum Node {
    Split {
        /// Offset of the direction in `dirs`.
        dir: usize,
        thr: f32,
        left: usize,
        right: usize,
    },
    Leaf {
        start: usize,
        end: usize,
    },
}

/// What queries need, built once per reference: its points in f32, the
/// entry tree and the graph made undirected.
pub struct QueryIndex<'a> {
    reference: &'a Points,
    mean: Vec<f64>,
    scale: f64,
    x: Vec<f32>,
    nodes: Vec<Node>,
    dirs: Vec<f32>,
    /// Position in leaf order → reference index.
    order: Vec<u32>,
    adj_ptr: Vec<usize>,
    adj: Vec<u32>,
    /// A point of each of the graph's largest connected components (in
    /// leaf-order positions), measured by every query besides its leaf: a
    /// walk cannot leave the component it starts in, and a query beside a
    /// component its leaf is not in would otherwise miss it.
    entries: Vec<u32>,
}

/// Settings of the walk.
#[derive(Clone, Copy, Debug)]
pub struct QueryParams {
    /// Candidates within (1 + ε) of the current bound are explored.
    pub epsilon: f64,
}

impl Default for QueryParams {
    fn default() -> Self {
        QueryParams {
            epsilon: crate::defaults::QUERY_EPSILON,
        }
    }
}

impl<'a> QueryIndex<'a> {
    /// The index of `reference` walking `graph` (which must be a graph
    /// of these points); `seed` seeds the entry tree.
    pub fn new(reference: &'a Points, graph: &SearchGraph, seed: u64) -> Result<QueryIndex<'a>> {
        let n = reference.n();
        if graph.n != n {
            return Err(Error::Input(format!(
                "a search graph of {} points for {n} reference points",
                graph.n
            )));
        }
        let d = reference.d();
        let mean = reference.mean();
        let scale = reference.f32_scale(&mean);
        let x = reference.centred_f32_by(&mean, scale);
        // The graph made undirected: each point's own neighbours, then the
        // points naming it (in index order), at most 2k in all, so a hub
        // does not make every walk through it slow.
        let k = graph.k;
        let cap = 2 * k;
        let mut rev_count = vec![0usize; n];
        for &j in &graph.idx {
            rev_count[j as usize] += 1;
        }
        let mut adj_ptr = Vec::with_capacity(n + 1);
        adj_ptr.push(0);
        for (i, &r) in rev_count.iter().enumerate() {
            let own = graph.idx[i * k..(i + 1) * k]
                .iter()
                .filter(|&&j| j as usize != i)
                .count();
            adj_ptr.push(adj_ptr[i] + (own + r).min(cap));
        }
        let mut adj = vec![0u32; adj_ptr[n]];
        let mut fill: Vec<usize> = adj_ptr[..n].to_vec();
        for i in 0..n {
            for &j in &graph.idx[i * k..(i + 1) * k] {
                if j as usize != i && fill[i] < adj_ptr[i + 1] {
                    adj[fill[i]] = j;
                    fill[i] += 1;
                }
            }
        }
        for i in 0..n {
            for &j in &graph.idx[i * k..(i + 1) * k] {
                let j = j as usize;
                if j != i && fill[j] < adj_ptr[j + 1] {
                    adj[fill[j]] = i as u32;
                    fill[j] += 1;
                }
            }
        }
        // A point named twice (as neighbour and as the namer) wastes a
        // slot; harmless, the walk skips visited points.
        let mut index = QueryIndex {
            reference,
            mean,
            scale,
            x,
            nodes: Vec::new(),
            dirs: Vec::new(),
            order: Vec::new(),
            adj_ptr: Vec::new(),
            adj: Vec::new(),
            entries: Vec::new(),
        };
        let mut ids: Vec<u32> = (0..n as u32).collect();
        index.build(&mut ids, seed);
        // Points stored in leaf order, the graph renumbered to match: a
        // walk stays mostly among nearby rows, which keeps it in cache.
        let mut pos = vec![0u32; n];
        for (p, &i) in ids.iter().enumerate() {
            pos[i as usize] = p as u32;
        }
        let mut x = vec![0.0f32; n * d];
        x.par_chunks_mut(d)
            .zip(ids.par_iter())
            .for_each(|(row, &i)| {
                let i = i as usize;
                row.copy_from_slice(&index.x[i * d..(i + 1) * d]);
            });
        let mut ptr = Vec::with_capacity(n + 1);
        let mut edges = Vec::with_capacity(adj.len());
        ptr.push(0);
        for &i in &ids {
            let i = i as usize;
            edges.extend(
                adj[adj_ptr[i]..adj_ptr[i + 1]]
                    .iter()
                    .map(|&j| pos[j as usize]),
            );
            ptr.push(edges.len());
        }
        index.x = x;
        index.order = ids;
        index.adj_ptr = ptr;
        index.adj = edges;
        index.entries = index.component_entries();
        Ok(index)
    }

    /// The entry tree over `ids` (reordered into leaf order), built a
    /// level at a time with a level's splits in parallel; a split depends
    /// only on its points and its place in the tree, so any thread count
    /// builds the same tree.
    fn build(&mut self, ids: &mut [u32], seed: u64) {
        let d = self.reference.d();
        let x = &self.x;
        self.nodes.push(Node::Leaf { start: 0, end: 0 });
        // (node, start, len, key): key is the node's heap number, which
        // seeds its split.
        let mut level: Vec<(usize, usize, usize, u64)> = vec![(0, 0, ids.len(), 1)];
        while !level.is_empty() {
            let mut parts = Vec::with_capacity(level.len());
            let mut rest = &mut *ids;
            let mut at = 0;
            for &(_, start, len, _) in &level {
                let (_, r) = std::mem::take(&mut rest).split_at_mut(start - at);
                let (part, r) = r.split_at_mut(len);
                parts.push(part);
                rest = r;
                at = start + len;
            }
            let splits: Vec<Option<(Vec<f32>, f32, usize)>> = parts
                .into_par_iter()
                .zip(level.par_iter())
                .map(|(part, &(_, _, len, key))| {
                    (len > LEAF).then(|| rp_split(x, d, part, seed, key))
                })
                .collect();
            let mut next = Vec::new();
            for (&(node, start, len, key), sp) in level.iter().zip(splits) {
                self.nodes[node] = match sp {
                    None => Node::Leaf {
                        start,
                        end: start + len,
                    },
                    Some((dir, thr, mid)) => {
                        let left = self.nodes.len();
                        self.nodes.push(Node::Leaf { start: 0, end: 0 });
                        self.nodes.push(Node::Leaf { start: 0, end: 0 });
                        next.push((left, start, mid, 2 * key));
                        next.push((left + 1, start + mid, len - mid, 2 * key + 1));
                        let off = self.dirs.len();
                        self.dirs.extend_from_slice(&dir);
                        Node::Split {
                            dir: off,
                            thr,
                            left,
                            right: left + 1,
                        }
                    }
                };
            }
            level = next;
        }
    }

    /// One point of each of the [`MAX_ENTRIES`] largest connected
    /// components of the (undirected) graph, if it has more than one: the
    /// point nearest the component's mean. Ties in size go to the component
    /// whose first point comes first.
    fn component_entries(&self) -> Vec<u32> {
        let n = self.order.len();
        let d = self.reference.d();
        let (label, count) =
            crate::util::components(n, |i| &self.adj[self.adj_ptr[i]..self.adj_ptr[i + 1]]);
        if count < 2 {
            return Vec::new();
        }
        let mut size = vec![0usize; count];
        for &c in &label {
            size[c as usize] += 1;
        }
        // Labels follow each component's first position, so this order is
        // fixed by the data.
        let mut comps: Vec<u32> = (0..count as u32).collect();
        comps.sort_by_key(|&c| (std::cmp::Reverse(size[c as usize]), c));
        comps.truncate(MAX_ENTRIES);
        let mut slot = vec![u32::MAX; count];
        for (t, &c) in comps.iter().enumerate() {
            slot[c as usize] = t as u32;
        }
        let mut mean = vec![0.0f64; comps.len() * d];
        for (i, &c) in label.iter().enumerate() {
            let t = slot[c as usize] as usize;
            if t < comps.len() {
                let m = &mut mean[t * d..(t + 1) * d];
                for (m, &v) in m.iter_mut().zip(&self.x[i * d..(i + 1) * d]) {
                    *m += v as f64;
                }
            }
        }
        let mean: Vec<f32> = mean
            .chunks_exact(d)
            .zip(&comps)
            .flat_map(|(m, &c)| {
                let k = size[c as usize] as f64;
                m.iter().map(move |v| (v / k) as f32)
            })
            .collect();
        let mut best = vec![(f32::INFINITY, u32::MAX); comps.len()];
        for (i, &c) in label.iter().enumerate() {
            let t = slot[c as usize] as usize;
            if t < comps.len() {
                let dd = sqdist32(&self.x[i * d..(i + 1) * d], &mean[t * d..(t + 1) * d]);
                if dd < best[t].0 {
                    best[t] = (dd, i as u32);
                }
            }
        }
        best.into_iter().map(|(_, i)| i).collect()
    }

    /// The leaf `q` falls in: positions start..end.
    fn leaf(&self, q: &[f32]) -> (usize, usize) {
        let d = self.reference.d();
        let mut at = 0;
        loop {
            match self.nodes[at] {
                Node::Split {
                    dir,
                    thr,
                    left,
                    right,
                } => {
                    at = if project(q, &self.dirs[dir..dir + d]) < thr {
                        left
                    } else {
                        right
                    };
                }
                Node::Leaf { start, end } => return (start, end),
            }
        }
    }

    /// The approximate `k` nearest reference points of every query point
    /// (1 ≤ k ≤ N), nearest first.
    pub fn query(&self, queries: &Points, k: usize, p: &QueryParams) -> Knn {
        let n = self.reference.n();
        let d = self.reference.d();
        assert!(k >= 1 && k <= n, "need 1 <= k <= N");
        assert_eq!(queries.d(), d, "queries and references differ in dimension");
        let qx = queries.centred_f32_by(&self.mean, self.scale);
        let nq = queries.n();
        let keep = (k + (k / 8).max(8)).min(n);
        let grow = ((1.0 + p.epsilon) * (1.0 + p.epsilon)) as f32;
        // Queries taken in the order of their leaves, so consecutive walks
        // cover the same rows; each query's result does not depend on it.
        let mut by_leaf: Vec<(usize, u32)> = (0..nq)
            .into_par_iter()
            .map(|i| (self.leaf(&qx[i * d..(i + 1) * d]).0, i as u32))
            .collect();
        by_leaf.sort_unstable();
        let found: Vec<(Vec<u32>, Vec<f64>)> = by_leaf
            .par_chunks(QB)
            .map_init(
                || Scratch {
                    stamp: vec![0u32; n],
                    now: 0,
                    heap: BoundedHeap::new(keep),
                    cand: BinaryHeap::new(),
                    ranked: Vec::with_capacity(keep),
                    fresh: Vec::new(),
                    dist: Vec::new(),
                },
                |s, chunk| {
                    let mut idx = Vec::with_capacity(chunk.len() * k);
                    let mut d2 = Vec::with_capacity(chunk.len() * k);
                    for &(_, i) in chunk {
                        let i = i as usize;
                        self.walk(&qx[i * d..(i + 1) * d], grow, s);
                        let xi = queries.row(i);
                        s.ranked.clear();
                        s.ranked.extend(s.heap.items().iter().map(|&(_, p)| {
                            let j = self.order[p as usize];
                            (sqdist(xi, self.reference.row(j as usize)), j)
                        }));
                        s.ranked
                            .sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                        for &(dd, j) in s.ranked.iter().take(k) {
                            idx.push(j);
                            d2.push(dd);
                        }
                    }
                    (idx, d2)
                },
            )
            .collect();
        let mut idx = vec![0u32; nq * k];
        let mut dist2 = vec![0.0f64; nq * k];
        for (chunk, (fi, fd)) in by_leaf.chunks(QB).zip(&found) {
            for (t, &(_, i)) in chunk.iter().enumerate() {
                let i = i as usize;
                idx[i * k..(i + 1) * k].copy_from_slice(&fi[t * k..(t + 1) * k]);
                dist2[i * k..(i + 1) * k].copy_from_slice(&fd[t * k..(t + 1) * k]);
            }
        }
        Knn {
            n: nq,
            k,
            idx,
            dist2,
        }
    }

    fn walk(&self, q: &[f32], grow: f32, s: &mut Scratch) {
        let d = self.reference.d();
        s.now = s.now.wrapping_add(1);
        if s.now == 0 {
            s.stamp.fill(0);
            s.now = 1;
        }
        s.heap.clear();
        s.cand.clear();
        let dist = |j: u32| sqdist32(q, &self.x[j as usize * d..(j as usize + 1) * d]);
        let (start, end) = self.leaf(q);
        for j in (start as u32..end as u32).chain(self.entries.iter().copied()) {
            if s.stamp[j as usize] == s.now {
                continue;
            }
            s.stamp[j as usize] = s.now;
            let dj = dist(j);
            s.heap.push(dj as f64, j);
            s.cand.push(Reverse((Ord32(dj), j)));
        }
        while let Some(Reverse((Ord32(dc), c))) = s.cand.pop() {
            let bound = s.heap.bound() as f32 * grow;
            if dc > bound {
                break;
            }
            // The new neighbours first, then their distances in a loop
            // without branches, so the rows' loads can overlap.
            s.fresh.clear();
            for &j in &self.adj[self.adj_ptr[c as usize]..self.adj_ptr[c as usize + 1]] {
                if s.stamp[j as usize] != s.now {
                    s.stamp[j as usize] = s.now;
                    s.fresh.push(j);
                }
            }
            s.dist.clear();
            s.dist.extend(s.fresh.iter().map(|&j| dist(j)));
            for (&j, &dj) in s.fresh.iter().zip(&s.dist) {
                if dj < s.heap.bound() as f32 * grow {
                    s.heap.push(dj as f64, j);
                    s.cand.push(Reverse((Ord32(dj), j)));
                }
            }
        }
    }
}

struct Scratch {
    stamp: Vec<u32>,
    now: u32,
    heap: BoundedHeap,
    cand: BinaryHeap<Reverse<(Ord32, u32)>>,
    ranked: Vec<(f64, u32)>,
    fresh: Vec<u32>,
    dist: Vec<f32>,
}

/// An f32 with a total order, for the candidate queue.
#[derive(Clone, Copy)]
struct Ord32(f32);
impl PartialEq for Ord32 {
    fn eq(&self, o: &Self) -> bool {
        self.0.total_cmp(&o.0).is_eq()
    }
}
impl Eq for Ord32 {}
impl PartialOrd for Ord32 {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ord32 {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&o.0)
    }
}
