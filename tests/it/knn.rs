//! Points to graph: exact kNN against a naive reference, NN-descent recall,
//! perplexity calibration, PCA.

use crate::common::{self, dist2};

use sgtsne::knn::{self, DescentParams, Knn};
use sgtsne::points::Points;
use sgtsne::util::Rng;

/// Clustered points with some exact duplicates (ties at distance 0).
fn clustered(n: usize, d: usize, clusters: usize, seed: u64) -> Points {
    let mut rng = Rng::new(seed);
    let centres: Vec<Vec<f64>> = (0..clusters)
        .map(|_| (0..d).map(|_| 8.0 * rng.normal()).collect())
        .collect();
    let mut v = Vec::with_capacity(n * d);
    for i in 0..n {
        if i % 97 == 5 {
            let src = rng.below(i);
            let row: Vec<f64> = v[src * d..(src + 1) * d].to_vec();
            v.extend(row);
            continue;
        }
        let c = &centres[rng.below(clusters)];
        v.extend(c.iter().map(|m| m + rng.normal()));
    }
    Points::try_new(n, d, v).unwrap()
}

fn naive(p: &Points, k: usize) -> Knn {
    let n = p.n();
    let mut idx = Vec::with_capacity(n * k);
    let mut dist2 = Vec::with_capacity(n * k);
    for i in 0..n {
        let mut all: Vec<(f64, u32)> = (0..n)
            .filter(|&j| j != i)
            .map(|j| (true_dist2(p, i, j), j as u32))
            .collect();
        all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        for &(d, j) in &all[..k] {
            idx.push(j);
            dist2.push(d);
        }
    }
    Knn { n, k, idx, dist2 }
}

/// The squared distance between points i and j, summed plainly.
fn true_dist2(p: &Points, i: usize, j: usize) -> f64 {
    dist2(p.row(i), p.row(j))
}

fn recall(a: &Knn, b: &Knn) -> f64 {
    let mut hit = 0;
    for i in 0..a.n {
        let (x, _) = a.neighbors(i);
        let (y, _) = b.neighbors(i);
        hit += x.iter().filter(|j| y.contains(j)).count();
    }
    hit as f64 / (a.n * a.k) as f64
}

#[test]
fn exact_knn_equals_naive_reference() {
    // 1300 points: several query blocks and reference blocks, with remainders.
    for (d, k, seed) in [(1, 5, 1), (3, 12, 2), (17, 30, 3), (50, 1, 4)] {
        let p = clustered(1300, d, 6, seed);
        let got = knn::exact(&p, k);
        let want = naive(&p, k);
        for i in 0..p.n() {
            let (gi, gd) = got.neighbors(i);
            let (wi, wd) = want.neighbors(i);
            for t in 0..k {
                assert!(
                    (gd[t] - wd[t]).abs() <= 1e-12 * wd[t].max(1e-300),
                    "d={d} k={k} point {i} rank {t}: distance {} vs {}",
                    gd[t],
                    wd[t]
                );
            }
            // Each index carries its own distance, so indices may differ
            // from the reference only where true distances tie.
            for t in 0..k {
                let own = true_dist2(&p, i, gi[t] as usize);
                assert!(
                    (own - gd[t]).abs() <= 1e-12 * own.max(1e-300),
                    "d={d} k={k} point {i} rank {t}: neighbour {} is at {own}, listed at {}",
                    gi[t],
                    gd[t]
                );
                if gi[t] != wi[t] {
                    let near_tie = (own - wd[t]).abs() <= 1e-12 * wd[t].max(1e-300);
                    assert!(
                        near_tie,
                        "d={d} k={k} point {i} rank {t}: {} vs {}",
                        gi[t], wi[t]
                    );
                }
            }
        }
        assert!(recall(&got, &want) > 0.999, "d={d} k={k}");
    }
}

