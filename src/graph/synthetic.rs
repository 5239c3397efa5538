//! Seeded synthetic kNN-like graphs for tests, examples and benchmarks.

use rayon::prelude::*;

use super::Coo;
use crate::util::Rng;

/// A k-nearest-neighbour graph of `n` points drawn from 12 Gaussian clusters
/// in 3 dimensions (neighbours searched in the 27 surrounding cells of a cell
/// list, so a few far-apart pairs may be missed), with weights
/// exp(−d² / d_k²) in column i for i's neighbours. Vertex ids are shuffled,
/// so the input order carries no locality.
pub fn synthetic_knn(n: usize, k: usize, seed: u64) -> Coo {
    let mut rng = Rng::new(seed);
    let clusters = 12;
    let centres: Vec<[f64; 3]> = (0..clusters)
        .map(|_| {
            [
                rng.uniform() * 10.0,
                rng.uniform() * 10.0,
                rng.uniform() * 10.0,
            ]
        })
        .collect();
    let mut pts: Vec<[f64; 3]> = (0..n)
        .map(|_| {
            let c = centres[rng.below(clusters)];
            [
                c[0] + rng.normal(),
                c[1] + rng.normal(),
                c[2] + rng.normal(),
            ]
        })
        .collect();
    for i in (1..n).rev() {
        pts.swap(i, rng.below(i + 1));
    }
    let k = k.min(n.saturating_sub(1));
    if k == 0 {
        return Coo {
            n,
            ..Default::default()
        };
    }
    // Cell list with about k points per cell.
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for p in &pts {
        for a in 0..3 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    let vol: f64 = (0..3).map(|a| (hi[a] - lo[a]).max(1e-9)).product();
    let cell = (vol * k as f64 / n as f64).cbrt().max(1e-9);
    let dims: Vec<usize> = (0..3)
        .map(|a| (((hi[a] - lo[a]) / cell).floor() as usize + 1).min(1024))
        .collect();
    let cell_of = |p: &[f64; 3]| -> [usize; 3] {
        let mut c = [0; 3];
        for a in 0..3 {
            c[a] = (((p[a] - lo[a]) / cell) as usize).min(dims[a] - 1);
        }
        c
    };
    let lin = |c: [usize; 3]| (c[2] * dims[1] + c[1]) * dims[0] + c[0];
    let ncells = dims[0] * dims[1] * dims[2];
    let mut start = vec![0usize; ncells + 1];
    for p in &pts {
        start[lin(cell_of(p)) + 1] += 1;
    }
    for c in 0..ncells {
        start[c + 1] += start[c];
    }
    let mut fill = start.clone();
    let mut members = vec![0u32; n];
    for (i, p) in pts.iter().enumerate() {
        let c = lin(cell_of(p));
        members[fill[c]] = i as u32;
        fill[c] += 1;
    }
    let neigh: Vec<Vec<(u32, f64)>> = (0..n)
        .into_par_iter()
        // One candidate buffer per worker: allocating one per point costs
        // more in page faults than the distances themselves.
        .map_init(Vec::<(f64, u32)>::new, |cand, i| {
            let p = pts[i];
            let c = cell_of(&p);
            let mut radius = 1usize;
            loop {
                cand.clear();
                let r = radius as isize;
                for dz in -r..=r {
                    for dy in -r..=r {
                        for dx in -r..=r {
                            let q = [c[0] as isize + dx, c[1] as isize + dy, c[2] as isize + dz];
                            if (0..3).any(|a| q[a] < 0 || q[a] >= dims[a] as isize) {
                                continue;
                            }
                            let l = lin([q[0] as usize, q[1] as usize, q[2] as usize]);
                            for &j in &members[start[l]..start[l + 1]] {
                                if j as usize != i {
                                    let d2 = crate::util::dist2(&p, &pts[j as usize]);
                                    cand.push((d2, j));
                                }
                            }
                        }
                    }
                }
                if cand.len() >= k || radius > dims.iter().copied().max().unwrap() {
                    // Dense cluster cores put thousands of candidates in 27 cells:
                    // select the k nearest before sorting them (same total order,
                    // so the same graph as a full sort).
                    let by = |a: &(f64, u32), b: &(f64, u32)| {
                        a.0.partial_cmp(&b.0).unwrap().then(a.1.cmp(&b.1))
                    };
                    if cand.len() > k {
                        cand.select_nth_unstable_by(k - 1, by);
                        cand.truncate(k);
                    }
                    cand.sort_by(by);
                    let dk = cand.last().map(|c| c.0).unwrap_or(1.0).max(1e-12);
                    return cand
                        .iter()
                        .map(|&(d2, j)| (j, (-d2 / dk).exp().max(1e-12)))
                        .collect();
                }
                radius += 1;
            }
        })
        .collect();
    let mut coo = Coo {
        n,
        ..Default::default()
    };
    for (i, nb) in neigh.iter().enumerate() {
        for &(j, w) in nb {
            coo.rows.push(j);
            coo.cols.push(i as u32);
            coo.vals.push(w);
        }
    }
    coo
}
