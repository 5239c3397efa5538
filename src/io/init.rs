//! Reading a user-given initial embedding: N rows of d numbers.

use std::path::Path;

use super::lines::Lines;
use crate::error::{Error, Result};

/// Reads rows of exactly D numbers separated by whitespace, commas or tabs.
/// Blank lines and lines starting with '#' are skipped.
pub fn read_rows<const D: usize>(path: &Path) -> Result<Vec<[f64; D]>> {
    let reader = super::open_maybe_gz(path)?;
    let mut lines = Lines::new(reader, path);
    let mut rows = Vec::new();
    while let Some((no, line)) = lines.next_line()? {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let mut r = [0.0; D];
        let mut k = 0;
        for tok in t
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
        {
            if k == D {
                return Err(Error::parse(
                    path,
                    no,
                    format!("more than {D} numbers on a line (expected {D}, one row per vertex)"),
                ));
            }
            let v: f64 = tok
                .parse()
                .map_err(|_| Error::parse(path, no, format!("'{tok}' is not a number")))?;
            if !v.is_finite() {
                return Err(Error::parse(path, no, format!("'{tok}' is not finite")));
            }
            r[k] = v;
            k += 1;
        }
        if k != D {
            return Err(Error::parse(
                path,
                no,
                format!("{k} numbers on a line, expected {D}"),
            ));
        }
        rows.push(r);
    }
    Ok(rows)
}
