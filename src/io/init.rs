//! Reading a user-given initial embedding: N rows of d numbers, in the
//! delimited-text format of point files (see [`super::points::read_text`]).

use std::path::Path;

use crate::error::{Error, Result};
use crate::points::Points;

/// Reads rows of exactly `dim` numbers (the text point format: whitespace,
/// comma, semicolon or tab separators, `#` comments, a header line).
pub fn read_init(path: &Path, dim: usize) -> Result<Points> {
    let rows = super::points::read_text(path)?;
    if rows.d() != dim {
        return Err(Error::parse(
            path,
            0,
            format!(
                "{} numbers per row, expected {dim} (one row of coordinates per vertex)",
                rows.d()
            ),
        ));
    }
    Ok(rows)
}
