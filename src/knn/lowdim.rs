//! Exact k nearest neighbours in 1 to 3 dimensions (embeddings) by a
//! uniform grid of cells: each query scans rings of cells outwards until
//! the ring can hold nothing closer than its k-th neighbour. Ties resolve
//! by index, as in the brute-force search, so the answers are the same.

use rayon::prelude::*;

use super::heap::BoundedHeap;
use super::{sqdist, Knn};
use crate::points::Points;

/// Points per cell on average.
const PER_CELL: f64 = 2.0;

/// The exact `k` nearest neighbours (self excluded) of the points `who`
/// among all of `points` (d ≤ 3, 1 ≤ k < N); row r of the result belongs
/// to `who[r]`.
pub fn exact_low_dim(points: &Points, who: &[u32], k: usize) -> Knn {
    let (n, d) = (points.n(), points.d());
    assert!(
        (1..=3).contains(&d),
        "low-dimensional search needs 1 <= d <= 3"
    );
    assert!(k >= 1 && k < n, "need 1 <= k < N");
    let mut lo = [f64::INFINITY; 3];
    let mut hi = [f64::NEG_INFINITY; 3];
    for i in 0..n {
        for (a, &x) in points.row(i).iter().enumerate() {
            lo[a] = lo[a].min(x);
            hi[a] = hi[a].max(x);
        }
    }
    let extent = (0..d).map(|a| hi[a] - lo[a]).fold(0.0, f64::max);
    let side = ((n as f64 / PER_CELL).powf(1.0 / d as f64).ceil() as usize).clamp(1, 1 << 20);
    let cell = if extent > 0.0 {
        extent / side as f64
    } else {
        1.0
    };
    // Cells per axis; unused axes have one, so every index is 3D.
    let mut dims = [1usize; 3];
    for a in 0..d {
        dims[a] = (((hi[a] - lo[a]) / cell).floor() as usize + 1).min(side);
    }
    let home = |r: &[f64]| {
        let mut c = [0usize; 3];
        for a in 0..d {
            c[a] = (((r[a] - lo[a]) / cell) as usize).min(dims[a] - 1);
        }
        c
    };
    let ncells: usize = dims.iter().product();
    // Counting sort of the points by cell.
    let cells: Vec<usize> = (0..n)
        .map(|i| {
            let c = home(points.row(i));
            cell_id(c[0] as isize, c[1] as isize, c[2] as isize, &dims)
        })
        .collect();
    let mut start = vec![0usize; ncells + 1];
    for &c in &cells {
        start[c + 1] += 1;
    }
    for c in 0..ncells {
        start[c + 1] += start[c];
    }
    let mut fill = start.clone();
    let mut sorted = vec![0u32; n];
    for (i, &c) in cells.iter().enumerate() {
        sorted[fill[c]] = i as u32;
        fill[c] += 1;
    }

    let rows: Vec<Vec<(f64, u32)>> = who
        .par_iter()
        .map_init(
            || BoundedHeap::new(k),
            |heap, &q| {
                heap.clear();
                let x = points.row(q as usize);
                let h = home(x);
                let maxr = dims.iter().copied().max().unwrap_or(1);
                for r in 0..=maxr {
                    visit_ring(&h, d, r, &dims, &mut |c| {
                        for &j in &sorted[start[c]..start[c + 1]] {
                            if j != q {
                                heap.push(sqdist(x, points.row(j as usize)), j);
                            }
                        }
                    });
                    // Cells of the next ring are at least r cells away
                    // (less a hair for the rounding of the cell indices);
                    // strict, so a tie further out cannot have a smaller index.
                    let reach = r as f64 * cell * (1.0 - 1e-9);
                    if heap.bound() < reach * reach {
                        break;
                    }
                }
                heap.sorted()
            },
        )
        .collect();
    let mut idx = Vec::with_capacity(who.len() * k);
    let mut dist2 = Vec::with_capacity(who.len() * k);
    for r in rows {
        for (dd, j) in r {
            idx.push(j);
            dist2.push(dd);
        }
    }
    Knn {
        n: who.len(),
        k,
        idx,
        dist2,
    }
}

/// Calls `f` with the id of every cell at Chebyshev distance exactly `r`
/// from `home` (in the first `d` axes) that lies in the grid.
fn visit_ring(home: &[usize; 3], d: usize, r: usize, dims: &[usize; 3], f: &mut dyn FnMut(usize)) {
    let r = r as isize;
    let h = home.map(|v| v as isize);
    let range = |a: usize| {
        if a < d {
            ((h[a] - r).max(0), (h[a] + r).min(dims[a] as isize - 1))
        } else {
            (0, 0)
        }
    };
    let (x0, x1) = range(0);
    let (y0, y1) = range(1);
    let (z0, z1) = range(2);
    for z in z0..=z1 {
        for y in y0..=y1 {
            let on_yz = (d > 1 && (y - h[1]).abs() == r) || (d > 2 && (z - h[2]).abs() == r);
            if on_yz || r == 0 {
                for x in x0..=x1 {
                    f(cell_id(x, y, z, dims));
                }
            } else {
                // Inside the ring in y and z: only the two x faces.
                for x in [h[0] - r, h[0] + r] {
                    if x >= x0 && x <= x1 {
                        f(cell_id(x, y, z, dims));
                    }
                }
            }
        }
    }
}

fn cell_id(x: isize, y: isize, z: isize, dims: &[usize; 3]) -> usize {
    x as usize + dims[0] * (y as usize + dims[1] * z as usize)
}
