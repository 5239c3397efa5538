//! Measures of an embedding's quality.

use crate::error::{Error, Result};
use crate::io::labels::Labels;
use crate::points::Points;

/// The share of points whose label is the majority label of their 10
/// nearest neighbours in the embedding (ties to the smaller label index),
/// as the peers' benchmarks score embeddings.
pub fn knn_label_accuracy(coords: &Points, labels: &Labels) -> Result<f64> {
    let n = coords.n();
    if labels.of.len() != n {
        return Err(Error::Input(format!(
            "{} labels for {n} points",
            labels.of.len()
        )));
    }
    if n < 2 {
        return Ok(1.0);
    }
    let k = 10.min(n - 1);
    let knn = if coords.d() <= 3 {
        let all: Vec<u32> = (0..n as u32).collect();
        crate::knn::exact_low_dim(coords, &all, k)
    } else {
        crate::knn::exact(coords, k)
    };
    let mut votes = vec![0u32; labels.names.len()];
    let mut right = 0usize;
    for i in 0..n {
        votes.iter_mut().for_each(|v| *v = 0);
        for &j in knn.neighbors(i).0 {
            votes[labels.of[j as usize] as usize] += 1;
        }
        let mut best = 0;
        for (c, &v) in votes.iter().enumerate() {
            if v > votes[best] {
                best = c;
            }
        }
        right += (best as u32 == labels.of[i]) as usize;
    }
    Ok(right as f64 / n as f64)
}

/// Neighbours compared by [`preservation`].
pub const PRESERVATION_K: usize = 10;
/// Up to this many points every point is scored; above, a seeded sample.
pub const PRESERVATION_EXACT_MAX: usize = 100_000;
/// Points in the sample above [`PRESERVATION_EXACT_MAX`].
pub const PRESERVATION_SAMPLE: usize = 10_000;

/// How well the input's neighbourhoods survive in the embedding.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Preservation {
    /// The mean over scored points of |input neighbours ∩ embedding
    /// neighbours| / |input neighbours|.
    pub value: f64,
    /// Points scored.
    pub scored: usize,
    /// Whether they were a seeded sample (N above
    /// [`PRESERVATION_EXACT_MAX`]) rather than every point.
    pub sampled: bool,
}

/// The points to score: all, or a seeded sample (sorted) of
/// [`PRESERVATION_SAMPLE`] above [`PRESERVATION_EXACT_MAX`].
fn scored_points(n: usize, seed: u64) -> (Vec<u32>, bool) {
    if n <= PRESERVATION_EXACT_MAX {
        return ((0..n as u32).collect(), false);
    }
    // A partial Fisher–Yates shuffle: distinct indices, fixed by the seed.
    let mut rng = crate::util::Rng::new(seed ^ 0x9a4_51e);
    let mut idx: Vec<u32> = (0..n as u32).collect();
    for i in 0..PRESERVATION_SAMPLE {
        let j = i + rng.below(n - i);
        idx.swap(i, j);
    }
    idx.truncate(PRESERVATION_SAMPLE);
    idx.sort_unstable();
    (idx, true)
}

/// The `k` nearest neighbours (self excluded) of each of `who` among `pts`.
fn neighbours_of(pts: &Points, who: &[u32], k: usize, all: bool) -> Vec<Vec<u32>> {
    if pts.d() <= 3 {
        let nn = crate::knn::exact_low_dim(pts, who, k);
        return (0..who.len()).map(|r| nn.neighbors(r).0.to_vec()).collect();
    }
    if all {
        let nn = crate::knn::exact(pts, k);
        return (0..pts.n()).map(|i| nn.neighbors(i).0.to_vec()).collect();
    }
    let queries = pts
        .select(who.iter().map(|&i| i as usize))
        .expect("rows of the points");
    // One more than k: the query finds itself (or a duplicate of itself).
    let nn = crate::knn::exact_query(pts, &queries, (k + 1).min(pts.n()));
    who.iter()
        .enumerate()
        .map(|(r, &i)| {
            nn.neighbors(r)
                .0
                .iter()
                .copied()
                .filter(|&j| j != i)
                .take(k)
                .collect()
        })
        .collect()
}

