//! Exact k nearest neighbours by blocked brute force. A small matrix
//! product gives x·y for a block of queries against a block of
//! references (in f32, on centred data: twice the arithmetic rate and half
//! the memory traffic of f64); a vectorisable scan skips the blocks that
//! cannot beat a row's current k-th distance; the k + slack survivors are
//! re-ranked with distances recomputed directly in f64. Rounding can thus
//! only matter when more than `slack` points tie with the k-th neighbour
//! to within f32 precision.

use rayon::prelude::*;

use super::heap::BoundedHeap;
use super::{sqdist, Knn};
use crate::points::Points;
use crate::progress::Meter;

/// Queries per parallel task; references per matrix product.
const QB: usize = 128;
const RB: usize = 512;
/// Scan granule: one comparison against the bound decides a whole lane.
const LANE: usize = 16;

/// The exact k nearest neighbours of every point (1 ≤ k < N), itself excluded.
pub fn exact(points: &Points, k: usize) -> Knn {
    exact_metered(points, k, &Meter::default())
}

/// [`exact`], counting the points searched on `meter`.
pub fn exact_metered(points: &Points, k: usize, meter: &Meter) -> Knn {
    assert!(k >= 1 && k < points.n(), "need 1 <= k < N");
    search(points, None, k, meter)
}

/// The exact k nearest reference points of every query point (1 ≤ k ≤ N
/// references; a query equal to a reference finds it at distance 0). The
/// queries must have the references' dimension.
pub fn exact_query(reference: &Points, queries: &Points, k: usize) -> Knn {
    assert!(k >= 1 && k <= reference.n(), "need 1 <= k <= N");
    assert_eq!(
        reference.d(),
        queries.d(),
        "queries and references differ in dimension"
    );
    search(reference, Some(queries), k, &Meter::default())
}

/// The search: queries are the references themselves (each excluding
/// itself) when `queries` is `None`.
fn search(points: &Points, queries: Option<&Points>, k: usize, meter: &Meter) -> Knn {
    let n = points.n();
    let d = points.d();
    let mean = points.mean();
    let scale = points.f32_scale(&mean);
    let x = points.centred_f32_by(&mean, scale);
    let qx_owned = queries.map(|q| q.centred_f32_by(&mean, scale));
    let qx: &[f32] = qx_owned.as_deref().unwrap_or(&x);
    let nq = qx.len() / d;
    let exclude_self = queries.is_none();
    // References transposed (d × n), so the product packs contiguous runs
    // instead of gathering a strided column per element.
    let mut xt = vec![0.0f32; n * d];
    for (i, r) in x.chunks_exact(d).enumerate() {
        for (l, &v) in r.iter().enumerate() {
            xt[l * n + i] = v;
        }
    }
    let sq = |v: &[f32]| -> Vec<f32> {
        v.chunks_exact(d)
            .map(|r| r.iter().map(|v| v * v).sum())
            .collect()
    };
    let norms = sq(&x);
    let qnorms_owned = queries.map(|_| sq(qx));
    let qnorms: &[f32] = qnorms_owned.as_deref().unwrap_or(&norms);
    let keep = (k + (k / 8).max(8)).min(if exclude_self { n - 1 } else { n });
    let mut idx = vec![0u32; nq * k];
    let mut dist2 = vec![0.0f64; nq * k];
    let phase = meter.phase("exact neighbour search", nq as u64);
    idx.par_chunks_mut(QB * k)
        .zip(dist2.par_chunks_mut(QB * k))
        .enumerate()
        .for_each_init(
            || {
                (
                    vec![0.0f32; QB * RB],
                    (0..QB).map(|_| BoundedHeap::new(keep)).collect::<Vec<_>>(),
                    Vec::with_capacity(keep),
                )
            },
            |(dots, heaps, cand), (b, (idx_out, d_out))| {
                let q0 = b * QB;
                let qn = idx_out.len() / k;
                phase.add(qn as u64);
                for h in heaps.iter_mut() {
                    h.clear();
                }
                for r0 in (0..n).step_by(RB) {
                    let rn = RB.min(n - r0);
                    // SAFETY: qx holds nq·d values, so rows q0.. hold qn·d; xt is
                    // d × n, columns r0..r0+rn in range; dots holds QB·RB ≥ qn·RB.
                    unsafe {
                        matrixmultiply::sgemm(
                            qn,
                            d,
                            rn,
                            -2.0,
                            qx[q0 * d..].as_ptr(),
                            d as isize,
                            1,
                            xt[r0..].as_ptr(),
                            n as isize,
                            1,
                            0.0,
                            dots.as_mut_ptr(),
                            RB as isize,
                            1,
                        );
                    }
                    for q in 0..qn {
                        let i = q0 + q;
                        let heap = &mut heaps[q];
                        let ni = qnorms[i];
                        let row = &dots[q * RB..q * RB + rn];
                        let nr = &norms[r0..r0 + rn];
                        let mut thr = heap.bound() as f32 - ni;
                        for (c, (lane, nl)) in row.chunks(LANE).zip(nr.chunks(LANE)).enumerate() {
                            // A non-short-circuiting test, so it compiles to
                            // packed compares.
                            if !lane
                                .iter()
                                .zip(nl)
                                .fold(false, |a, (&v, &nj)| a | (v + nj <= thr))
                            {
                                continue;
                            }
                            for (l, (&v, &nj)) in lane.iter().zip(nl).enumerate() {
                                let v = v + nj;
                                let j = r0 + c * LANE + l;
                                if v <= thr && !(exclude_self && j == i) {
                                    let dd = (v + ni).max(0.0) as f64;
                                    if heap.push(dd, j as u32) {
                                        thr = heap.bound() as f32 - ni;
                                    }
                                }
                            }
                        }
                    }
                }
                for q in 0..qn {
                    let i = q0 + q;
                    let xi = queries.unwrap_or(points).row(i);
                    cand.clear();
                    cand.extend(
                        heaps[q]
                            .items()
                            .iter()
                            .map(|&(_, j)| (sqdist(xi, points.row(j as usize)), j)),
                    );
                    cand.sort_by(|a: &(f64, u32), b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    for (t, &(dd, j)) in cand.iter().take(k).enumerate() {
                        idx_out[q * k + t] = j;
                        d_out[q * k + t] = dd;
                    }
                }
            },
        );
    Knn {
        n: nq,
        k,
        idx,
        dist2,
    }
}
