//! Reading a user-given initial embedding: N rows of d numbers, as an
//! `.npy` array (our own `-o x.npy` output included) or in the
//! delimited-text format of point files (see [`super::points::read_text`]).

use std::path::Path;

use crate::error::{Error, Result};
use crate::points::Points;

/// Reads rows of exactly `dim` numbers: an `.npy` array (by its magic
/// bytes or name), else the text point format (whitespace, comma,
/// semicolon or tab separators, `#` comments, a header line).
pub fn read_init(path: &Path, dim: usize) -> Result<Points> {
    use super::points::{read_points, InputFormat};
    let rows = match InputFormat::detect(path) {
        Ok(InputFormat::Npy) => read_points(path, InputFormat::Npy)?,
        _ => super::points::read_text(path)?,
    };
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
