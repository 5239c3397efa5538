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
    let knn = crate::knn::exact(coords, k);
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
