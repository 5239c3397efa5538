//! Benchmarks of sgtsne's engines, run in release mode:
//!
//!   cargo run --release --bin sgtsne-bench -- repulsion [--dim 2] [--n 10000,100000] [--extent E] [--reps 5] [--rebuild]
//!   cargo run --release --bin sgtsne-bench -- attraction GRAPH.mtx [--dim 2] [--reps 20]
//!   cargo run --release --bin sgtsne-bench -- knn-graph --n 100000 --k 30 -o graph.mtx
//!   cargo run --release --bin sgtsne-bench -- points-graph POINTS.npy [--perplexity 30] -o graph.mtx
//!   cargo run --release --bin sgtsne-bench -- fft-sizes [--max 2048]
//!   cargo run --release --bin sgtsne-bench -- repulsion-file Y.txt --dim 3 --caps 70,100,130 [--ceiling 160 --targets 50,75,100] [--reps 3] [--sample 400] [--h H] [--exact-z]
//!   cargo run --release --bin sgtsne-bench -- knn POINTS.npy [--k 90] [--n N] [--sample 8] [--skip-exact|--skip-approx]
//!   cargo run --release --bin sgtsne-bench -- knn-query REF.npy QUERIES.npy [--k 25] [--graph-k 15,30] [--eps 0.05,0.1,0.2] [--reps 3]
//!
//! Threads: RAYON_NUM_THREADS (default: all cores). Timings go to stdout.

use std::path::PathBuf;
use std::time::Instant;

use sgtsne::attract::{Attraction, CsrAttraction};
use sgtsne::csb::CsbAttraction;
use sgtsne::graph::StochasticGraph;
use sgtsne::order::{self, Permutation, VertexOrder};
use sgtsne::repulse::{GridRepulsion, Repulsion};
use sgtsne::util::Rng;

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: T) -> T {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // On a pool worker, as the CLI runs: parallel loops then never park
    // the calling thread.
    rayon::scope(|_| run());
}

fn run() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(|s| s.as_str()) {
        Some("repulsion") => {
            let dim: usize = arg(&args, "--dim", 2);
            match dim {
                1 => repulsion::<1>(&args),
                2 => repulsion::<2>(&args),
                _ => repulsion::<3>(&args),
            }
        }
        Some("attraction") => {
            let dim: usize = arg(&args, "--dim", 2);
            match dim {
                1 => attraction::<1>(&args),
                2 => attraction::<2>(&args),
                _ => attraction::<3>(&args),
            }
        }
        Some("repulsion-file") => {
            let dim: usize = arg(&args, "--dim", 3);
            match dim {
                1 => repulsion_file::<1>(&args),
                2 => repulsion_file::<2>(&args),
                _ => repulsion_file::<3>(&args),
            }
        }
        Some("knn-graph") => knn_graph(&args),
        Some("points-graph") => points_graph(&args),
        Some("knn") => knn(&args),
        Some("knn-query") => knn_query(&args),
        Some("fft-sizes") => fft_sizes(&args),
        _ => {
            eprintln!("usage: sgtsne-bench repulsion|attraction|knn-graph|knn [options] (see the source header)");
            std::process::exit(2);
        }
    }
}

/// Points in `clusters` Gaussian blobs spread over a ball of the given
/// extent: the shape of a converged t-SNE embedding.
fn cluster_points<const D: usize>(n: usize, extent: f64, seed: u64) -> Vec<[f64; D]> {
    let mut rng = Rng::new(seed);
    let clusters = 20;
    let centres: Vec<[f64; D]> = (0..clusters)
        .map(|_| {
            let mut c = [0.0; D];
            for x in c.iter_mut() {
                *x = (rng.uniform() - 0.5) * extent * 0.8;
            }
            c
        })
        .collect();
    (0..n)
        .map(|_| {
            let c = centres[rng.below(clusters)];
            let mut p = [0.0; D];
            for k in 0..D {
                p[k] = c[k] + rng.normal() * extent * 0.03;
            }
            p
        })
        .collect()
}

