#![allow(dead_code)]
//! Shared helpers of the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sgtsne::graph::{Coo, StochasticGraph};
use sgtsne::util::Rng;

/// A random sparse graph: each column gets `lo..=hi` random out-edges.
/// Vertices in `empty` get none (and are avoided as targets when `isolate`).
pub fn random_coo(n: usize, lo: usize, hi: usize, seed: u64) -> Coo {
    let mut rng = Rng::new(seed);
    let mut coo = Coo {
        n,
        ..Default::default()
    };
    for j in 0..n {
        let k = lo + rng.below(hi - lo + 1);
        for _ in 0..k {
            let i = rng.below(n);
            coo.rows.push(i as u32);
            coo.cols.push(j as u32);
            coo.vals.push(0.1 + rng.uniform());
        }
    }
    coo
}

pub fn random_graph(n: usize, lo: usize, hi: usize, seed: u64) -> StochasticGraph {
    StochasticGraph::from_coo(&random_coo(n, lo, hi, seed), 1.0)
        .unwrap()
        .0
}

pub fn random_points<const D: usize>(n: usize, scale: f64, seed: u64) -> Vec<[f64; D]> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|_| {
            let mut p = [0.0; D];
            for x in p.iter_mut() {
                *x = scale * rng.normal();
            }
            p
        })
        .collect()
}

/// The shipped example graph (2,000 vertices, a kNN graph).
pub fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/example-knn.mtx.gz")
}

/// A directed ring of `n` vertices, each with one unit edge to the next.
pub fn write_ring(path: &Path, n: u32) {
    let coo = Coo {
        n: n as usize,
        rows: (0..n).map(|j| (j + 1) % n).collect(),
        cols: (0..n).collect(),
        vals: vec![1.0; n as usize],
    };
    write_mtx(path, &coo);
}

/// The names in `dir`, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sgtsne"))
}

pub fn run(args: &[&str], dir: &Path) -> Output {
    Command::new(bin())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run sgtsne")
}

pub fn write_mtx(path: &Path, coo: &Coo) {
    let mut f = std::fs::File::create(path).unwrap();
    sgtsne::io::mtx::write_matrix_market(&mut f, coo).unwrap();
}

/// Parses a text embedding; panics on malformed content.
pub fn read_embedding(path: &Path) -> Vec<Vec<f64>> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| {
            l.split_whitespace()
                .map(|t| t.parse::<f64>().unwrap())
                .collect()
        })
        .collect()
}

/// Path of the shared pbmc graph, extracted once into the target dir, or
/// None when ../shared is not beside the clone.
pub fn pbmc_graph() -> Option<PathBuf> {
    let tgz =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/sgtsnepi/pbmc-graph.tar.gz");
    if !tgz.exists() {
        return None;
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pbmc");
    let mtx = dir.join("pbmc-graph.mtx");
    if !mtx.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let st = Command::new("tar")
            .arg("xzf")
            .arg(&tgz)
            .arg("-C")
            .arg(&dir)
            .status()
            .unwrap();
        assert!(st.success());
    }
    Some(mtx)
}

/// A test whose real check cannot run here: in CI (the `CI` variable set)
/// that is a failure, since CI installs and provides everything the tests
/// need; elsewhere the test is skipped with a message.
pub fn cannot_run(test: &str, why: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{test} cannot run its check in CI: {why}");
    }
    eprintln!("SKIPPED {test}: {why}");
}

/// Squared Euclidean distance, summed in order (the tests' reference).
pub fn dist2(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Runs `f` in a pool of `t` threads.
pub fn with_threads<T: Send>(t: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(t)
        .build()
        .unwrap()
        .install(f)
}

/// The bits of Z and of the forces a repulsion engine gives on `y`.
pub fn repulsion_bits<const D: usize>(
    r: &mut impl sgtsne::repulse::Repulsion<D>,
    y: &[[f64; D]],
) -> (u64, Vec<u64>) {
    let mut out = vec![[0.0; D]; y.len()];
    let z = r.compute(y, &mut out);
    (
        z.to_bits(),
        out.iter().flatten().map(|v| v.to_bits()).collect(),
    )
}

/// Asserts that `eval` gives the same result on 1, 2 and 3 threads.
pub fn assert_thread_invariant<T: PartialEq + std::fmt::Debug + Send>(
    what: &str,
    eval: impl Fn() -> T + Sync,
) {
    let one = with_threads(1, &eval);
    assert_eq!(one, with_threads(2, &eval), "{what}: 1 vs 2 threads");
    assert_eq!(one, with_threads(3, &eval), "{what}: 1 vs 3 threads");
}

/// SPEC §6's accuracy layouts: uniform points in [0, 1]^D, or two clusters
/// of width 0.3 at the ends of [0, 1] along every axis (the middle slabs
/// are empty).
pub fn spec_layout<const D: usize>(n: usize, gap: bool, seed: u64) -> Vec<[f64; D]> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| {
            let mut p = [0.0; D];
            for x in p.iter_mut() {
                *x = rng.uniform();
            }
            if gap {
                let side = if i % 2 == 0 { 0.0 } else { 0.7 };
                for x in p.iter_mut() {
                    *x = side + 0.3 * *x;
                }
            }
            p
        })
        .collect()
}
