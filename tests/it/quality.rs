//! The quality measures of the report against brute force written here:
//! the low-dimensional exact neighbour search, 10-NN preservation for
//! points and for graphs.

use crate::common;

use sgtsne::knn::{exact, exact_low_dim};
use sgtsne::points::Points;
use sgtsne::quality::{graph_preservation, preservation};
use sgtsne::util::Rng;

/// Brute-force k nearest (self excluded), ties to the smaller index.
fn brute(p: &Points, i: usize, k: usize) -> Vec<u32> {
    let mut d: Vec<(f64, u32)> = (0..p.n())
        .filter(|&j| j != i)
        .map(|j| (crate::common::dist2(p.row(i), p.row(j)), j as u32))
        .collect();
    d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    d.into_iter().take(k).map(|x| x.1).collect()
}

/// Clustered points, with many exact ties when `ties` (integer
/// coordinates); axis a spans about (a + 1)× axis 0, so the search's grid
/// has a different number of cells per axis.
fn points(n: usize, d: usize, seed: u64, ties: bool) -> Points {
    let mut rng = Rng::new(seed);
    let mut v = Vec::with_capacity(n * d);
    for i in 0..n {
        for a in 0..d {
            let x = (a + 1) as f64 * ((i % 3) as f64 * 20.0 + 3.0 * rng.normal());
            v.push(if ties { x.round() } else { x });
        }
    }
    Points::try_new(n, d, v).unwrap()
}

#[test]
fn low_dimensional_search_equals_brute_force() {
    for d in 1..=3 {
        for ties in [false, true] {
            let p = points(1500, d, d as u64, ties);
            let k = 10;
            let all: Vec<u32> = (0..p.n() as u32).collect();
            let got = exact_low_dim(&p, &all, k);
            let oracle = exact(&p, k);
            for i in 0..p.n() {
                assert_eq!(
                    got.neighbors(i).0,
                    &brute(&p, i, k)[..],
                    "d={d} ties={ties} point {i}"
                );
                // The blocked search ranks in f32 first: among many exact
                // ties its order may differ (knn/exact.rs), so it is the
                // oracle only without ties.
                if !ties {
                    assert_eq!(got.neighbors(i).0, oracle.neighbors(i).0, "d={d} point {i}");
                }
            }
            // A subset of queries gets the same rows.
            let some: Vec<u32> = (0..p.n() as u32).step_by(7).collect();
            let sub = exact_low_dim(&p, &some, k);
            for (r, &i) in some.iter().enumerate() {
                assert_eq!(sub.neighbors(r).0, got.neighbors(i as usize).0);
            }
        }
    }
}

#[test]
fn preservation_counts_kept_neighbours() {
    let input = points(400, 6, 7, false);
    for dim in 1..=3 {
        let emb = points(400, dim, 8 + dim as u64, false);
        let got = preservation(&input, &emb, 1).unwrap();
        let want: f64 = (0..400)
            .map(|i| {
                let a = brute(&input, i, 10);
                let b = brute(&emb, i, 10);
                a.iter().filter(|x| b.contains(x)).count() as f64 / 10.0
            })
            .sum::<f64>()
            / 400.0;
        assert!(
            (got.value - want).abs() < 1e-12,
            "d={dim}: {} vs {want}",
            got.value
        );
        assert!(!got.sampled && got.scored == 400);
        // An embedding that is the input itself keeps every neighbour.
        let same = preservation(&input, &input, 1).unwrap();
        assert_eq!(same.value, 1.0);
    }
}

#[test]
fn graph_preservation_counts_heaviest_edges() {
    let g = common::random_graph(300, 2, 14, 3);
    let emb = points(300, 2, 4, false);
    let got = graph_preservation(&g, &emb, 1).unwrap();
    let mut total = 0.0;
    let mut scored = 0;
    for i in 0..300 {
        let (c, v) = g.row(i);
        let mut e: Vec<(f64, u32)> = v
            .iter()
            .zip(c)
            .filter(|(_, &j)| j as usize != i)
            .map(|(&p, &j)| (p, j))
            .collect();
        if e.is_empty() {
            continue;
        }
        e.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        e.truncate(10);
        let near = brute(&emb, i, e.len());
        total += e.iter().filter(|x| near.contains(&x.1)).count() as f64 / e.len() as f64;
        scored += 1;
    }
    assert_eq!(got.scored, scored);
    assert!(
        (got.value - total / scored as f64).abs() < 1e-12,
        "{} vs {}",
        got.value,
        total / scored as f64
    );
}