fn repulsion<const D: usize>(args: &[String]) {
    let ns: String = arg(args, "--n", "10000,100000,1000000".to_string());
    let reps: usize = arg(args, "--reps", 5);
    let h: f64 = arg(args, "--h", sgtsne::defaults::grid_h(D));
    println!(
        "grid repulsion, d = {D}, h = {h}, threads = {}: ms per evaluation (median of {reps})",
        rayon::current_num_threads()
    );
    println!(
        "{:>9} {:>7} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
        "N", "extent", "m", "binning", "S2G", "G2G", "G2S", "total", "exact", "G2G/node", "ns/pair"
    );
    // With --exact, the exact sum is timed on the same points too: the
    // per-unit costs behind defaults::REPULSION_COST.
    let with_exact = args.iter().any(|a| a == "--exact");
    for n in ns
        .split(',')
        .map(|s| s.trim().parse::<usize>().expect("--n takes numbers"))
    {
        // Realistic extents grow with N (t-SNE embeddings spread ~ N^(1/d)).
        let default_extent = match D {
            1 => 2.0 * (n as f64).sqrt(),
            2 => 1.3 * (n as f64).sqrt(),
            _ => 4.5 * (n as f64).cbrt(),
        };
        let extent: f64 = arg(args, "--extent", default_extent);
        let mut y = cluster_points::<D>(n, extent, 7);
        let mut g = GridRepulsion::<D>::new(h);
        let mut out = vec![[0.0; D]; n];
        let mut rows = Vec::new();
        // As in a run, where the extent moves every iteration and with it
        // the spacing h*, so the kernel transforms are rebuilt each time;
        // without the flag they are cached after the first evaluation.
        let rebuild = args.iter().any(|a| a == "--rebuild");
        for _ in 0..reps + 1 {
            if rebuild {
                y.iter_mut().flatten().for_each(|v| *v *= 1.0 + 1e-9);
            }
            let t = Instant::now();
            std::hint::black_box(g.compute(&y, &mut out));
            let tot = t.elapsed().as_secs_f64();
            let p = g.times;
            rows.push([p.binning, p.s2g, p.g2g, p.g2s, tot]);
        }
        rows.remove(0); // warm-up (plans, kernel transforms)
        let median = |mut v: Vec<f64>| {
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            v[v.len() / 2] * 1e3
        };
        let med = |k: usize| median(rows.iter().map(|r| r[k]).collect());
        let exact_ms = if with_exact {
            let mut e = sgtsne::repulse::ExactRepulsion::default();
            let t: Vec<f64> = (0..reps)
                .map(|_| {
                    let t = Instant::now();
                    std::hint::black_box(Repulsion::<D>::compute(&mut e, &y, &mut out));
                    t.elapsed().as_secs_f64()
                })
                .collect();
            median(t)
        } else {
            f64::NAN
        };
        let m = g.last_shape.unwrap().m;
        println!(
            "{:>9} {:>7.1} {:>5} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>8.2} {:>8.3}",
            n,
            extent,
            m,
            med(0),
            med(1),
            med(2),
            med(3),
            med(4),
            exact_ms,
            med(2) * 1e6 / (m as f64).powi(D as i32),
            exact_ms * 1e6 / (n as f64).powi(2)
        );
    }
}

