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

/// Nanoseconds per point of batched single-precision rustfft transforms of
/// every 7-smooth length from 16 to 2048 (best of two runs of
/// `sgtsne-bench fft-sizes`, one thread, the workplace's 2-core EPYC VM).
/// Lengths with a factor 5² or 7² cost two to three times more per point
/// than their neighbours: 125 is slower per grid than 128 in 3D although
/// it has 5% fewer nodes. A fixed table, not a measurement at run time, so
/// the grid (and so the result) never depends on the machine's load.
const FFT_COST: &[(usize, f64)] = &[
    (16, 0.32),
    (18, 1.38),
    (20, 1.52),
    (21, 1.77),
    (24, 0.38),
    (25, 1.43),
    (27, 0.64),
    (28, 1.51),
    (30, 1.33),
    (32, 0.39),
    (35, 1.46),
    (36, 0.46),
    (40, 0.70),
    (42, 1.41),
    (45, 1.20),
    (48, 0.38),
    (49, 1.40),
    (50, 1.85),
    (54, 0.56),
    (56, 0.73),
    (60, 0.79),
    (63, 1.21),
    (64, 0.44),
    (70, 1.82),
    (72, 0.43),
    (75, 1.80),
    (80, 0.67),
    (81, 1.07),
    (84, 0.81),
    (90, 1.80),
    (96, 0.67),
    (98, 1.80),
    (100, 1.75),
    (105, 1.81),
    (108, 0.81),
    (112, 0.71),
    (120, 0.72),
    (125, 1.81),
    (126, 1.85),
    (128, 0.51),
    (135, 1.06),
    (140, 1.79),
    (144, 0.85),
    (147, 1.71),
    (150, 1.70),
    (160, 0.76),
    (162, 0.89),
    (168, 0.76),
    (175, 1.82),
    (180, 0.80),
    (189, 1.09),
    (192, 0.66),
    (196, 1.74),
    (200, 1.03),
    (210, 1.76),
    (216, 0.72),
    (224, 0.75),
    (225, 1.59),
    (240, 0.70),
    (243, 1.13),
    (245, 1.79),
    (250, 2.13),
    (252, 0.85),
    (256, 0.63),
    (270, 0.92),
    (280, 1.08),
    (288, 0.70),
    (294, 1.88),
    (300, 1.13),
    (315, 1.59),
    (320, 0.77),
    (324, 0.94),
    (336, 0.77),
    (343, 1.93),
    (350, 2.10),
    (360, 0.76),
    (375, 2.29),
    (378, 0.98),
    (384, 0.79),
    (392, 1.14),
    (400, 1.01),
    (405, 1.35),
    (420, 1.14),
    (432, 0.76),
    (441, 1.65),
    (448, 0.83),
    (450, 2.18),
    (480, 1.02),
    (486, 1.12),
    (490, 2.10),
    (500, 2.21),
    (504, 0.83),
    (512, 0.79),
    (525, 2.28),
    (540, 1.08),
    (560, 1.04),
    (567, 1.40),
    (576, 0.83),
    (588, 1.22),
    (600, 1.11),
    (625, 2.32),
    (630, 2.29),
    (640, 0.87),
    (648, 0.88),
    (672, 1.07),
    (675, 1.43),
    (686, 2.14),
    (700, 2.25),
    (720, 1.10),
    (729, 1.45),
    (735, 2.15),
    (750, 2.10),
    (756, 1.12),
    (768, 0.87),
    (784, 1.14),
    (800, 1.04),
    (810, 1.29),
    (840, 1.15),
    (864, 0.87),
    (875, 2.43),
    (882, 2.28),
    (896, 0.91),
    (900, 1.13),
    (945, 1.46),
    (960, 1.00),
    (972, 1.17),
    (980, 2.27),
    (1000, 1.45),
    (1008, 1.13),
    (1024, 0.89),
    (1029, 2.14),
    (1050, 2.26),
    (1080, 1.07),
    (1120, 1.10),
    (1125, 2.06),
    (1134, 1.25),
    (1152, 0.96),
    (1176, 1.17),
    (1200, 1.05),
    (1215, 1.51),
    (1225, 2.24),
    (1250, 2.56),
    (1260, 1.17),
    (1280, 0.93),
    (1296, 1.02),
    (1323, 1.50),
    (1344, 1.02),
    (1350, 1.27),
    (1372, 2.16),
    (1400, 1.41),
    (1440, 1.08),
    (1458, 1.31),
    (1470, 2.19),
    (1500, 1.49),
    (1512, 1.10),
    (1536, 1.01),
    (1568, 1.16),
    (1575, 2.19),
    (1600, 1.09),
    (1620, 1.20),
    (1680, 1.09),
    (1701, 1.57),
    (1715, 2.31),
    (1728, 1.03),
    (1750, 2.53),
    (1764, 1.31),
    (1792, 0.98),
    (1800, 1.09),
    (1875, 2.61),
    (1890, 1.33),
    (1920, 1.04),
    (1944, 1.13),
    (1960, 1.46),
    (2000, 1.35),
    (2016, 1.13),
    (2025, 1.83),
    (2048, 0.98),
];

/// Grid side for at least `m` nodes per side in `dim` dimensions: the size
/// m' in [m, 1.25 m] with the least measured cost m'^dim × cost(2m'), since
/// the convolution transforms lines of 2m' (so a slightly finer grid is
/// taken when its transforms are faster). Beyond the table, the smallest
/// size 2^a 3^b or 2^a 3^b 5.
pub fn fft_size(m: usize, dim: usize) -> usize {
    let cap = m + m / 4;
    let best = FFT_COST
        .iter()
        .filter(|&&(n, _)| n % 2 == 0 && n / 2 >= m && n / 2 <= cap)
        .map(|&(n, c)| (n / 2, ((n / 2) as f64).powi(dim as i32) * c))
        .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    match best {
        Some((n, _)) => n,
        // Beyond the table: 2^a 3^b, or that times a single 5 (lengths
        // with 5² are the slow ones).
        None => (m..)
            .find(|&k| {
                let k = if k % 5 == 0 { k / 5 } else { k };
                smooth(k, &[2, 3]) == k
            })
            .unwrap_or(m),
    }
}

/// Smallest m' ≥ m whose only prime factors are in `primes`.
fn smooth(m: usize, primes: &[usize]) -> usize {
    let mut k = m.max(1);
    loop {
        let mut x = k;
        for &p in primes {
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
