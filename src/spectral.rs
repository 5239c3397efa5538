//! Laplacian eigenmaps of a stochastic graph (SPEC §10): the leading
//! non-trivial eigenvectors of S = D^(−1/2) P D^(−1/2), D the row sums of
//! the symmetric P, mapped back by D^(−1/2).
//!
//! Each connected component is solved on its own, so a disconnected graph
//! never meets the degenerate eigenvalue 1 of multiplicity "components".
//! Components of at most [`DENSE_MAX`] vertices use a dense Jacobi solver;
//! larger ones Lanczos with full reorthogonalisation and the trivial
//! eigenvector D^(1/2)·1 deflated. Every reduction is chunked by the data
//! and combined in a fixed order, so the result does not depend on the
//! thread count.
//!
//! The start of a run needs the shape, not digits: [`Eigenmaps`] stops at
//! a loose residual or a step cap (which bounds time and memory) and says
//! whether it converged. The default cap, 60 steps, keeps the start under
//! 4% of a default run on the Fashion-MNIST graph (0.55 s of 15 s; 80
//! steps to a residual of 1e-3 took 0.8 s and gave the same KL).

use rayon::prelude::*;

use crate::graph::StochasticGraph;
use crate::util::{Rng, CHUNK};

/// Largest component solved densely.
pub const DENSE_MAX: usize = 64;

/// How hard to solve.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Residual ‖S x − θ x‖ (x of unit norm) at which an eigenpair counts
    /// as converged.
    pub tol: f64,
    /// Largest Krylov dimension (also bounded by memory: see
    /// [`Options::steps_for`]).
    pub max_steps: usize,
    /// Seed of the Lanczos start vector.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tol: 1e-3,
            max_steps: 60,
            seed: 1,
        }
    }
}

/// Bytes the Lanczos basis may take.
pub const BASIS_BYTES: usize = 256 << 20;

impl Options {
    /// Krylov steps for a component of `n` vertices: the cap, the
    /// component's size and the basis's memory.
    pub fn steps_for(&self, n: usize) -> usize {
        let by_memory = (BASIS_BYTES / (8 * n.max(1))).max(16);
        self.max_steps.min(n.saturating_sub(1)).min(by_memory)
    }
}

/// The eigenvectors of one connected component.
#[derive(Clone, Debug)]
pub struct Component {
    /// Its vertices, ascending.
    pub vertices: Vec<u32>,
    /// The leading non-trivial eigenvalues of S on it, descending (at most
    /// min(k, size − 1)).
    pub values: Vec<f64>,
    /// The matching eigenvectors of S (unit norm, one per value, entries
    /// in the order of `vertices`), not yet mapped back by D^(−1/2).
    pub vectors: Vec<Vec<f64>>,
    /// Whether every residual reached the tolerance.
    pub converged: bool,
    /// Krylov steps taken (0 for a dense solve).
    pub steps: usize,
}

/// The components of a graph with their eigenvectors.
#[derive(Clone, Debug)]
pub struct Eigenmaps {
    /// Components of two or more vertices, largest first (ties: by first
    /// vertex).
    pub components: Vec<Component>,
    /// Vertices without edges.
    pub isolated: Vec<u32>,
    /// Row sums of P.
    pub degree: Vec<f64>,
}

/// The leading `k` non-trivial eigenpairs of S on each component of `g`.
pub fn eigenmaps(g: &StochasticGraph, k: usize, opts: &Options) -> Eigenmaps {
    let n = g.n();
    let degree: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| g.row(i).1.iter().sum())
        .collect();
    let isd: Vec<f64> = degree
        .iter()
        .map(|&d| if d > 0.0 { 1.0 / d.sqrt() } else { 0.0 })
        .collect();
    let (label, count) = crate::util::components(g.n(), |i| g.row(i).0);
    let mut members: Vec<Vec<u32>> = vec![Vec::new(); count];
    let mut isolated = Vec::new();
    for i in 0..n {
        if degree[i] > 0.0 {
            members[label[i] as usize].push(i as u32);
        } else {
            isolated.push(i as u32);
        }
    }
    members.retain(|m| m.len() >= 2);
    members.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    let components = members
        .into_iter()
        .map(|vertices| {
            let op = Operator {
                g,
                isd: &isd,
                vertices: &vertices,
                local: if vertices.len() == n {
                    None
                } else {
                    let mut l = vec![u32::MAX; n];
                    for (r, &v) in vertices.iter().enumerate() {
                        l[v as usize] = r as u32;
                    }
                    Some(l)
                },
            };
            let u0: Vec<f64> = {
                let s: Vec<f64> = vertices
                    .iter()
                    .map(|&v| degree[v as usize].sqrt())
                    .collect();
                let norm = dot(&s, &s).sqrt();
                s.iter().map(|x| x / norm).collect()
            };
            let want = k.min(vertices.len() - 1);
            let (values, vectors, converged, steps) = if vertices.len() <= DENSE_MAX {
                let (v, x) = dense(&op, &u0, want);
                (v, x, true, 0)
            } else {
                lanczos(&op, &u0, want, opts)
            };
            Component {
                vertices,
                values,
                vectors,
                converged,
                steps,
            }
        })
        .collect();
    Eigenmaps {
        components,
        isolated,
        degree,
    }
}