fn attraction<const D: usize>(args: &[String]) {
    let path = PathBuf::from(args.get(2).expect("attraction needs a graph file"));
    let reps: usize = arg(args, "--reps", 20);
    let coo = sgtsne::io::mtx::read_matrix_market(&path).expect("read graph");
    let (g, _) = StochasticGraph::from_coo(&coo, 1.0).expect("prepare graph");
    let n = g.n();
    println!(
        "attraction, {}: N = {n}, nnz = {}, d = {D}, threads = {}: ms per evaluation (median of {reps})",
        path.display(),
        g.nnz(),
        rayon::current_num_threads()
    );
    let y: Vec<[f64; D]> = cluster_points::<D>(n, 50.0, 3);
    let mut rng = Rng::new(11);
    let mut shuffled: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        shuffled.swap(i, rng.below(i + 1));
    }
    let random = Permutation::try_from_new_to_old(shuffled).unwrap();
    let g_rand = random.permute_graph(&g);
    let t = Instant::now();
    let metis = order::compute(&g_rand, VertexOrder::Metis).unwrap();
    let t_metis = t.elapsed().as_secs_f64();
    let g_metis = metis.permute_graph(&g_rand);
    let t = Instant::now();
    let rcm = order::compute(&g_rand, VertexOrder::Rcm).unwrap();
    let t_rcm = t.elapsed().as_secs_f64();
    let g_rcm = rcm.permute_graph(&g_rand);
    let t = Instant::now();
    let beta: usize = arg(args, "--beta", 0);
    let csb_m = if beta > 0 {
        CsbAttraction::with_beta(&g_metis, beta)
    } else {
        CsbAttraction::new(&g_metis)
    };
    let t_csb = t.elapsed().as_secs_f64();
    let only: String = arg(args, "--only", String::new());
    let want = |name: &str| {
        name == "CSR, input order" || only.is_empty() || only.split(';').any(|o| name.contains(o))
    };
    let csb_r = CsbAttraction::with_beta(&g_rcm, csb_m.csb().beta());
    let diag =
        |c: &CsbAttraction| 100.0 * c.csb().diagonal_entries() as f64 / c.csb().nnz().max(1) as f64;
    let (diag_m, diag_r) = (diag(&csb_m), diag(&csb_r));
    let all: Vec<(&str, Box<dyn Attraction<D> + '_>)> = vec![
        ("CSR, input order", Box::new(CsrAttraction::new(&g))),
        (
            "CSR, random relabelling",
            Box::new(CsrAttraction::new(&g_rand)),
        ),
        ("CSR, METIS", Box::new(CsrAttraction::new(&g_metis))),
        ("CSB, input order", Box::new(CsbAttraction::new(&g))),
        ("CSB, RCM", Box::new(csb_r)),
        ("CSB, METIS", Box::new(csb_m.clone())),
    ];
    let mut layouts: Vec<_> = all.into_iter().filter(|l| want(l.0)).collect();
    // Round robin, so that the shared host's slow spells hit every layout
    // alike; the minimum and the median are both reported.
    let mut times = vec![Vec::with_capacity(reps); layouts.len()];
    let mut out = vec![[0.0; D]; n];
    for rep in 0..reps + 1 {
        for (l, (_, a)) in layouts.iter_mut().enumerate() {
            let t = Instant::now();
            a.forces(&y, &mut out);
            if rep > 0 {
                times[l].push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
    }
    for v in &mut times {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    }
    let (base_min, base_med) = (times[0][0], times[0][reps / 2]);
    for ((name, _), v) in layouts.iter().zip(&times) {
        println!(
            "{name:<26} min {:>8.3} ms ({:>5.2}x)   median {:>8.3} ms ({:>5.2}x vs CSR input order)",
            v[0],
            base_min / v[0],
            v[reps / 2],
            base_med / v[reps / 2]
        );
    }
    println!(
        "one-off: METIS {:.3} s, RCM {:.3} s, CSB build {:.3} s (beta = {}); stored pairs in diagonal blocks: {:.1}% in METIS order, {:.1}% in RCM order",
        t_metis,
        t_rcm,
        t_csb,
        csb_m.csb().beta(),
        diag_m,
        diag_r
    );
}

/// The grid repulsion on a saved embedding (a run's `-o` output) under
/// several caps and near-pair targets: time per evaluation, the grid and
/// the near pairs, and the force error against the exact sum on a seeded
/// sample of points: relative error, and bias (the least-squares factor
/// from the exact forces to the grid's; 1 is unbiased). With `--exact-z`
/// also Z's ratio to the exact O(N^2) sum.
fn repulsion_file<const D: usize>(args: &[String]) {
    let path = PathBuf::from(args.get(2).expect("usage: repulsion-file Y.txt --dim D"));
    let reps: usize = arg(args, "--reps", 3);
    let sample: usize = arg(args, "--sample", 400);
    let list = |name: &str, default: &str| -> Vec<usize> {
        arg(args, name, default.to_string())
            .split(',')
            .map(|v| v.trim().parse().expect("numbers"))
            .collect()
    };
    let caps = list("--caps", "70,100,130,160");
    let targets: Vec<f64> = arg(args, "--targets", "inf".to_string())
        .split(',')
        .map(|v| v.trim().parse().expect("numbers"))
        .collect();
    let ceiling: usize = arg(args, "--ceiling", 0);
    let h: f64 = arg(args, "--h", sgtsne::defaults::grid_h(D));
    let pts = sgtsne::io::init::read_init(&path, D).expect("read embedding");
    let y: Vec<[f64; D]> = pts
        .as_slice()
        .chunks_exact(D)
        .map(|c| c.try_into().unwrap())
        .collect();
    let n = y.len();
    // Exact numerators of a seeded sample of rows.
    let mut rng = Rng::new(3);
    let rows: Vec<usize> = (0..sample.min(n)).map(|_| rng.below(n)).collect();
    let exact: Vec<[f64; D]> = {
        use rayon::prelude::*;
        rows.par_iter()
            .map(|&i| {
                let mut f = [0.0; D];
                for (j, yj) in y.iter().enumerate() {
                    if j == i {
                        continue;
                    }
                    let mut d2 = 0.0;
                    for k in 0..D {
                        d2 += (y[i][k] - yj[k]).powi(2);
                    }
                    let w = 1.0 / (1.0 + d2);
                    for k in 0..D {
                        f[k] += w * w * (y[i][k] - yj[k]);
                    }
                }
                f
            })
            .collect()
    };
    // The library's exact engine returns Z (its forces are not needed here).
    let exact_z = args
        .iter()
        .any(|a| a == "--exact-z")
        .then(|| sgtsne::repulse::exact_repulsion(&y, &mut vec![[0.0; D]; n]));
    println!(
        "{}: N = {n}, d = {D}, h = {h}, threads = {}; ms per evaluation (median of {reps}), force error on {} sampled rows",
        path.display(),
        rayon::current_num_threads(),
        rows.len()
    );
    println!(
        "{:>5} {:>7} {:>5} {:>6} {:>11} {:>9} {:>9} {:>9} {:>9} {:>10} {:>7} {:>8}",
        "cap",
        "target",
        "m",
        "near",
        "pairs/pt",
        "binning",
        "G2G",
        "rest",
        "total",
        "rel. err",
        "bias",
        "Z ratio"
    );
    for &cap in &caps {
        for &target in &targets {
            let mut g = GridRepulsion::<D>::new(h)
                .with_max_side(cap)
                .with_split(Some(sgtsne::repulse::Split::for_dim(D)))
                .with_growth(ceiling, target);
            let mut out = vec![[0.0; D]; n];
            let mut times = Vec::new();
            let mut z = 0.0;
            for _ in 0..reps + 1 {
                let t = Instant::now();
                z = g.compute(&y, &mut out);
                let tot = t.elapsed().as_secs_f64();
                let p = g.times;
                times.push([p.binning, p.g2g, tot - p.binning - p.g2g, tot]);
            }
            times.remove(0);
            let med = |k: usize| {
                let mut v: Vec<f64> = times.iter().map(|r| r[k]).collect();
                v.sort_by(|a, b| a.partial_cmp(b).unwrap());
                v[v.len() / 2] * 1e3
            };
            let (mut num, mut den, mut dot) = (0.0, 0.0, 0.0);
            for (&i, f) in rows.iter().zip(&exact) {
                for k in 0..D {
                    num += (out[i][k] - f[k]).powi(2);
                    den += f[k] * f[k];
                    dot += out[i][k] * f[k];
                }
            }
            let z_ratio = exact_z.map_or("-".to_string(), |e| format!("{:.5}", z / e));
            let sh = g.last_shape.unwrap();
            println!(
                "{:>5} {:>7.0} {:>5} {:>6} {:>11.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>10.2e} {:>7.4} {:>8}",
                cap,
                target,
                sh.m,
                sh.near,
                sh.near_pairs as f64 / n as f64,
                med(0),
                med(1),
                med(2),
                med(3),
                (num / den).sqrt(),
                dot / den,
                z_ratio
            );
        }
    }
}

/// Writes `graph::synthetic_knn`: a kNN graph of clustered 3D points with
/// shuffled vertex ids (see its docs).
fn knn_graph(args: &[String]) {
    let n: usize = arg(args, "--n", 100_000);
    let k: usize = arg(args, "--k", 30);
    let out: String = arg(args, "-o", "knn.mtx".to_string());
    let coo = sgtsne::graph::synthetic_knn(n, k, 5);
    let f = std::fs::File::create(&out).expect("create output");
    if out.ends_with(".gz") {
        let mut w =
            flate2::write::GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::best());
        sgtsne::io::mtx::write_matrix_market(&mut w, &coo).expect("write");
        w.finish().expect("write");
    } else {
        let mut w = std::io::BufWriter::new(f);
        sgtsne::io::mtx::write_matrix_market(&mut w, &coo).expect("write");
    }
    println!("wrote {out}: {n} vertices, {} entries", coo.vals.len());
}

