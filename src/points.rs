//! Point data: N rows of D coordinates, the input of the points-to-graph path.

use crate::error::{Error, Result};

/// A dense N × D matrix of finite coordinates, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Points {
    n: usize,
    d: usize,
    data: Vec<f64>,
}

impl Points {
    /// Checked constructor: `data.len() == n * d`, n ≥ 1, d ≥ 1, all finite.
    pub fn try_new(n: usize, d: usize, data: Vec<f64>) -> Result<Points> {
        if n == 0 || d == 0 {
            return Err(Error::Input(format!(
                "point data must have at least one row and one column, got {n} x {d}"
            )));
        }
        if n.checked_mul(d) != Some(data.len()) {
            return Err(Error::Input(format!(
                "{} values do not make {n} rows of {d}",
                data.len()
            )));
        }
        if let Some(k) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error::Input(format!(
                "point {} coordinate {} is {}",
                k / d + 1,
                k % d + 1,
                data[k]
            )));
        }
        Ok(Points { n, d, data })
    }

    pub fn n(&self) -> usize {
        self.n
    }

    pub fn d(&self) -> usize {
        self.d
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.d..(i + 1) * self.d]
    }

    /// All coordinates, row-major.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }
}
