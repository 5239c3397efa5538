//! Vertex labels: one per line, any strings, in vertex order.

use std::path::Path;

use super::lines::Lines;
use crate::error::{Error, Result};

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
    let reader = super::open_maybe_gz(path)?;
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