/// Writes the conditional affinities of a point file, as the CLI builds
/// them, so the attraction bench can run on a real points graph.
fn points_graph(args: &[String]) {
    let path = PathBuf::from(
        args.get(2)
            .expect("usage: points-graph POINTS.npy -o OUT.mtx"),
    );
    let out: String = arg(args, "-o", "points.mtx".to_string());
    let pts = sgtsne::io::points::read_npy(&path).expect("read points");
    let aff = sgtsne::affinity::Affinities::default().perplexity(arg(args, "--perplexity", 30.0));
    let g = aff
        .graph(&pts, &mut |s| eprintln!("{s}"))
        .expect("affinities");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&out).expect("create output"));
    sgtsne::io::mtx::write_matrix_market(&mut w, &g.coo).expect("write");
    println!(
        "wrote {out}: {} vertices, {} entries",
        g.coo.n,
        g.coo.vals.len()
    );
}

/// Exact against NN-descent on a point file: seconds and recall@k.
fn knn(args: &[String]) {
    let path = PathBuf::from(args.get(2).expect("usage: knn POINTS.npy"));
    let k: usize = arg(args, "--k", 90);
    let sample: usize = arg(
        args,
        "--sample",
        sgtsne::knn::DescentParams::default().sample,
    );
    let mut pts = sgtsne::io::points::read_npy(&path).expect("read points");
    let n: usize = arg(args, "--n", pts.n()).min(pts.n());
    if n < pts.n() {
        pts = sgtsne::points::Points::try_new(n, pts.d(), pts.as_slice()[..n * pts.d()].to_vec())
            .expect("subset");
    }
    println!(
        "{} points x {} dims, k = {k}, threads {}",
        n,
        pts.d(),
        rayon::current_num_threads()
    );
    let t = Instant::now();
    if args.iter().any(|a| a == "--skip-approx") {
        sgtsne::knn::exact(&pts, k);
        println!("exact {:.2} s", t.elapsed().as_secs_f64());
        return;
    }
    let params = sgtsne::knn::DescentParams {
        sample,
        sample_old: arg(
            args,
            "--sample-old",
            sgtsne::knn::DescentParams::default().sample_old,
        ),
        max_sweeps: arg(
            args,
            "--sweeps",
            sgtsne::knn::DescentParams::default().max_sweeps,
        ),
        delta: arg(args, "--delta", sgtsne::knn::DescentParams::default().delta),
        trees: arg(args, "--trees", sgtsne::knn::DescentParams::default().trees),
        ..Default::default()
    };
    let approx = sgtsne::knn::approx_with_progress(&pts, k, &params, &mut |p| {
        println!("  {:7.2} s  {p:?}", t.elapsed().as_secs_f64())
    });
    let ta = t.elapsed().as_secs_f64();
    println!("nn-descent {ta:.2} s (sample {sample})");
    let t = Instant::now();
    let r = sgtsne::knn::sampled_recall(&pts, &approx, sgtsne::knn::RECALL_SAMPLE, 1);
    println!(
        "recall@{k} on {} sampled points {r:.4} ({:.2} s)",
        sgtsne::knn::RECALL_SAMPLE,
        t.elapsed().as_secs_f64()
    );
    if args.iter().any(|a| a == "--skip-exact") {
        return;
    }
    let t = Instant::now();
    let exact = sgtsne::knn::exact(&pts, k);
    let te = t.elapsed().as_secs_f64();
    let mut hit = 0usize;
    for i in 0..n {
        let (e, _) = exact.neighbors(i);
        let (a, _) = approx.neighbors(i);
        hit += a.iter().filter(|j| e.contains(j)).count();
    }
    println!(
        "exact {te:.2} s; nn-descent/exact time {:.2}; recall@{k} {:.4}",
        ta / te,
        hit as f64 / (n * k) as f64
    );
}

