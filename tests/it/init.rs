//! Informative starts (SPEC §10): the spectral start's eigenvectors against
//! a dense eigensolver (connected, and with three components and isolated
//! vertices), its independence from the thread count, the layout of
//! components, and the PCA start against the data's covariance.

use crate::common;

use sgtsne::graph::{Coo, StochasticGraph};
use sgtsne::points::Points;
use sgtsne::spectral::{eigenmaps, Options, DENSE_MAX};
use sgtsne::util::Rng;

/// Cyclic Jacobi on a dense symmetric matrix (the oracle, written apart
/// from the library's): eigenvalues and eigenvectors (columns).
fn jacobi(a: &mut [f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..60 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .filter(|(i, j)| i != j)
            .map(|(i, j)| a[i * n + j] * a[i * n + j])
            .sum();
        if off < 1e-26 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// A kNN-like graph on `sizes.len()` separate point clouds (each
/// connected), then `isolated` vertices with no edges.
fn clustered_graph(sizes: &[usize], isolated: usize, seed: u64) -> StochasticGraph {
    let mut rng = Rng::new(seed);
    let n: usize = sizes.iter().sum::<usize>() + isolated;
    let mut coo = Coo {
        n,
        ..Default::default()
    };
    let mut base = 0;
    for &m in sizes {
        let pts: Vec<[f64; 2]> = (0..m).map(|_| [rng.normal(), rng.normal()]).collect();
        for i in 0..m {
            // A chain keeps the cloud connected; the 5 nearest add structure.
            if i + 1 < m {
                coo.rows.push((base + i + 1) as u32);
                coo.cols.push((base + i) as u32);
                coo.vals.push(0.2);
            }
            let mut d: Vec<(f64, usize)> = (0..m)
                .filter(|&j| j != i)
                .map(|j| (sgtsne::util::dist2(&pts[i], &pts[j]), j))
                .collect();
            d.sort_by(|a, b| a.0.total_cmp(&b.0));
            for &(d2, j) in d.iter().take(5) {
                coo.rows.push((base + j) as u32);
                coo.cols.push((base + i) as u32);
                coo.vals.push((-d2).exp() + 0.05 * rng.uniform());
            }
        }
        base += m;
    }
    StochasticGraph::from_coo(&coo, 1.0).unwrap().0
}

/// The oracle's top `k` non-trivial eigenpairs of S on the vertices `vs`.
fn dense_pairs(g: &StochasticGraph, vs: &[u32], k: usize) -> (Vec<f64>, Vec<Vec<f64>>) {
    let m = vs.len();
    let deg: Vec<f64> = (0..g.n()).map(|i| g.row(i).1.iter().sum()).collect();
    let pos = |v: u32| vs.iter().position(|&x| x == v).unwrap();
    let mut a = vec![0.0; m * m];
    for (r, &v) in vs.iter().enumerate() {
        let (c, w) = g.row(v as usize);
        for (&j, &p) in c.iter().zip(w) {
            a[r * m + pos(j)] += p / (deg[v as usize] * deg[j as usize]).sqrt();
        }
    }
    let (vals, vecs) = jacobi(&mut a, m);
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&x, &y| vals[y].total_cmp(&vals[x]));
    assert!(
        (vals[order[0]] - 1.0).abs() < 1e-10,
        "top eigenvalue {}",
        vals[order[0]]
    );
    let top = &order[1..=k];
    (
        top.iter().map(|&i| vals[i]).collect(),
        top.iter()
            .map(|&i| (0..m).map(|r| vecs[r * m + i]).collect())
            .collect(),
    )
}

fn check_against_dense(g: &StochasticGraph, k: usize, want_components: usize) {
    let opts = Options {
        tol: 1e-10,
        max_steps: 1000,
        seed: 3,
    };
    let maps = eigenmaps(g, k, &opts);
    assert_eq!(maps.components.len(), want_components);
    for comp in &maps.components {
        assert!(
            comp.converged,
            "component of {} did not converge",
            comp.vertices.len()
        );
        let kk = k.min(comp.vertices.len() - 1);
        let (vals, vecs) = dense_pairs(g, &comp.vertices, kk);
        assert_eq!(comp.values.len(), kk);
        for c in 0..kk {
            assert!(
                (comp.values[c] - vals[c]).abs() < 1e-9,
                "eigenvalue {c}: {} vs dense {}",
                comp.values[c],
                vals[c]
            );
            let dot: f64 = comp.vectors[c]
                .iter()
                .zip(&vecs[c])
                .map(|(a, b)| a * b)
                .sum();
            assert!(
                dot.abs() > 1.0 - 1e-8,
                "eigenvector {c} of a component of {}: |cos| = {}",
                comp.vertices.len(),
                dot.abs()
            );
        }
    }
}

#[test]
fn spectral_eigenvectors_match_a_dense_solver_on_a_connected_graph() {
    let g = clustered_graph(&[300], 0, 1);
    const { assert!(300 > DENSE_MAX, "the Lanczos path must be exercised") };
    for k in 1..=3 {
        check_against_dense(&g, k, 1);
    }
}

#[test]
fn spectral_eigenvectors_match_a_dense_solver_on_three_components() {
    // Two components on the Lanczos path, one on the dense path, and
    // isolated vertices.
    let g = clustered_graph(&[150, 120, 40], 3, 2);
    let maps = eigenmaps(&g, 2, &Options::default());
    assert_eq!(maps.isolated.len(), 3);
    let sizes: Vec<usize> = maps.components.iter().map(|c| c.vertices.len()).collect();
    assert_eq!(sizes, vec![150, 120, 40]);
    check_against_dense(&g, 3, 3);
}

#[test]
fn spectral_start_is_scaled_apart_and_thread_independent() {
    // 2 × 4096 + 100 vertices: several data chunks per component.
    let g = clustered_graph(&[4200, 4000, 100], 2, 5);
    let n = g.n();
    for dim in 1..=3 {
        let one = common::with_threads(1, || sgtsne::init::spectral(&g, dim, 9).unwrap());
        let three = common::with_threads(3, || sgtsne::init::spectral(&g, dim, 9).unwrap());
        assert_eq!(
            one.0, three.0,
            "d={dim}: the start depends on the thread count"
        );
        let (y, report) = one;
        assert_eq!((report.components, report.isolated), (3, 2));
        assert!(y.iter().all(|v| v.is_finite()));
        // First coordinate's standard deviation 1e-4, centred.
        let col: Vec<f64> = (0..n).map(|i| y[i * dim]).collect();
        let mean = col.iter().sum::<f64>() / n as f64;
        let sd = (col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!(
            mean.abs() < 1e-12 && (sd - 1e-4).abs() < 1e-12,
            "mean {mean}, sd {sd}"
        );
        // Components' bounding boxes do not overlap in some axis.
        let bbox = |r: std::ops::Range<usize>| {
            let mut lo = [f64::INFINITY; 3];
            let mut hi = [f64::NEG_INFINITY; 3];
            for i in r {
                for a in 0..dim {
                    lo[a] = lo[a].min(y[i * dim + a]);
                    hi[a] = hi[a].max(y[i * dim + a]);
                }
            }
            (lo, hi)
        };
        let boxes = [bbox(0..4200), bbox(4200..8200), bbox(8200..8300)];
        for a in 0..3 {
            for b in a + 1..3 {
                let apart = (0..dim)
                    .any(|k| boxes[a].1[k] < boxes[b].0[k] || boxes[b].1[k] < boxes[a].0[k]);
                assert!(apart, "d={dim}: components {a} and {b} overlap");
            }
        }
    }
}

#[test]
fn pca_start_follows_the_covariance() {
    let (n, d) = (600, 5);
    let mut rng = Rng::new(4);
    // Anisotropic Gaussian: scales 5, 3, 2, 1, 0.5 on a rotated basis.
    let scales = [5.0, 3.0, 2.0, 1.0, 0.5];
    // A Householder reflection I − 2uuᵀ (orthogonal) mixes the axes, so
    // the covariance's eigenvalues stay well apart (about scale²).
    let mut u: Vec<f64> = (0..d).map(|_| rng.normal()).collect();
    let un = u.iter().map(|x| x * x).sum::<f64>().sqrt();
    u.iter_mut().for_each(|x| *x /= un);
    let mut data = vec![0.0; n * d];
    for i in 0..n {
        let z: Vec<f64> = scales.iter().map(|s| s * rng.normal()).collect();
        let uz: f64 = u.iter().zip(&z).map(|(a, b)| a * b).sum();
        for a in 0..d {
            data[i * d + a] = z[a] - 2.0 * u[a] * uz + 1.0;
        }
    }
    let pts = Points::try_new(n, d, data.clone()).unwrap();
    // The oracle: the covariance's eigenvectors by Jacobi.
    let mean: Vec<f64> = (0..d)
        .map(|a| (0..n).map(|i| data[i * d + a]).sum::<f64>() / n as f64)
        .collect();
    let mut cov = vec![0.0; d * d];
    for i in 0..n {
        for a in 0..d {
            for b in 0..d {
                cov[a * d + b] += (data[i * d + a] - mean[a]) * (data[i * d + b] - mean[b]);
            }
        }
    }
    let (vals, vecs) = jacobi(&mut cov, d);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&x, &y| vals[y].total_cmp(&vals[x]));
    for dim in 1..=3 {
        let y = sgtsne::init::pca(&pts, dim, 1).unwrap();
        for c in 0..dim {
            let e = order[c];
            let mut v: Vec<f64> = (0..d).map(|a| vecs[a * d + e]).collect();
            // SPEC §10: the largest-magnitude loading is positive.
            let big = (0..d)
                .max_by(|&a, &b| v[a].abs().total_cmp(&v[b].abs()))
                .unwrap();
            if v[big] < 0.0 {
                v.iter_mut().for_each(|x| *x = -*x);
            }
            let proj: Vec<f64> = (0..n)
                .map(|i| (0..d).map(|a| (data[i * d + a] - mean[a]) * v[a]).sum())
                .collect();
            let got: Vec<f64> = (0..n).map(|i| y[i * dim + c]).collect();
            // got = s · proj with s > 0 (the common scale), up to the tiny
            // seeded jitter a start never has here (no flat axis).
            let s = got.iter().zip(&proj).map(|(a, b)| a * b).sum::<f64>()
                / proj.iter().map(|b| b * b).sum::<f64>();
            assert!(s > 0.0, "d={dim} axis {c}: wrong sign");
            let resid = got
                .iter()
                .zip(&proj)
                .map(|(a, b)| (a - s * b).abs())
                .fold(0.0, f64::max);
            assert!(
                resid < 1e-12,
                "d={dim} axis {c}: off the principal axis by {resid}"
            );
        }
        let col0: Vec<f64> = (0..n).map(|i| y[i * dim]).collect();
        let m0 = col0.iter().sum::<f64>() / n as f64;
        let sd = (col0.iter().map(|v| (v - m0).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!((sd - 1e-4).abs() < 1e-12, "sd {sd}");
    }
}

#[test]
fn points_default_to_pca_and_graphs_to_spectral() {
    use sgtsne::{Embedder, Init};
    let e = Embedder::new(2);
    assert_eq!(e.plan(100).unwrap().init, Init::Spectral);
    assert_eq!(e.plan_points(100).unwrap().init, Init::Pca);
    assert_eq!(
        e.clone().init(Init::Random).plan_points(100).unwrap().init,
        Init::Random
    );
    // A PCA start without points is refused with a message naming it.
    let g = common::random_graph(50, 2, 5, 1);
    let err = e.init(Init::Pca).session(&g, None).err().expect("refused");
    assert!(err.to_string().contains("init"), "{err}");
}
