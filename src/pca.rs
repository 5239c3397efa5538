//! Principal component analysis for point data before the kNN search:
//! raw pixels in hundreds of dimensions are both slow to search and noisy.
//! The covariance is formed once (parallel, summed in fixed chunks), its
//! leading eigenvectors found by subspace iteration with a Rayleigh–Ritz
//! step, and the centred data projected on them.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::points::Points;
use crate::util::Rng;

/// Rows per chunk of the covariance sum: fixed, so the bits do not depend
/// on the thread count.
const ROWS: usize = 4096;
const SWEEPS: usize = 40;

/// A fitted projection: the data's mean and its leading principal
/// directions, to project the data it was fitted on or new points alike.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    /// Input dimensions.
    pub d: usize,
    /// Components.
    pub k: usize,
    /// The mean of the fitted data (d values).
    pub mean: Vec<f64>,
    /// The components as columns of a d × k row-major matrix.
    pub basis: Vec<f64>,
}

/// Projects `points` on their first `k` principal components (k < D). The
/// sign of each component is fixed so that its largest entry is positive.
pub fn pca(points: &Points, k: usize) -> Result<Points> {
    Pca::fit(points, k)?.project(points)
}

impl Pca {
    /// Checked constructor from saved parts.
    pub fn try_new(d: usize, k: usize, mean: Vec<f64>, basis: Vec<f64>) -> Result<Pca> {
        if k == 0 || k >= d || mean.len() != d || basis.len() != d * k {
            return Err(Error::Input(format!(
                "a PCA of {d} dimensions to {k} components needs 1 <= k < d, {d} means and {} basis values; got {} and {}",
                d * k,
                mean.len(),
                basis.len()
            )));
        }
        if mean.iter().chain(&basis).any(|v| !v.is_finite()) {
            return Err(Error::Input("the PCA has a non-finite value".into()));
        }
        Ok(Pca { d, k, mean, basis })
    }

    /// Centres `points` by the fitted mean and projects them on the basis.
    pub fn project(&self, points: &Points) -> Result<Points> {
        let (n, d, k) = (points.n(), self.d, self.k);
        if points.d() != d {
            return Err(Error::Input(format!(
                "points of {} dimensions, but the PCA was fitted on {d}",
                points.d()
            )));
        }
        let mut out = vec![0.0; n * k];
        // Centred a block at a time, in the block's own buffer.
        out.par_chunks_mut(ROWS / 4 * k)
            .zip(points.as_slice().par_chunks(ROWS / 4 * d))
            .for_each(|(o, x)| {
                let c: Vec<f64> = x
                    .chunks_exact(d)
                    .flat_map(|r| r.iter().zip(&self.mean).map(|(v, m)| v - m))
                    .collect();
                matmul(&c, &self.basis, o, c.len() / d, d, k)
            });
        Points::try_new(n, k, out)
    }

    /// The mean and the first `k` principal directions of `points` (k < D).
    pub fn fit(points: &Points, k: usize) -> Result<Pca> {
        let (n, d) = (points.n(), points.d());
        if k == 0 || k >= d {
            return Err(Error::param(
                "pca",
                format!("PCA to {k} components needs 1 <= k < D = {d}"),
            ));
        }
        let x = points.as_slice();
        let mut mean = vec![0.0; d];
        for c in x.chunks(ROWS * d) {
            let mut part = vec![0.0; d];
            for r in c.chunks_exact(d) {
                for (m, v) in part.iter_mut().zip(r) {
                    *m += v;
                }
            }
            for (m, p) in mean.iter_mut().zip(part) {
                *m += p;
            }
        }
        for m in mean.iter_mut() {
            *m /= n as f64;
        }
        let xc = centre(x, &mean);

        // Covariance (up to 1/n, which does not change eigenvectors).
        let parts: Vec<Vec<f64>> = xc
            .par_chunks(ROWS * d)
            .map(|c| {
                let rows = c.len() / d;
                let mut cov = vec![0.0; d * d];
                // SAFETY: c is rows × d row-major; read as its transpose (d × rows)
                // and as itself; cov is d × d row-major.
                unsafe {
                    matrixmultiply::dgemm(
                        d,
                        rows,
                        d,
                        1.0,
                        c.as_ptr(),
                        1,
                        d as isize,
                        c.as_ptr(),
                        d as isize,
                        1,
                        0.0,
                        cov.as_mut_ptr(),
                        d as isize,
                        1,
                    );
                }
                cov
            })
            .collect();
        let mut cov = vec![0.0; d * d];
        for p in parts {
            for (a, b) in cov.iter_mut().zip(p) {
                *a += b;
            }
        }

        // Subspace iteration on p = k + 10 vectors.
        let p = (k + 10).min(d);
        let mut rng = Rng::new(0x9ca);
        let mut q: Vec<f64> = (0..d * p).map(|_| rng.normal()).collect(); // d × p
        orthonormalize(&mut q, d, p);
        let mut z = vec![0.0; d * p];
        for _ in 0..SWEEPS {
            matmul(&cov, &q, &mut z, d, d, p);
            std::mem::swap(&mut q, &mut z);
            orthonormalize(&mut q, d, p);
        }
        // Rayleigh–Ritz: T = Qᵀ C Q, its eigenvectors rotate Q.
        matmul(&cov, &q, &mut z, d, d, p);
        let mut t = vec![0.0; p * p];
        for a in 0..p {
            for b in 0..p {
                t[a * p + b] = (0..d).map(|r| q[r * p + a] * z[r * p + b]).sum();
            }
        }
        let (evals, evecs) = jacobi_eigen(&mut t, p);
        let mut order: Vec<usize> = (0..p).collect();
        order.sort_by(|&a, &b| evals[b].total_cmp(&evals[a]));
        let mut v = vec![0.0; d * k]; // d × k
        for (c, &e) in order.iter().take(k).enumerate() {
            for r in 0..d {
                v[r * k + c] = (0..p).map(|s| q[r * p + s] * evecs[s * p + e]).sum();
            }
            let big = (0..d)
                .max_by(|&a, &b| v[a * k + c].abs().total_cmp(&v[b * k + c].abs()))
                .unwrap_or(0);
            if v[big * k + c] < 0.0 {
                for r in 0..d {
                    v[r * k + c] = -v[r * k + c];
                }
            }
        }
        Ok(Pca {
            d,
            k,
            mean,
            basis: v,
        })
    }
}