#[test]
fn exact_knn_far_from_origin_is_still_exact() {
    // A large offset would wreck ‖x‖² + ‖y‖² − 2x·y in f32 without centring.
    let p0 = clustered(600, 8, 3, 9);
    let shifted: Vec<f64> = p0.as_slice().iter().map(|v| v + 1e4).collect();
    let p = Points::try_new(600, 8, shifted).unwrap();
    let got = knn::exact(&p, 15);
    let want = naive(&p, 15);
    assert!(recall(&got, &want) > 0.999);
}

/// Neighbour sets do not depend on a global scale: points scaled by 1e20
/// (whose squares overflow f32) or by 1e-20 (whose squares underflow it)
/// find the neighbours of the unscaled points, exact and NN-descent alike.
#[test]
fn neighbours_do_not_depend_on_a_global_scale() {
    let p = clustered(5000, 10, 3, 21);
    let scaled =
        |f: f64| Points::try_new(5000, 10, p.as_slice().iter().map(|v| v * f).collect()).unwrap();
    let want = knn::exact(&p, 10);
    let params = DescentParams {
        seed: 3,
        ..Default::default()
    };
    let approx = knn::approx(&p, 10, &params);
    for f in [1e20, 1e-20] {
        let q = scaled(f);
        let got = knn::exact(&q, 10);
        assert!(
            recall(&got, &want) > 0.999,
            "exact, scale {f}: recall {}",
            recall(&got, &want)
        );
        let a = knn::approx(&q, 10, &params);
        let r = recall(&a, &approx);
        assert!(
            r > 0.99,
            "NN-descent, scale {f}: recall against unscaled {r}"
        );
    }
}

/// NN-descent against the brute force on seeded data of high intrinsic
/// dimension (the hard case: neighbours of neighbours help least): recall,
/// exact f64 distances, distinct neighbours, no self, nearest first, and
/// the same bytes on 1 and 3 threads, for several k.
#[test]
fn nn_descent_recall_and_thread_independence() {
    for (n, d, clusters, k, seed) in [(6000, 10, 20, 30, 11), (9000, 16, 6, 45, 12)] {
        let p = clustered(n, d, clusters, seed);
        let params = DescentParams {
            seed: 3,
            ..Default::default()
        };
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| knn::approx(&p, k, &params))
        };
        let a1 = run(1);
        let a3 = run(3);
        assert!(a1 == a3, "NN-descent result depends on the thread count");
        let want = knn::exact(&p, k);
        let r = recall(&a1, &want);
        assert!(
            r >= 0.97,
            "n={n} d={d} k={k}: NN-descent recall {r} below 0.97"
        );
        for i in 0..p.n() {
            let (idx, d2) = a1.neighbors(i);
            let mut seen = idx.to_vec();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), k, "point {i} lists a neighbour twice");
            for (t, (&j, &dd)) in idx.iter().zip(d2).enumerate() {
                assert_ne!(j as usize, i, "point {i} lists itself");
                if i % 37 == 0 {
                    let td = true_dist2(&p, i, j as usize);
                    assert!(
                        (td - dd).abs() <= 1e-9 * td.max(1e-300),
                        "distance of ({i}, {j})"
                    );
                }
                if t > 0 {
                    assert!(
                        (d2[t - 1], idx[t - 1]) < (dd, j),
                        "point {i}: neighbours not nearest first"
                    );
                }
            }
        }
        // The recall estimate the runs print agrees with the whole count,
        // and a planted miss lowers it.
        let est = knn::sampled_recall(&p, &a1, 1000, 5);
        assert!((est - r).abs() < 0.02, "sampled recall {est} against {r}");
        assert!(
            (knn::sampled_recall(&p, &want, 1000, 5) - 1.0).abs() < 1e-12,
            "the exact answer has recall 1"
        );
        let mut bad = want.clone();
        for i in 0..n {
            // Replace each point's nearest neighbour by its farthest point.
            let far = (0..n)
                .filter(|&j| j != i)
                .max_by(|&a, &b| true_dist2(&p, i, a).total_cmp(&true_dist2(&p, i, b)))
                .unwrap();
            if !bad.idx[i * k..(i + 1) * k].contains(&(far as u32)) {
                bad.idx[i * k] = far as u32;
                bad.dist2[i * k] = true_dist2(&p, i, far);
            }
            if i > 200 {
                break;
            }
        }
        let all = knn::sampled_recall(&p, &bad, n, 5);
        let by_hand = 1.0
            - (0..=201)
                .filter(|&i| bad.idx[i * k] != want.idx[i * k])
                .count() as f64
                / (n * k) as f64;
        assert!(
            (all - by_hand).abs() < 1e-12,
            "recall {all} against {by_hand}"
        );
    }
}