/// S restricted to one component, in the component's local numbering.
struct Operator<'a> {
    g: &'a StochasticGraph,
    isd: &'a [f64],
    vertices: &'a [u32],
    /// Global → local index, when the component is not the whole graph.
    local: Option<Vec<u32>>,
}

impl Operator<'_> {
    fn len(&self) -> usize {
        self.vertices.len()
    }

    /// out = S x; `scaled` is scratch of x's length (D^(−1/2) x, so the
    /// product reads one vector per entry).
    fn apply(&self, x: &[f64], scaled: &mut [f64], out: &mut [f64]) {
        scaled
            .par_iter_mut()
            .zip(x.par_iter())
            .enumerate()
            .for_each(|(r, (s, &xr))| *s = xr * self.isd[self.vertices[r] as usize]);
        let scaled = &*scaled;
        out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
            for (k, oi) in o.iter_mut().enumerate() {
                let v = self.vertices[c * CHUNK + k] as usize;
                let (cols, vals) = self.g.row(v);
                let mut s = 0.0;
                match &self.local {
                    Some(l) => {
                        for (&j, &p) in cols.iter().zip(vals) {
                            s += p * scaled[l[j as usize] as usize];
                        }
                    }
                    None => {
                        for (&j, &p) in cols.iter().zip(vals) {
                            s += p * scaled[j as usize];
                        }
                    }
                }
                *oi = s * self.isd[v];
            }
        });
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    crate::util::fixed_sum_by(a.len(), |i| a[i] * b[i])
}

/// Dense path: S as a matrix, Jacobi, the trivial vector projected out.
fn dense(op: &Operator, u0: &[f64], want: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let m = op.len();
    let mut a = vec![0.0; m * m];
    let mut e = vec![0.0; m];
    let mut col = vec![0.0; m];
    let mut scratch = vec![0.0; m];
    for c in 0..m {
        e.iter_mut().for_each(|x| *x = 0.0);
        e[c] = 1.0;
        op.apply(&e, &mut scratch, &mut col);
        for r in 0..m {
            a[r * m + c] = col[r];
        }
    }
    // Deflate: S − 2·u0 u0ᵀ moves the trivial eigenvalue 1 to −1, below
    // every eigenvalue we want, and keeps the others and their vectors.
    for r in 0..m {
        for c in 0..m {
            a[r * m + c] -= 2.0 * u0[r] * u0[c];
        }
    }
    let (vals, vecs) = crate::pca::jacobi_eigen(&mut a, m);
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&x, &y| vals[y].total_cmp(&vals[x]).then(x.cmp(&y)));
    let top = &order[..want];
    (
        top.iter().map(|&i| vals[i]).collect(),
        top.iter()
            .map(|&i| (0..m).map(|r| vecs[r * m + i]).collect())
            .collect(),
    )
}

/// Lanczos on S with u0 deflated; returns the top `want` Ritz pairs.
fn lanczos(
    op: &Operator,
    u0: &[f64],
    want: usize,
    opts: &Options,
) -> (Vec<f64>, Vec<Vec<f64>>, bool, usize) {
    let n = op.len();
    let max_steps = opts.steps_for(n).max(want + 1).min(n - 1);
    let mut rng = Rng::new(opts.seed ^ 0x05be_c7a1);
    let mut v0: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
    let mut basis: Vec<Vec<f64>> = vec![u0.to_vec()];
    reorthogonalise(&mut v0, &basis);
    let norm = dot(&v0, &v0).sqrt();
    v0.iter_mut().for_each(|x| *x /= norm);
    basis.push(v0);
    let (mut alpha, mut beta): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    let mut w = vec![0.0; n];
    let mut scratch = vec![0.0; n];
    let mut result = None;
    let mut converged = false;
    loop {
        let j = alpha.len(); // current vector: basis[j + 1]
        op.apply(&basis[j + 1], &mut scratch, &mut w);
        if j > 0 {
            let b = beta[j - 1];
            let prev = &basis[j];
            w.par_iter_mut()
                .zip(prev.par_iter())
                .for_each(|(x, p)| *x -= b * p);
        }
        let a = dot(&w, &basis[j + 1]);
        {
            let cur = &basis[j + 1];
            w.par_iter_mut()
                .zip(cur.par_iter())
                .for_each(|(x, c)| *x -= a * c);
        }
        alpha.push(a);
        reorthogonalise(&mut w, &basis);
        let b = dot(&w, &w).sqrt();
        let steps = alpha.len();
        let invariant = b <= 1e-10 * a.abs().max(1.0);
        let done = invariant || steps >= max_steps;
        if steps >= want && (done || steps % 5 == 0) {
            let (vals, z) = tridiagonal_eigen(&alpha, &beta);
            let mut order: Vec<usize> = (0..steps).collect();
            order.sort_by(|&x, &y| vals[y].total_cmp(&vals[x]).then(x.cmp(&y)));
            let top: Vec<usize> = order[..want].to_vec();
            let ok = invariant
                || top
                    .iter()
                    .all(|&i| (b * z[(steps - 1) * steps + i]).abs() <= opts.tol);
            if ok || done {
                converged = ok;
                result = Some((vals, z, top));
            }
        }
        if let Some((vals, z, top)) = result {
            let m = alpha.len();
            let vectors = top
                .iter()
                .map(|&i| {
                    let mut x = vec![0.0; n];
                    x.par_chunks_mut(CHUNK).enumerate().for_each(|(c, xc)| {
                        for (k, xi) in xc.iter_mut().enumerate() {
                            let r = c * CHUNK + k;
                            let mut s = 0.0;
                            for l in 0..m {
                                s += z[l * m + i] * basis[l + 1][r];
                            }
                            *xi = s;
                        }
                    });
                    let norm = dot(&x, &x).sqrt();
                    x.iter_mut().for_each(|v| *v /= norm);
                    x
                })
                .collect();
            return (
                top.iter().map(|&i| vals[i]).collect(),
                vectors,
                converged,
                m,
            );
        }
        beta.push(b);
        let next: Vec<f64> = w.iter().map(|x| x / b).collect();
        basis.push(next);
    }
}