/// ns per point of batched single-precision FFTs for every 7-smooth length
/// from 16 to --max: the measurements behind the grid-size rule.
fn fft_sizes(args: &[String]) {
    use rustfft::num_complex::Complex32;
    let max: usize = arg(args, "--max", 2048);
    let mut planner = rustfft::FftPlanner::<f32>::new();
    println!("{:>6} {:>12} {:>10}", "n", "factors", "ns/point");
    for n in 16..=max {
        let mut x = n;
        let mut f = String::new();
        for p in [2, 3, 5, 7] {
            let mut e = 0;
            while x % p == 0 {
                x /= p;
                e += 1;
            }
            if e > 0 {
                f += &format!("{p}^{e}");
            }
        }
        if x != 1 {
            continue;
        }
        let fft = planner.plan_fft_forward(n);
        let lines = (1 << 20) / n;
        let mut buf = vec![Complex32::new(1.0, 0.5); lines * n];
        let mut scratch = vec![Complex32::new(0.0, 0.0); fft.get_inplace_scratch_len()];
        fft.process_with_scratch(&mut buf, &mut scratch);
        let mut best = f64::INFINITY;
        for _ in 0..5 {
            let t = Instant::now();
            fft.process_with_scratch(&mut buf, &mut scratch);
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!("{n:>6} {f:>12} {:>10.3}", best * 1e9 / (lines * n) as f64);
    }
}

/// Graph-guided queries against the exact query: seconds and recall@k
/// (by distance, so ties count), for each graph size and ε.
fn knn_query(args: &[String]) {
    let usage = "usage: knn-query REF.npy QUERIES.npy";
    let reference = sgtsne::io::points::read_npy(&PathBuf::from(args.get(2).expect(usage)))
        .expect("read reference");
    let queries = sgtsne::io::points::read_npy(&PathBuf::from(args.get(3).expect(usage)))
        .expect("read queries");
    let k: usize = arg(args, "--k", 25);
    let list = |name: &str, default: &str| -> Vec<String> {
        arg(args, name, default.to_string())
            .split(',')
            .map(str::to_string)
            .collect()
    };
    let graph_ks: Vec<usize> = list("--graph-k", "15,30")
        .iter()
        .map(|v| v.parse().expect("--graph-k"))
        .collect();
    let eps: Vec<f64> = list("--eps", "0.05,0.1,0.2")
        .iter()
        .map(|v| v.parse().expect("--eps"))
        .collect();
    let reps: usize = arg(args, "--reps", 3);
    println!(
        "{} reference x {} dims, {} queries, k = {k}, threads {}",
        reference.n(),
        reference.d(),
        queries.n(),
        rayon::current_num_threads()
    );
    let best = |f: &mut dyn FnMut()| -> f64 {
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let mut truth = None;
    let te = best(&mut || truth = Some(sgtsne::knn::exact_query(&reference, &queries, k)));
    let truth = truth.expect("ran");
    println!("exact query: {te:.3} s (best of {reps})");
    let t = Instant::now();
    let kmax = *graph_ks.iter().max().expect("a graph size");
    let own = sgtsne::knn::exact(&reference, kmax);
    println!(
        "the reference's own {kmax}-NN (as a fit finds them): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    for &gk in &graph_ks {
        let g = sgtsne::knn::SearchGraph::from_knn(&own, gk);
        let t = Instant::now();
        let index = sgtsne::knn::QueryIndex::new(&reference, &g, 1).expect("index");
        let tb = t.elapsed().as_secs_f64();
        for &e in &eps {
            let p = sgtsne::knn::QueryParams { epsilon: e };
            let mut got = None;
            let tq = best(&mut || got = Some(index.query(&queries, k, &p)));
            let got = got.expect("ran");
            let mut hit = 0usize;
            for i in 0..queries.n() {
                let kth = truth.neighbors(i).1[k - 1];
                hit += got.neighbors(i).1.iter().filter(|&&dd| dd <= kth).count();
            }
            println!(
                "graph k {gk:3}  eps {e:5.2}: build {tb:.3} s  query {tq:.3} s ({:.3}x exact)  recall@{k} {:.5}",
                tq / te,
                hit as f64 / (queries.n() * k) as f64
            );
        }
    }
}
