//! Vertex labels: one per line, any strings, in vertex order.

use std::path::Path;

use crate::error::{Error, Result};
use crate::io::lines::Lines;

/// Up to this many distinct labels get their own colour and legend entry.
pub const MAX_LEGEND: usize = 30;

/// Labels of the vertices.
#[derive(Clone, Debug, PartialEq)]
pub struct Labels {
    /// Distinct labels, sorted (numerically when all are numbers).
    pub names: Vec<String>,
    /// Index into `names` for each vertex.
    pub of: Vec<u32>,
    /// The labels as numbers, when every one is a finite number.
    pub numeric: Option<Vec<f64>>,
}

/// Reads `n` labels, one per line (surrounding whitespace trimmed; a
/// trailing empty line is ignored). A different count is an error naming
/// both numbers.
pub fn read_labels(path: &Path, n: usize) -> Result<Labels> {
    let reader = crate::io::open_maybe_gz(path)?;
    let mut lines = Lines::new(reader, path);
    let mut raw: Vec<String> = Vec::with_capacity(n.min(1 << 24));
    while let Some((no, line)) = lines.next_line()? {
        if raw.len() == n {
            if line.trim().is_empty() {
                continue;
            }
            return Err(Error::parse(
                path,
                no,
                format!("more labels than the {n} vertices (one label per line, in vertex order)"),
            ));
        }
        raw.push(line.trim().to_string());
    }
    if raw.len() != n {
        return Err(Error::parse(
            path,
            0,
            format!(
                "{} labels for {n} vertices (one label per line, in vertex order)",
                raw.len()
            ),
        ));
    }
    let numeric: Option<Vec<f64>> = raw
        .iter()
        .map(|s| s.parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect();
    let mut names: Vec<String> = raw.clone();
    match &numeric {
        Some(_) => names.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap()
                .total_cmp(&b.parse::<f64>().unwrap())
                .then(a.cmp(b))
        }),
        None => names.sort(),
    }
    names.dedup();
    let index: std::collections::HashMap<&str, u32> = names
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i as u32))
        .collect();
    let of = raw.iter().map(|s| index[s.as_str()]).collect();
    Ok(Labels { names, of, numeric })
}

/// The share of points whose label is the majority label of their 10
/// nearest neighbours in the embedding (ties to the smaller label index),
/// as the peers' benchmarks score embeddings.
pub fn knn_label_accuracy<const D: usize>(y: &[[f64; D]], labels: &Labels) -> Result<f64> {
    let n = y.len();
    if n < 2 {
        return Ok(1.0);
    }
    let k = 10.min(n - 1);
    let pts = crate::points::Points::try_new(n, D, y.iter().flatten().copied().collect())?;
    let knn = crate::knn::exact(&pts, k);
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