/// Rows of `x` (row-major, `mean.len()` columns) minus `mean`.
fn centre(x: &[f64], mean: &[f64]) -> Vec<f64> {
    x.par_chunks(mean.len())
        .flat_map_iter(|r| r.iter().zip(mean).map(|(v, m)| v - m).collect::<Vec<_>>())
        .collect()
}

/// out (m × p) = a (m × d) · b (d × p), all row-major.
fn matmul(a: &[f64], b: &[f64], out: &mut [f64], m: usize, d: usize, p: usize) {
    // SAFETY: the slices hold m·d, d·p and m·p elements, row-major.
    debug_assert!(a.len() >= m * d && b.len() >= d * p && out.len() >= m * p);
    unsafe {
        matrixmultiply::dgemm(
            m,
            d,
            p,
            1.0,
            a.as_ptr(),
            d as isize,
            1,
            b.as_ptr(),
            p as isize,
            1,
            0.0,
            out.as_mut_ptr(),
            p as isize,
            1,
        );
    }
}

/// Modified Gram–Schmidt on the p columns of a d × p row-major matrix.
fn orthonormalize(q: &mut [f64], d: usize, p: usize) {
    for c in 0..p {
        for prev in 0..c {
            let dot: f64 = (0..d).map(|r| q[r * p + c] * q[r * p + prev]).sum();
            for r in 0..d {
                q[r * p + c] -= dot * q[r * p + prev];
            }
        }
        let norm = (0..d).map(|r| q[r * p + c].powi(2)).sum::<f64>().sqrt();
        let inv = if norm > 0.0 { 1.0 / norm } else { 0.0 };
        for r in 0..d {
            q[r * p + c] *= inv;
        }
    }
}

/// Cyclic Jacobi eigen-decomposition of a small symmetric matrix (row-major,
/// destroyed). Returns eigenvalues and eigenvectors as columns.
pub(crate) fn jacobi_eigen(a: &mut [f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; p * p];
    for i in 0..p {
        v[i * p + i] = 1.0;
    }
    for _ in 0..100 {
        let off: f64 = (0..p)
            .flat_map(|i| (0..p).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * p + j].powi(2))
            .sum();
        let diag: f64 = (0..p).map(|i| a[i * p + i].powi(2)).sum();
        if off <= 1e-30 * diag.max(1e-300) {
            break;
        }
        for i in 0..p {
            for j in i + 1..p {
                let aij = a[i * p + j];
                if aij == 0.0 {
                    continue;
                }
                let theta = (a[j * p + j] - a[i * p + i]) / (2.0 * aij);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for r in 0..p {
                    let (ari, arj) = (a[r * p + i], a[r * p + j]);
                    a[r * p + i] = c * ari - s * arj;
                    a[r * p + j] = s * ari + c * arj;
                }
                for r in 0..p {
                    let (air, ajr) = (a[i * p + r], a[j * p + r]);
                    a[i * p + r] = c * air - s * ajr;
                    a[j * p + r] = s * air + c * ajr;
                }
                for r in 0..p {
                    let (vri, vrj) = (v[r * p + i], v[r * p + j]);
                    v[r * p + i] = c * vri - s * vrj;
                    v[r * p + j] = s * vri + c * vrj;
                }
            }
        }
    }
    ((0..p).map(|i| a[i * p + i]).collect(), v)
}
