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

    /// The rows `ids` (each below n, repeats allowed), in that order; an
    /// error when there are none.
    pub fn select(&self, ids: impl IntoIterator<Item = usize>) -> Result<Points> {
        let mut data = Vec::new();
        for i in ids {
            data.extend_from_slice(self.row(i));
        }
        Points::try_new(data.len() / self.d, self.d, data)
    }

    pub fn d(&self) -> usize {
        self.d
    }

    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.d..(i + 1) * self.d]
    }

    /// The rows as fixed-size arrays; panics unless `D == self.d()`.
    pub fn rows<const D: usize>(&self) -> &[[f64; D]] {
        assert_eq!(D, self.d, "rows::<{D}> of {}-dimensional points", self.d);
        self.data.as_chunks::<D>().0
    }

    /// All coordinates, row-major.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// The coordinates minus their mean, in f32, row-major: the working
    /// copy of the neighbour searches (centring keeps ‖x‖² small, so
    /// ‖x‖² + ‖y‖² − 2x·y loses little in single precision).
    pub(crate) fn centred_f32(&self) -> Vec<f32> {
        let mean = self.mean();
        self.centred_f32_by(&mean, self.f32_scale(&mean))
    }

    /// The coordinates minus `mean` (another set's, for queries), times
    /// `scale`, in f32.
    pub(crate) fn centred_f32_by(&self, mean: &[f64], scale: f64) -> Vec<f32> {
        use rayon::prelude::*;
        let d = self.d;
        let mut out = vec![0.0f32; self.n * d];
        out.par_chunks_mut(d * 1024)
            .zip(self.data.par_chunks(d * 1024))
            .for_each(|(o, x)| {
                for (o, x) in o.chunks_exact_mut(d).zip(x.chunks_exact(d)) {
                    for ((o, v), m) in o.iter_mut().zip(x).zip(mean) {
                        *o = ((v - m) * scale) as f32;
                    }
                }
            });
        out
    }

    /// The factor that keeps these points' squared distances about `mean`
    /// finite and normal in f32: 1 for ordinary data (so nothing changes),
    /// else the inverse of the largest |coordinate − mean|. Neighbour sets
    /// do not depend on a global scale; without this, coordinates near
    /// 1e19 overflow f32 squares and the neighbours are chance.
    pub(crate) fn f32_scale(&self, mean: &[f64]) -> f64 {
        let mut big: f64 = 0.0;
        for i in 0..self.n {
            for (v, m) in self.row(i).iter().zip(mean) {
                big = big.max((v - m).abs());
            }
        }
        if big > 1e15 || (big > 0.0 && big < 1e-15) {
            1.0 / big
        } else {
            1.0
        }
    }

    /// The mean of the rows, summed in row order.
    pub fn mean(&self) -> Vec<f64> {
        let mut mean = vec![0.0f64; self.d];
        for i in 0..self.n {
            for (m, v) in mean.iter_mut().zip(self.row(i)) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= self.n as f64);
        mean
    }
}
