//! Memory estimates, so a run that cannot fit is refused before it starts
//! rather than killed (or swapping) halfway.

use crate::error::{Error, Result};
use crate::repulse::grid_shape;
use crate::repulse::RepulsionKind;

/// What a run is expected to need, and the most it can need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// With the grid at a typical converged extent (c_d · N^(1/d),
    /// measured on clustered embeddings).
    pub typical: u64,
    /// With the grid at its cap: a bound for the whole run, whatever the
    /// embedding's extent.
    pub most: u64,
}

/// Bytes a run of `n` vertices with `nnz` symmetric entries needs in `d`
/// dimensions: the graph, the ordering's adjacency (`metis`: the METIS
/// order, whose adjacency is the larger) and the blocks,
/// per-vertex vectors, and for the grid repulsion the grid with the cached
/// kernel transform and the two work grids of the convolution (none of it
/// depends on the thread count).
/// Deliberately generous (×1.25): refusing a run that would have fitted is
/// cheaper than losing one that would not.
pub fn estimate_embedding(
    n: usize,
    nnz: usize,
    d: usize,
    repulsion: RepulsionKind,
    grid_h: f64,
    grid_max: usize,
    metis: bool,
) -> Estimate {
    let (n64, nnz64, d64) = (n as u64, nnz as u64, d as u64);
    // The graph (12 B an entry), the ordering's adjacency (METIS: 8 B an
    // entry with its weights; RCM only per-vertex arrays), the compressed
    // sparse blocks over one triangle (10 B a pair, 5 B an entry) with the
    // coefficients of the off-diagonal pairs (at most 4 B an entry). The
    // blocks are built from the graph under the permutation, a few block
    // rows at a time, so neither a permuted copy nor a whole sort buffer
    // exists.
    let order = if metis { 8 } else { 0 };
    let graph = nnz64 * (12 + order + 5 + 4) + 3 * (n64 + 1) * 8;
    let vectors = n64 * d64 * 8 * 8 + n64 * (16 + 32 * d64);
    let grid = |extent: f64| {
        if repulsion.resolve(n) == RepulsionKind::Exact {
            return 0;
        }
        let m = grid_shape(extent, grid_h, d, grid_max).m as u64;
        let total = m.saturating_pow(d as u32);
        let ne = (m + 1).saturating_pow(d as u32);
        let pats = 1u64 << d;
        // Two f32 complex work grids of 2^(d-1) m^d (transforms, results);
        // the kernel's (m+1)^d values as f32 lines and two f64
        // cosine-transform arrays; f64 charges and potentials.
        // Plus the cell counts (u32) and, for the near/far split, two u64
        // box sums per node and the points' f32 coordinates.
        total
            .saturating_mul(8 * pats + 16 * (d64 + 1) + 20)
            .saturating_add(ne.saturating_mul(20))
            .saturating_add(n64 * (4 * d64 + 32))
    };
    let c = match d {
        1 => 2.0 * (n as f64).sqrt(),
        2 => 1.3 * (n as f64).sqrt(),
        _ => 4.5 * (n as f64).cbrt(),
    };
    let total = |g: u64| (graph + vectors).saturating_add(g).saturating_mul(5) / 4;
    Estimate {
        typical: total(grid(c.max(1.0))),
        most: total(grid(f64::INFINITY)),
    }
}

/// Bytes preparing a graph of `n` vertices from `nnz` triplets needs (the
/// columns, their normalised copy and the symmetrised P with up to twice
/// the entries), checked before any per-vertex array exists: a header's N
/// alone can ask for gigabytes.
pub fn estimate_prepare(n: usize, nnz: usize) -> u64 {
    let (n, nnz) = (n as u64, nnz as u64);
    n.saturating_mul(40)
        .saturating_add(nnz.saturating_mul(64))
        .saturating_mul(5)
        / 4
}

/// Bytes the points-to-graph stage needs: the points (f64 and an f32
/// working copy), k neighbours per point, the triplets and the prepared graph.
pub fn estimate_points(n: usize, dims: usize, k: usize) -> u64 {
    let (n, dims, k) = (n as u64, dims as u64, k as u64);
    (n * dims * 8 + 2 * n * dims * 4 + n * k * (12 + 16 + 2 * 12)).saturating_mul(5) / 4
}

/// The memory this machine has available now (Linux: MemAvailable), if known.
pub fn available() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The process's peak resident memory so far (Linux: VmHWM), in bytes.
pub fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Parses a size such as `512MB`, `8GB`, `1.5G`, `100k` or `4096` (bytes).
/// Units are powers of 1024; `B`, `iB` and case are optional.
pub fn parse_size(s: &str) -> Result<u64> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num.parse().map_err(|_| {
        Error::param(
            "max_memory",
            format!("'{s}' is not a size (examples: 512MB, 8GB)"),
        )
    })?;
    let u = unit.trim().to_ascii_lowercase();
    let mult = match u.trim_end_matches('b').trim_end_matches('i') {
        "" => 1u64,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => {
            return Err(Error::param(
                "max_memory",
                format!("'{s}': unknown unit '{unit}' (use B, KB, MB, GB or TB)"),
            ))
        }
    };
    let bytes = v * mult as f64;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(Error::param(
            "max_memory",
            format!("'{s}' must be a positive size"),
        ));
    }
    Ok(bytes as u64)
}

/// A byte count for people: `1.2 GiB`.
pub fn human(bytes: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}
