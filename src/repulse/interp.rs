//! Cubic Lagrange interpolation on 4 nodes (SPEC §6).

/// Weights of nodes f−1, f, f+1, f+2 for a point at f + δ, δ ∈ [0, 1].
#[inline(always)]
pub fn cubic_weights(delta: f64) -> [f64; 4] {
    let d = delta;
    [
        -d * (1.0 - d) * (2.0 - d) / 6.0,
        (1.0 + d) * (1.0 - d) * (2.0 - d) / 2.0,
        (1.0 + d) * d * (2.0 - d) / 2.0,
        -(1.0 + d) * d * (1.0 - d) / 6.0,
    ]
}

/// Smallest m' ≥ m whose only prime factors are 2, 3, 5 and 7.
pub fn fft_friendly(m: usize) -> usize {
    let mut k = m.max(1);
    loop {
        let mut x = k;
        for p in [2, 3, 5, 7] {
            while x % p == 0 {
                x /= p;
            }
        }
        if x == 1 {
            return k;
        }
        k += 1;
    }
}
