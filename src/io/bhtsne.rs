//! van der Maaten's bh_tsne file protocol (SPEC §8): `data.dat` in,
//! `result.dat` out, native little-endian, packed.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::points::Points;

/// Size of the fixed header: i32 N, i32 D, f64 θ, f64 perplexity, i32 no_dims, i32 max_iter.
pub const HEADER_BYTES: u64 = 32;

/// Everything a `data.dat` holds.
#[derive(Clone, Debug)]
pub struct BhTsneJob {
    pub points: Points,
    pub theta: f64,
    pub perplexity: f64,
    pub no_dims: i32,
    pub max_iter: i32,
    /// `None` when absent or negative (the wrappers' "random").
    pub seed: Option<u64>,
}

/// Reads and checks a `data.dat`. Its size must be exactly the header plus
/// N·D doubles, optionally plus a 4-byte seed; this is checked against the
/// file's length before the data are allocated.
pub fn read_data_dat(path: &Path) -> Result<BhTsneJob> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_data_dat(&bytes, path)
}

/// Parses the bytes of a `data.dat`; `path` only names it in errors.
pub fn parse_data_dat(bytes: &[u8], path: &Path) -> Result<BhTsneJob> {
    let bad = |msg: String| Error::parse(path, 0, msg);
    let len = bytes.len() as u64;
    if len < HEADER_BYTES {
        return Err(bad(format!(
            "{len} bytes is shorter than the {HEADER_BYTES}-byte bh_tsne header (N, D, theta, perplexity, no_dims, max_iter)"
        )));
    }
    let h = &bytes[..HEADER_BYTES as usize];
    let i32_at = |o: usize| i32::from_le_bytes(h[o..o + 4].try_into().unwrap());
    let f64_at = |o: usize| f64::from_le_bytes(h[o..o + 8].try_into().unwrap());
    let (n, d, theta, perplexity, no_dims, max_iter) = (
        i32_at(0),
        i32_at(4),
        f64_at(8),
        f64_at(16),
        i32_at(24),
        i32_at(28),
    );
    if n < 1 || d < 1 {
        return Err(bad(format!(
            "header says N = {n} points of D = {d} dimensions; both must be positive"
        )));
    }
    // Checked: N·D·8 of two positive i32s can pass 2^64.
    let total = (n as u64)
        .checked_mul(d as u64)
        .and_then(|v| v.checked_mul(8))
        .and_then(|v| v.checked_add(HEADER_BYTES));
    let seed_bytes = match total.and_then(|t| len.checked_sub(t)) {
        Some(0) => 0,
        Some(4) => 4,
        _ => {
            return Err(bad(format!(
                "header says {n} x {d} doubles ({} bytes with the header), but the file has {len} bytes (truncated or inconsistent)",
                total.map_or("more than 2^64".into(), |t| t.to_string())
            )))
        }
    };
    if !(theta.is_finite() && theta >= 0.0) {
        return Err(bad(format!("theta = {theta} must be a finite number >= 0")));
    }
    if !(perplexity.is_finite() && perplexity > 0.0) {
        return Err(bad(format!(
            "perplexity = {perplexity} must be a positive number"
        )));
    }
    if !(1..=3).contains(&no_dims) {
        return Err(bad(format!(
            "no_dims = {no_dims}: this engine embeds in 1, 2 or 3 dimensions"
        )));
    }
    if max_iter < 0 {
        return Err(bad(format!("max_iter = {max_iter} must be >= 0")));
    }
    let (n, d) = (n as usize, d as usize);
    let body = &bytes[HEADER_BYTES as usize..HEADER_BYTES as usize + n * d * 8];
    let vals: Vec<f64> = body
        .chunks_exact(8)
        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    if let Some(k) = vals.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "point {} coordinate {} is {}",
            k / d + 1,
            k % d + 1,
            vals[k]
        )));
    }
    let seed = if seed_bytes == 4 {
        let s = i32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap());
        (s >= 0).then_some(s as u64)
    } else {
        None
    };
    Ok(BhTsneJob {
        points: Points::try_new(n, d, vals)?,
        theta,
        perplexity,
        no_dims,
        max_iter,
        seed,
    })
}

/// Writes `result.dat`: i32 N, i32 no_dims, the coordinates row-major in
/// input order, N i32 landmarks 0…N−1, N f64 per-point costs.
pub fn write_result<W: Write + ?Sized>(
    w: &mut W,
    no_dims: usize,
    y: &[f64],
    costs: &[f64],
) -> std::io::Result<()> {
    let n = costs.len();
    debug_assert_eq!(y.len(), n * no_dims);
    w.write_all(&(n as i32).to_le_bytes())?;
    w.write_all(&(no_dims as i32).to_le_bytes())?;
    for v in y {
        w.write_all(&v.to_le_bytes())?;
    }
    for i in 0..n {
        w.write_all(&(i as i32).to_le_bytes())?;
    }
    for c in costs {
        w.write_all(&c.to_le_bytes())?;
    }
    Ok(())
}
