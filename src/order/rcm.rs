//! Reverse Cuthill–McKee: a pure-Rust bandwidth-reducing ordering.

use super::Permutation;
use crate::graph::StochasticGraph;

pub(crate) fn rcm(g: &StochasticGraph) -> Permutation {
    let n = g.n();
    let deg = |v: usize| g.rowptr()[v + 1] - g.rowptr()[v];
    let mut visited = vec![false; n];
    let mut order: Vec<u32> = Vec::with_capacity(n);
    // Start each component from a vertex of minimum degree, in id order so
    // the result is deterministic.
    let mut by_degree: Vec<u32> = (0..n as u32).collect();
    by_degree.sort_by_key(|&v| (deg(v as usize), v));
    let mut nbrs: Vec<u32> = Vec::new();
    for &start in &by_degree {
        if visited[start as usize] {
            continue;
        }
        visited[start as usize] = true;
        let mut head = order.len();
        order.push(start);
        while head < order.len() {
            let v = order[head] as usize;
            head += 1;
            nbrs.clear();
            nbrs.extend(g.row(v).0.iter().copied().filter(|&u| !visited[u as usize]));
            nbrs.sort_by_key(|&u| (deg(u as usize), u));
            for &u in &nbrs {
                visited[u as usize] = true;
                order.push(u);
            }
        }
    }
    order.reverse();
    Permutation::try_from_new_to_old(order).expect("RCM visits every vertex once")
}