#[test]
fn perplexity_calibration_hits_the_entropy() {
    let mut rng = Rng::new(5);
    for u in [2.0, 5.0, 30.0, 50.0] {
        let k = (3.0 * u) as usize;
        for scale in [1e-3, 1.0, 1e4] {
            let d2: Vec<f64> = (0..k)
                .map(|_| scale * (0.5 + 3.0 * rng.uniform()).powi(2))
                .collect();
            let mut p = vec![0.0; k];
            knn::calibrate_row(&d2, u, &mut p);
            let s: f64 = p.iter().sum();
            assert!((s - 1.0).abs() < 1e-12);
            let h: f64 = -p
                .iter()
                .filter(|&&x| x > 0.0)
                .map(|x| x * x.ln())
                .sum::<f64>();
            assert!(
                (h - u.ln()).abs() < knn::PERPLEXITY_TOL,
                "u={u} scale={scale}: H = {h}, ln u = {}",
                u.ln()
            );
            // Nearer neighbours get more weight.
            for a in 0..k {
                for b in 0..k {
                    if d2[a] < d2[b] {
                        assert!(p[a] >= p[b]);
                    }
                }
            }
        }
    }
}

#[test]
fn perplexity_graph_columns_are_conditional_distributions() {
    let p = clustered(500, 5, 4, 2);
    let k = knn::neighbours_for_perplexity(p.n(), 10.0);
    assert_eq!(k, 30);
    let g = knn::exact(&p, k);
    let cal = knn::perplexity_graph(&g, 10.0).unwrap();
    assert_eq!(cal.not_converged, 0);
    let mut sums = vec![0.0; p.n()];
    for t in 0..cal.coo.vals.len() {
        sums[cal.coo.cols[t] as usize] += cal.coo.vals[t];
        assert_ne!(cal.coo.rows[t], cal.coo.cols[t]);
    }
    for s in sums {
        assert!((s - 1.0).abs() < 1e-12);
    }
    // Tiny N: k is capped at N - 1.
    assert_eq!(knn::neighbours_for_perplexity(5, 30.0), 4);
}

#[test]
#[allow(clippy::needless_range_loop)]
fn pca_finds_the_principal_axes() {
    // Anisotropic Gaussian in 6-D, rotated by a random orthogonal matrix.
    let d = 6;
    let scales = [10.0, 5.0, 3.0, 1.0, 0.5, 0.1];
    let mut rng = Rng::new(8);
    let mut q: Vec<Vec<f64>> = (0..d)
        .map(|_| (0..d).map(|_| rng.normal()).collect())
        .collect();
    for c in 0..d {
        for p in 0..c {
            let dot: f64 = (0..d).map(|r| q[c][r] * q[p][r]).sum();
            for r in 0..d {
                q[c][r] -= dot * q[p][r];
            }
        }
        let nrm: f64 = q[c].iter().map(|v| v * v).sum::<f64>().sqrt();
        q[c].iter_mut().for_each(|v| *v /= nrm);
    }
    let n = 20000;
    let mut data = Vec::with_capacity(n * d);
    for _ in 0..n {
        let z: Vec<f64> = scales.iter().map(|s| s * rng.normal()).collect();
        for r in 0..d {
            data.push(3.0 + (0..d).map(|c| z[c] * q[c][r]).sum::<f64>());
        }
    }
    let p = Points::try_new(n, d, data).unwrap();
    let y = sgtsne::pca::pca(&p, 2).unwrap();
    assert_eq!((y.n(), y.d()), (n, 2));
    let var = |c: usize| (0..n).map(|i| y.row(i)[c].powi(2)).sum::<f64>() / n as f64;
    let cov = (0..n).map(|i| y.row(i)[0] * y.row(i)[1]).sum::<f64>() / n as f64;
    let mean0 = (0..n).map(|i| y.row(i)[0]).sum::<f64>() / n as f64;
    assert!(mean0.abs() < 1e-9, "projection is not centred: {mean0}");
    assert!((var(0) / 100.0 - 1.0).abs() < 0.05, "var 0 = {}", var(0));
    assert!((var(1) / 25.0 - 1.0).abs() < 0.05, "var 1 = {}", var(1));
    assert!(
        cov.abs() < 1e-6 * var(0),
        "components are correlated: {cov}"
    );
    assert!(sgtsne::pca::pca(&p, 6).is_err());
}

