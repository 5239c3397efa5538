//! Deterministic building blocks: a seeded RNG and reductions whose result
//! does not depend on the number of threads (chunks fixed by the data,
//! combined in a fixed order).

use rayon::prelude::*;

/// Chunk length of every parallel reduction. Fixed, so the grouping of the
/// floating-point sums — and thus the bits of the result — never depends on
/// how many threads run.
pub const CHUNK: usize = 2048;

/// Sum of a slice, deterministic for any thread count.
pub fn fixed_sum(v: &[f64]) -> f64 {
    fixed_sum_by(v.len(), |i| v[i])
}

/// Σ_{i<n} f(i), deterministic for any thread count.
pub fn fixed_sum_by<F: Fn(usize) -> f64 + Sync>(n: usize, f: F) -> f64 {
    let nchunks = n.div_ceil(CHUNK);
    let partial: Vec<f64> = (0..nchunks)
        .into_par_iter()
        .map(|c| {
            let mut s = 0.0;
            for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                s += f(i);
            }
            s
        })
        .collect();
    partial.iter().sum()
}

/// Column sums of rows of length D, deterministic for any thread count;
/// the per-chunk sums go to `partial`, whose allocation is reused from
/// call to call.
pub fn fixed_sum_rows_into<const D: usize>(
    y: &[[f64; D]],
    partial: &mut Vec<[f64; D]>,
) -> [f64; D] {
    y.par_chunks(CHUNK)
        .map(|c| {
            let mut s = [0.0; D];
            for r in c {
                for k in 0..D {
                    s[k] += r[k];
                }
            }
            s
        })
        .collect_into_vec(partial);
    let mut s = [0.0; D];
    for p in partial.iter() {
        for k in 0..D {
            s[k] += p[k];
        }
    }
    s
}

/// xoshiro256** seeded by SplitMix64: small, fast, and ours, so a seed gives
/// the same numbers on every platform and every version of every dependency.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
    spare: Option<f64>,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Rng {
            s: [next(), next(), next(), next()],
            spare: None,
        }
    }

    pub fn next_u64(&mut self) -> u64 {
        let r = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        r
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        if let Some(s) = self.spare.take() {
            return s;
        }
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let t = 2.0 * std::f64::consts::PI * u2;
        self.spare = Some(r * t.sin());
        r * t.cos()
    }
}

/// Squared Euclidean distance.
#[inline(always)]
pub fn dist2<const D: usize>(a: &[f64; D], b: &[f64; D]) -> f64 {
    let mut s = 0.0;
    for k in 0..D {
        let d = a[k] - b[k];
        s += d * d;
    }
    s
}

/// A settings struct with private fields and, for each field, a builder
/// setter of the same name that takes the value as given (checks belong
/// in one `validate`). Field and setter are written once.
macro_rules! settings {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$doc:meta])* $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        pub struct $name {
            $( pub(crate) $field: $ty, )*
        }

        impl $name {
            $(
                $(#[$doc])*
                pub fn $field(mut self, v: $ty) -> Self {
                    self.$field = v;
                    self
                }
            )*
        }
    };
}
pub(crate) use settings;

/// A duration for people: "45 s", "3.5 min", "1 h 20 min".
pub fn human_seconds(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        "?".to_string()
    } else if s < 90.0 {
        format!("{s:.0} s")
    } else if s < 3600.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        let m = (s / 60.0).round() as u64;
        format!("{} h {} min", m / 60, m % 60)
    }
}

/// A number for a message: plain where that is short, else in exponent
/// form (`--alpha 1e-300` must not print a 300-digit step size).
pub fn short_num(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-3..1e7).contains(&v.abs()) {
        let s = format!("{v:.4e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        format!("{}e{exp}", trim_zeros(mantissa))
    } else if v.is_finite() {
        trim_zeros(&format!("{v:.4}")).to_string()
    } else {
        format!("{v}")
    }
}

/// "2.5000" → "2.5", "3.0000" → "3".
fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

/// Connected components by union–find, the graph given by each vertex's
/// neighbours (edges in either direction join); labels are dense, numbered
/// by each component's smallest vertex. Returns the labels and the count.
pub(crate) fn components<'a>(
    n: usize,
    neighbours: impl Fn(usize) -> &'a [u32],
) -> (Vec<u32>, usize) {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn find(p: &mut [u32], mut x: u32) -> u32 {
        while p[x as usize] != x {
            let up = p[p[x as usize] as usize];
            p[x as usize] = up;
            x = up;
        }
        x
    }
    for i in 0..n {
        for &j in neighbours(i) {
            let (a, b) = (find(&mut parent, i as u32), find(&mut parent, j));
            if a != b {
                // The smaller root wins, so labels follow the vertex order.
                let (lo, hi) = if a < b { (a, b) } else { (b, a) };
                parent[hi as usize] = lo;
            }
        }
    }
    let mut label = vec![u32::MAX; n];
    let mut count = 0u32;
    for i in 0..n {
        let r = find(&mut parent, i as u32) as usize;
        if label[r] == u32::MAX {
            label[r] = count;
            count += 1;
        }
        label[i] = label[r];
    }
    (label, count as usize)
}