/// w ← w − Σ (w·q) q over the basis (classical Gram–Schmidt), repeated
/// once when the first pass removed most of w, where rounding leaves it
/// short of orthogonal (the Daniel–Gragg–Kaufman–Stewart test; "twice is
/// enough"). Coefficients are summed per chunk of rows in a fixed order.
fn reorthogonalise(w: &mut [f64], basis: &[Vec<f64>]) {
    let m = basis.len();
    let before = dot(w, w);
    for pass in 0..2 {
        if pass == 1 && dot(w, w) > 0.5 * before {
            break;
        }
        let parts: Vec<Vec<f64>> = w
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(c, wc)| {
                let r0 = c * CHUNK;
                basis
                    .iter()
                    .map(|q| {
                        let mut s = 0.0;
                        for (k, x) in wc.iter().enumerate() {
                            s += x * q[r0 + k];
                        }
                        s
                    })
                    .collect()
            })
            .collect();
        let mut h = vec![0.0; m];
        for p in &parts {
            for (a, b) in h.iter_mut().zip(p) {
                *a += b;
            }
        }
        w.par_chunks_mut(CHUNK).enumerate().for_each(|(c, wc)| {
            let r0 = c * CHUNK;
            for (q, &hq) in basis.iter().zip(&h) {
                for (k, x) in wc.iter_mut().enumerate() {
                    *x -= hq * q[r0 + k];
                }
            }
        });
    }
}

/// Eigen-decomposition of the symmetric tridiagonal matrix with diagonal
/// `d` and off-diagonal `e` (implicit QL with Wilkinson shifts). Returns
/// the eigenvalues and the eigenvectors as the columns of an m × m
/// row-major matrix.
pub fn tridiagonal_eigen(d: &[f64], e: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let m = d.len();
    let mut d = d.to_vec();
    let mut e: Vec<f64> = e
        .iter()
        .copied()
        .chain(std::iter::repeat(0.0))
        .take(m)
        .collect();
    let mut z = vec![0.0; m * m];
    for i in 0..m {
        z[i * m + i] = 1.0;
    }
    for l in 0..m {
        let mut iter = 0;
        loop {
            let mut mm = l;
            while mm + 1 < m {
                let dd = d[mm].abs() + d[mm + 1].abs();
                if e[mm].abs() <= f64::EPSILON * dd {
                    break;
                }
                mm += 1;
            }
            if mm == l || iter >= 64 {
                break;
            }
            iter += 1;
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = g.hypot(1.0);
            g = d[mm] - d[l] + e[l] / (g + if g >= 0.0 { r.abs() } else { -r.abs() });
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut i = mm;
            let mut underflow = false;
            while i > l {
                i -= 1;
                let f = s * e[i];
                let b = c * e[i];
                r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= p;
                    e[mm] = 0.0;
                    underflow = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                for k in 0..m {
                    let zk = &mut z[k * m..(k + 1) * m];
                    let f = zk[i + 1];
                    zk[i + 1] = s * zk[i] + c * f;
                    zk[i] = c * zk[i] - s * f;
                }
            }
            if underflow {
                continue;
            }
            d[l] -= p;
            e[l] = g;
            e[mm] = 0.0;
        }
    }
    (d, z)
}