/// Queries against a reference set: the k nearest references of every
/// query, against the brute force, for queries apart from the references
/// and equal to some of them (found at distance 0).
#[test]
fn exact_query_equals_brute_force() {
    for (d, k) in [(1, 4), (7, 25), (50, 10)] {
        let reference = clustered(1100, d, 5, 21);
        let mut q = clustered(300, d, 5, 22).as_slice().to_vec();
        q.extend_from_slice(&reference.as_slice()[..20 * d]);
        let queries = Points::try_new(320, d, q).unwrap();
        let got = knn::exact_query(&reference, &queries, k);
        assert_eq!((got.n, got.k), (320, k));
        for i in 0..queries.n() {
            let mut all: Vec<(f64, u32)> = (0..reference.n())
                .map(|j| (dist2(queries.row(i), reference.row(j)), j as u32))
                .collect();
            all.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let (gi, gd) = got.neighbors(i);
            for t in 0..k {
                let own = dist2(queries.row(i), reference.row(gi[t] as usize));
                assert!(
                    (own - gd[t]).abs() <= 1e-12 * own.max(1e-300),
                    "d={d} query {i} rank {t}"
                );
                assert!(
                    (gd[t] - all[t].0).abs() <= 1e-12 * all[t].0.max(1e-300),
                    "d={d} query {i} rank {t}: {} vs {}",
                    gd[t],
                    all[t].0
                );
            }
            if i >= 300 {
                // A copy of a reference point finds it (or an equal one).
                assert_eq!(gd[0], 0.0, "d={d} query {i}");
                assert_eq!(reference.row(gi[0] as usize), queries.row(i));
            }
        }
    }
}