fn overlap(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() {
        return 0.0;
    }
    a.iter().filter(|x| b.contains(x)).count() as f64 / a.len() as f64
}

/// For point input: the fraction of each point's 10 nearest input
/// neighbours that are among its 10 nearest embedding neighbours (every
/// point up to 100,000 points, a sample of 10,000 fixed by `seed` above).
pub fn preservation(input: &Points, coords: &Points, seed: u64) -> Result<Preservation> {
    let n = coords.n();
    if input.n() != n {
        return Err(Error::Input(format!(
            "{} input points for {n} embedded points",
            input.n()
        )));
    }
    if n < 2 {
        return Ok(Preservation {
            value: 1.0,
            scored: n,
            sampled: false,
        });
    }
    let k = PRESERVATION_K.min(n - 1);
    let (who, sampled) = scored_points(n, seed);
    let a = neighbours_of(input, &who, k, !sampled);
    let b = neighbours_of(coords, &who, k, !sampled);
    let value = a.iter().zip(&b).map(|(x, y)| overlap(x, y)).sum::<f64>() / who.len() as f64;
    Ok(Preservation {
        value,
        scored: who.len(),
        sampled,
    })
}

/// As [`preservation`], with each point's input neighbours given: row i
/// of `input_nn` (n rows of `k_in` indices, nearest first, as an exact
/// kNN search returns them) holds point i's; the first 10 are used.
pub fn preservation_given(
    input_nn: &[u32],
    k_in: usize,
    coords: &Points,
    seed: u64,
) -> Result<Preservation> {
    let n = coords.n();
    if k_in == 0 || input_nn.len() != n * k_in {
        return Err(Error::Input(format!(
            "{} neighbour indices for {n} points of {k_in} neighbours",
            input_nn.len()
        )));
    }
    let k = PRESERVATION_K.min(k_in).min(n.saturating_sub(1));
    let (who, sampled) = scored_points(n, seed);
    let b = neighbours_of(coords, &who, k, !sampled);
    let value = who
        .iter()
        .zip(&b)
        .map(|(&i, e)| {
            let i = i as usize;
            overlap(&input_nn[i * k_in..i * k_in + k], e)
        })
        .sum::<f64>()
        / who.len() as f64;
    Ok(Preservation {
        value,
        scored: who.len(),
        sampled,
    })
}

/// For graph input: the fraction of each vertex's heaviest edges (its 10
/// largest P_ij, ties to the smaller j; all of them when it has fewer)
/// whose other ends are among as many nearest embedding neighbours.
/// Vertices without edges are not scored; sampling as [`preservation`].
pub fn graph_preservation(
    g: &crate::graph::StochasticGraph,
    coords: &Points,
    seed: u64,
) -> Result<Preservation> {
    let n = coords.n();
    if g.n() != n {
        return Err(Error::Input(format!(
            "a graph of {} vertices for {n} embedded points",
            g.n()
        )));
    }
    let k = PRESERVATION_K.min(n.saturating_sub(1));
    let (who, sampled) = scored_points(n, seed);
    if k == 0 {
        return Ok(Preservation {
            value: 1.0,
            scored: 0,
            sampled,
        });
    }
    let b = neighbours_of(coords, &who, k, !sampled);
    let mut total = 0.0;
    let mut scored = 0usize;
    for (r, &i) in who.iter().enumerate() {
        let (cols, vals) = g.row(i as usize);
        let mut e: Vec<(f64, u32)> = vals
            .iter()
            .zip(cols)
            .filter(|(_, &j)| j != i)
            .map(|(&p, &j)| (p, j))
            .collect();
        if e.is_empty() {
            continue;
        }
        e.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
        e.truncate(k);
        let heavy: Vec<u32> = e.iter().map(|x| x.1).collect();
        total += overlap(&heavy, &b[r][..heavy.len()]);
        scored += 1;
    }
    Ok(Preservation {
        value: if scored > 0 {
            total / scored as f64
        } else {
            0.0
        },
        scored,
        sampled,
    })
}