/// Graph-guided queries (a model's transform): against the brute force,
/// the neighbours found are the true ones for nearly every query, each
/// with its true distance, nearest first, no point twice; a query equal to
/// a reference point finds it. Queries from the reference's distribution
/// reach recall 0.97 or more (by distance; measured 0.993 to 1); queries
/// beside clusters the reference does not have, whose nearest cluster's
/// component the tree need not lead to, 0.9 (measured 0.968 to 1; 0.41 in
/// 7 dimensions before every component got an entry point). A query's
/// result depends only on the index and itself: any batch, any thread
/// count, the same bits; and the same seed builds the same index.
#[test]
fn graph_guided_queries_find_the_true_neighbours() {
    for (d, k, gk) in [(1, 4, 6), (7, 25, 15), (50, 10, 15)] {
        let all = clustered(3400, d, 6, 31);
        let reference = Points::try_new(3000, d, all.as_slice()[..3000 * d].to_vec()).unwrap();
        let mut q = all.as_slice()[3000 * d..].to_vec();
        q.extend_from_slice(clustered(200, d, 6, 32).as_slice());
        q.extend_from_slice(&reference.as_slice()[..20 * d]);
        let queries = Points::try_new(620, d, q).unwrap();
        let own = knn::exact(&reference, gk);
        let graph = knn::SearchGraph::from_knn(&own, gk);
        let index = knn::QueryIndex::new(&reference, &graph, 3).unwrap();
        let p = knn::QueryParams::default();
        let got = common::with_threads(1, || index.query(&queries, k, &p));
        let truth = knn::exact_query(&reference, &queries, k);
        let (mut hit, mut hit_far) = (0, 0);
        for i in 0..queries.n() {
            let (gi, gd) = got.neighbors(i);
            let kth = truth.neighbors(i).1[k - 1];
            for t in 0..k {
                let dd = dist2(queries.row(i), reference.row(gi[t] as usize));
                assert!(
                    (dd - gd[t]).abs() <= 1e-12 * dd.max(1e-300),
                    "d={d} query {i} rank {t}: {} is not its distance {dd}",
                    gd[t]
                );
                if t > 0 {
                    assert!(gd[t] >= gd[t - 1], "d={d} query {i}: not sorted");
                }
            }
            let mut seen = gi.to_vec();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), k, "d={d} query {i}: a neighbour twice");
            let found = gd.iter().filter(|&&x| x <= kth).count();
            if (400..600).contains(&i) {
                hit_far += found;
            } else {
                hit += found;
            }
            if i >= 600 {
                assert_eq!(gd[0], 0.0, "d={d} query {i}: its own copy missed");
            }
        }
        let r = hit as f64 / (420 * k) as f64;
        let r_far = hit_far as f64 / (200 * k) as f64;
        assert!(
            r >= 0.97 && r_far >= 0.9,
            "d={d}: recall {r}, beside {r_far}"
        );
        // Batch and thread invariance; the same index from the same seed.
        let part = Points::try_new(50, d, queries.as_slice()[100 * d..150 * d].to_vec()).unwrap();
        let again = knn::QueryIndex::new(&reference, &graph, 3).unwrap();
        let some = common::with_threads(3, || again.query(&part, k, &p));
        assert_eq!(&some.idx[..], &got.idx[100 * k..150 * k], "d={d}");
        assert_eq!(&some.dist2[..], &got.dist2[100 * k..150 * k], "d={d}");
        assert_eq!(
            common::with_threads(2, || index.query(&queries, k, &p)),
            got,
            "d={d}"
        );
    }
}

/// Degenerate references: all points equal (no hyperplane separates them),
/// and k equal to the number of reference points.
#[test]
fn graph_guided_queries_on_degenerate_references() {
    let d = 3;
    let same = Points::try_new(500, d, vec![1.5; 500 * d]).unwrap();
    let g = knn::SearchGraph::from_knn(&knn::exact(&same, 8), 8);
    let index = knn::QueryIndex::new(&same, &g, 1).unwrap();
    let q = Points::try_new(2, d, vec![1.5, 1.5, 1.5, 0.0, 0.0, 0.0]).unwrap();
    let got = index.query(&q, 5, &knn::QueryParams::default());
    assert_eq!(got.neighbors(0).1, &[0.0; 5]);
    assert_eq!(got.neighbors(1).1, &[6.75; 5]);
    let small = clustered(40, 2, 2, 4);
    let g = knn::SearchGraph::from_knn(&knn::exact(&small, 39), 39);
    let index = knn::QueryIndex::new(&small, &g, 1).unwrap();
    let q = clustered(5, 2, 2, 5);
    let got = index.query(&q, 40, &knn::QueryParams::default());
    let truth = knn::exact_query(&small, &q, 40);
    assert_eq!(got.dist2, truth.dist2);
    // A graph of other points, or with an index out of range, is refused.
    assert!(knn::QueryIndex::new(
        &small,
        &knn::SearchGraph::from_knn(&knn::exact(&same, 2), 2),
        1
    )
    .is_err());
    assert!(knn::SearchGraph::try_new(3, 1, vec![0, 1, 3]).is_err());
    assert!(knn::SearchGraph::try_new(3, 2, vec![0, 1, 2]).is_err());
}
