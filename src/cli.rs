//! Argument parsing, progress display and the dispatch on dimension.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};

use sgtsne::graph::{Coo, PrepareReport, StochasticGraph};
use sgtsne::io::output::{self, Format};
use sgtsne::io::points::InputFormat;
use sgtsne::knn::KnnMethod;
use sgtsne::optimize::{self, AttractionKind, Eta, Params, Progress};
use sgtsne::order::Ordering;
use sgtsne::repulse::RepulsionKind;

const AFTER_HELP: &str = "\
Examples:
  Embed a graph in 3D:
    sgtsne graph.mtx --dim 3 -o graph3d.txt
  A kNN graph with lambda-rescaling, fixed seed, CSV output:
    sgtsne knn.mtx.gz --lambda 10 --seed 7 -o out.csv
  Classic SG-t-SNE-Pi step size, exact repulsion, to stdout:
    sgtsne small.mtx --eta 200 --repulsion exact -o -
  Points (N x D): perplexity-30 kNN graph, then embed in 2D:
    sgtsne points.npy --perplexity 30 --dim 2 -o points2d.txt
  Raw pixels: reduce to 50 principal components first:
    sgtsne images.csv --pca 50 -o images2d.txt
  Build the graph from points once, embed it later (any number of times):
    sgtsne graph points.npy --perplexity 30 -o graph.mtx
    sgtsne graph.mtx --dim 3
  Drop-in for van der Maaten's bh_tsne (bhtsne.py, wrappers): copy the binary
  under that name; it reads ./data.dat and writes ./result.dat:
    cp sgtsne path/to/bhtsne/bh_tsne      (or run: sgtsne bhtsne)

Input: chosen by extension (or --input-format), else by the first bytes.
  .mtx[.gz]  a Matrix Market 'coordinate' graph (real, integer or pattern;
             general or symmetric). Entry (i, j) is the weight of the edge
             j -> i; columns are normalised to sum to 1, lambda-rescaled, then
             P + P^T is divided by its sum.
  .npy       points, N x D (float64/32, int, uint8; C or Fortran order)
  .txt .csv .tsv [.gz]  points, one per line (a header line is skipped)
  .dat       points in bh_tsne's data.dat layout
Points become a graph: k = min(N-1, 3 * perplexity) nearest neighbours, a
per-point Gaussian with entropy ln(perplexity), column i holding p(j|i).

Output: one line per vertex in input order, d numbers separated by spaces (or
.csv, .tsv, .npy, .bin by the extension of -o, or --format). Progress and the
final 'time: ... final KL ...' line go to stderr.";

/// Embed a sparse stochastic graph (or point data, via a kNN graph) in 1, 2
/// or 3 dimensions, SG-t-SNE-Pi style.
///
/// Subcommands: 'sgtsne graph POINTS -o G.mtx' writes the graph built from
/// points; 'sgtsne bhtsne' is the bh_tsne drop-in (see the examples below).
#[derive(Parser, Debug)]
#[command(name = "sgtsne", version, about, long_about, after_help = AFTER_HELP)]
pub struct Args {
    /// Input: a graph (.mtx, .mtx.gz) or points (.npy, .txt, .csv, .tsv, .dat)
    pub input: PathBuf,

    #[command(flatten)]
    pub points: PointsOpts,

    /// Embedding dimension: 1, 2 or 3
    #[arg(short = 'd', long, default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=3))]
    pub dim: u8,

    /// Lambda-rescaling target: each column's entries p are raised to the power
    /// sigma with sum p^sigma = lambda (1 = off; 10 suits kNN graphs)
    #[arg(short = 'l', long, default_value_t = 1.0, value_parser = positive_f64, allow_negative_numbers = true)]
    pub lambda: f64,

    /// Number of gradient-descent iterations
    #[arg(short = 'm', long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(0..=10_000_000))]
    pub max_iter: u64,

    /// Iterations of early exaggeration (with momentum 0.5)
    #[arg(short = 'e', long, default_value_t = 250)]
    pub early_iter: u64,

    /// Early exaggeration factor
    #[arg(short = 'a', long, default_value_t = 12.0, value_parser = positive_f64, allow_negative_numbers = true)]
    pub alpha: f64,

    /// Step size: a positive number, or 'auto' = max(200, N/alpha).
    /// '200' reproduces SG-t-SNE-Pi and bh_tsne
    #[arg(long, default_value = "auto", allow_negative_numbers = true)]
    pub eta: Eta,

    /// Seed of the random initial embedding (runs with the same seed reproduce exactly)
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Initial embedding: N rows of d numbers, in input vertex order
    #[arg(long, value_name = "FILE")]
    pub init: Option<PathBuf>,

    /// Vertex labels, one per line in input order (any strings): colour the
    /// plots and report the 10-NN label accuracy of the embedding
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,

    /// Also draw a PNG scatter plot (3D: the three axis-pair projections;
    /// 1D: one strip per label)
    #[arg(long, value_name = "PNG")]
    pub plot: Option<PathBuf>,

    /// Also write a self-contained interactive HTML viewer (zoom, pan,
    /// rotate in 3D, hover for vertex and label); opens offline
    #[arg(long, value_name = "HTML")]
    pub html: Option<PathBuf>,

    /// Worker threads (0 = all cores). Results do not depend on it
    #[arg(short = 'p', long, default_value_t = 0)]
    pub threads: usize,

    /// Output file, '-' for stdout
    #[arg(short = 'o', long, default_value = "embedding.txt")]
    pub output: PathBuf,

    /// Output format: txt, csv, tsv, npy or bin (default: by the extension of -o)
    #[arg(long)]
    pub format: Option<Format>,

    /// Repulsion engine: exact (O(N^2)), grid (FFT), or auto (exact up to 1000 vertices)
    #[arg(long, default_value = "auto")]
    pub repulsion: RepulsionKind,

    /// Grid spacing of the grid repulsion (default 0.5 / 0.7 / 1.2 for d = 1 / 2 / 3)
    #[arg(long, value_parser = positive_f64, allow_negative_numbers = true)]
    pub grid_h: Option<f64>,

    /// Vertex ordering for the sparse attraction: metis, rcm or none
    #[arg(long, default_value = "metis")]
    pub order: Ordering,

    /// Sparse attraction layout: csb (compressed sparse blocks over one
    /// triangle of P, each pair computed once; about 2x plain rows on large
    /// kNN graphs in METIS order) or csr (plain rows, the reference)
    #[arg(long, default_value = "csb")]
    pub attraction: AttractionKind,

    /// Refuse runs estimated to need more memory than this (e.g. 512MB,
    /// 8GB; units are powers of 1024). Default: the memory available now
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,

    /// Print nothing but errors
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

fn parse_size(s: &str) -> std::result::Result<u64, String> {
    sgtsne::memory::parse_size(s).map_err(|e| e.to_string())
}

/// The memory cap: the flag, else what the machine has available.
fn memory_cap(flag: Option<u64>) -> Option<(u64, &'static str)> {
    match flag {
        Some(b) => Some((b, "--max-memory")),
        None => sgtsne::memory::available().map(|b| (b, "the memory available")),
    }
}

fn check_memory(need: u64, cap: Option<(u64, &str)>, what: &str) -> Result<()> {
    if let Some((cap, source)) = cap {
        if need > cap {
            bail!(
                "{what} needs about {}, more than {source} ({}); raise --max-memory if the estimate is too cautious, or use a smaller input, a lower --dim or a larger --grid-h",
                sgtsne::memory::human(need),
                sgtsne::memory::human(cap)
            );
        }
    }
    Ok(())
}

/// How point data become a graph.
#[derive(clap::Args, Debug, Clone)]
pub struct PointsOpts {
    /// Perplexity u of the point affinities: k = min(N-1, 3u) neighbours (points only)
    #[arg(long, default_value_t = 30.0, value_parser = positive_f64, allow_negative_numbers = true)]
    pub perplexity: f64,

    /// Nearest-neighbour search: exact (brute force), approx (NN-descent), or
    /// auto (exact up to about 220,000 points of 50 dimensions) (points only)
    #[arg(long, default_value = "auto")]
    pub knn: KnnMethod,

    /// Project points on this many principal components first; 0 = off (points only)
    #[arg(long, default_value_t = 0)]
    pub pca: usize,

    /// Input format: mtx, npy, text or dat (default: by extension, then by content)
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
}

const POINT_FLAGS: [&str; 3] = ["perplexity", "knn", "pca"];

/// Write the graph that point data become, in Matrix Market form, for later
/// runs of 'sgtsne GRAPH.mtx'.
#[derive(Parser, Debug)]
#[command(
    name = "sgtsne graph",
    version,
    after_help = "Example:\n  sgtsne graph points.npy --perplexity 30 -o graph.mtx\n  sgtsne graph.mtx --dim 2\n\n\
The file holds p(j|i) in column i (columns sum to 1); embedding it gives the\n\
same result as embedding the points directly with the same flags."
)]
pub struct GraphArgs {
    /// Points: .npy, .txt, .csv, .tsv or bh_tsne's .dat
    pub input: PathBuf,

    #[command(flatten)]
    pub points: PointsOpts,

    /// Output Matrix Market file, '-' for stdout
    #[arg(short = 'o', long, default_value = "graph.mtx")]
    pub output: PathBuf,

    /// Seed of the approximate kNN search
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Refuse inputs estimated to need more memory than this (e.g. 8GB).
    /// Default: the memory available now
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,

    /// Worker threads (0 = all cores). Results do not depend on it
    #[arg(short = 'p', long, default_value_t = 0)]
    pub threads: usize,

    /// Print nothing but errors
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

/// The bh_tsne drop-in: reads data.dat, writes result.dat in a directory.
#[derive(Parser, Debug)]
#[command(
    name = "sgtsne bhtsne",
    version,
    after_help = "Invoked as 'bh_tsne' (copy or link the binary under that name) it takes no\n\
arguments and works in the current directory, as van der Maaten's wrappers expect.\n\
Threads: RAYON_NUM_THREADS (default: all cores)."
)]
pub struct BhArgs {
    /// Directory holding data.dat; result.dat is written there
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,

    /// Worker threads (0 = all cores, or RAYON_NUM_THREADS)
    #[arg(short = 'p', long, default_value_t = 0)]
    pub threads: usize,
}

fn positive_f64(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err(format!("'{s}' must be a positive number")),
        Err(_) => Err(format!("'{s}' is not a number")),
    }
}

/// Starts `n` worker threads and runs `job` on one of them. The job's
/// parallel loops then start from inside the pool: with one thread they run
/// inline, and with more the caller is one of the workers, so no loop pays
/// for waking a worker and parking the main thread (measured on the pbmc
/// 2D run, one thread: see docs/performance.md).
fn in_workers<T: Send>(n: usize, job: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .context("could not start the worker threads")?;
    rayon::scope(|_| job())
}

pub fn run() -> Result<()> {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let prog = argv
        .first()
        .and_then(|a| Path::new(a).file_stem())
        .and_then(|s| s.to_str())
        .unwrap_or("");
    if prog == "bh_tsne" {
        let a = BhArgs::parse_from(&argv);
        return in_workers(a.threads, || crate::bhtsne::run(&a.dir));
    }
    match argv.get(1).and_then(|a| a.to_str()) {
        Some("bhtsne") => {
            let a = BhArgs::parse_from(&argv[1..]);
            return in_workers(a.threads, || crate::bhtsne::run(&a.dir));
        }
        Some("graph") => {
            let matches = GraphArgs::command().get_matches_from(&argv[1..]);
            let a = GraphArgs::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
            return in_workers(a.threads, || run_graph(&a));
        }
        _ => {}
    }
    let matches = Args::command().get_matches_from(&argv);
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let given: Vec<&str> = POINT_FLAGS
        .into_iter()
        .filter(|f| matches.value_source(f) == Some(ValueSource::CommandLine))
        .collect();
    in_workers(args.threads, || {
        let format = input_format(&args.input, &args.points)?;
        if format == InputFormat::Mtx && !given.is_empty() {
            bail!(
                "--{} applies to point input, but {} is a graph (Matrix Market)",
                given[0],
                args.input.display()
            );
        }
        match args.dim {
            1 => run_dim::<1>(&args, format),
            2 => run_dim::<2>(&args, format),
            _ => run_dim::<3>(&args, format),
        }
    })
}

fn run_dim<const D: usize>(args: &Args, input_format: InputFormat) -> Result<()> {
    let t0 = Instant::now();
    let format = args
        .format
        .unwrap_or_else(|| Format::from_path(&args.output));
    output::check_writable(&args.output)?;
    for p in [&args.plot, &args.html].into_iter().flatten() {
        output::check_writable(p)?;
    }
    let cap = memory_cap(args.max_memory);
    let (graph, report) = if input_format == InputFormat::Mtx {
        StochasticGraph::from_matrix_market(&args.input, args.lambda)?
    } else {
        let coo = points_to_graph(
            &args.input,
            input_format,
            &args.points,
            args.seed,
            args.quiet,
            cap,
        )?;
        StochasticGraph::from_coo(&coo, args.lambda)?
    };
    let need = sgtsne::memory::estimate_embedding(
        graph.n(),
        graph.nnz(),
        D,
        args.repulsion,
        args.grid_h.unwrap_or(optimize::default_grid_h(D)),
    );
    check_memory(
        need,
        cap,
        &format!(
            "embedding {} vertices ({} entries) in {D}D",
            graph.n(),
            graph.nnz()
        ),
    )?;
    if !args.quiet {
        let what = if input_format == InputFormat::Mtx {
            format!("read {}", args.input.display())
        } else {
            "kNN graph".to_string()
        };
        describe(&what, &report);
    }
    let labels = match &args.labels {
        Some(p) => Some(sgtsne::plot::read_labels(p, graph.n())?),
        None => None,
    };
    let init = match &args.init {
        Some(p) => {
            let rows = sgtsne::io::init::read_rows::<D>(p)?;
            if rows.len() != graph.n() {
                bail!(
                    "{}: {} rows, but the graph has {} vertices",
                    p.display(),
                    rows.len(),
                    graph.n()
                );
            }
            Some(rows)
        }
        None => None,
    };
    let params = Params {
        max_iter: args.max_iter as usize,
        early_iter: args.early_iter as usize,
        alpha: args.alpha,
        eta: args.eta,
        seed: args.seed,
        repulsion: args.repulsion,
        grid_h: args.grid_h,
        ordering: args.order,
        attraction: args.attraction,
        ..Params::default()
    };
    params.validate()?;
    let prepare = t0.elapsed().as_secs_f64();
    if !args.quiet {
        eprintln!(
            "embedding {} vertices in {}D: {} iterations, eta {}, repulsion {:?}, memory estimate {}",
            graph.n(),
            D,
            params.max_iter,
            params.eta_for(graph.n()),
            params.repulsion.resolve(graph.n()),
            sgtsne::memory::human(need)
        );
    }
    let quiet = args.quiet;
    let mut stderr = std::io::stderr();
    let bar = (!quiet && stderr.is_terminal() && params.max_iter > 0).then(|| {
        let b = indicatif::ProgressBar::new(params.max_iter as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos:>5}/{len} iterations  KL {msg}  {elapsed_precise} (ETA {eta})",
            )
            .expect("valid template"),
        );
        b
    });
    let mut on_progress = |p: &Progress| {
        if quiet {
            return;
        }
        if let Some(b) = &bar {
            if let Some(kl) = p.kl {
                b.set_message(format!("{kl:.4}"));
            }
            b.set_position(p.iter as u64);
            return;
        }
        if let Some(kl) = p.kl {
            let _ = writeln!(
                stderr,
                "iteration {:>5}: KL {:.4} ({:.2} s)",
                p.iter, kl, p.seconds
            );
        }
    };
    let result = optimize::embed::<D>(&graph, &params, init.as_deref(), &mut on_progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let result = result?;
    output::write_embedding(&args.output, &result.y, format)?;
    let title = format!(
        "{} ({} points, {}D)",
        args.input
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        graph.n(),
        D
    );
    if let Some(p) = &args.plot {
        let png = sgtsne::plot::render_png(&result.y, labels.as_ref(), &title);
        output::write_atomic(p, |w| w.write_all(&png))?;
    }
    if let Some(p) = &args.html {
        let page = sgtsne::plot::render_html(&result.y, labels.as_ref(), &title);
        output::write_atomic(p, |w| w.write_all(page.as_bytes()))?;
    }
    if let (Some(l), false) = (&labels, args.quiet) {
        let acc = sgtsne::plot::knn_label_accuracy(&result.y, l)?;
        eprintln!("10-NN label accuracy of the embedding: {acc:.4}");
    }
    let total = t0.elapsed().as_secs_f64();
    let t = result.timings;
    let prep = prepare + t.setup;
    let other = (total - prep - t.attraction - t.repulsion).max(0.0);
    if !args.quiet {
        eprintln!(
            "time: total {:.2} s (prepare {:.2} s, attraction {:.2} s, repulsion {:.2} s, other {:.2} s), final KL {:.4}",
            total, prep, t.attraction, t.repulsion, other, result.kl
        );
    }
    Ok(())
}

fn describe(what: &str, r: &PrepareReport) {
    eprintln!(
        "{}: {} vertices, {} edges; {} columns already stochastic; {} entries after symmetrisation",
        what, r.vertices, r.entries, r.already_stochastic, r.symmetric_entries
    );
    if r.isolated > 0 {
        eprintln!(
            "warning: {} vertices have no edges; they are embedded by repulsion alone",
            r.isolated
        );
    }
    if r.lambda_skipped > 0 {
        eprintln!(
            "note: {} single-entry columns cannot be lambda-rescaled and were left as they are",
            r.lambda_skipped
        );
    }
}

fn input_format(path: &Path, opts: &PointsOpts) -> Result<InputFormat> {
    Ok(match opts.input_format {
        Some(f) => f,
        None => InputFormat::detect(path)?,
    })
}

/// Reads points and turns them into the conditional-affinity graph (SPEC §8).
pub fn points_to_graph(
    path: &Path,
    format: InputFormat,
    opts: &PointsOpts,
    seed: u64,
    quiet: bool,
    cap: Option<(u64, &str)>,
) -> Result<Coo> {
    let t = Instant::now();
    let mut pts = sgtsne::io::points::read_points(path, format)?;
    check_memory(
        sgtsne::memory::estimate_points(
            pts.n(),
            pts.d(),
            sgtsne::knn::neighbours_for_perplexity(pts.n(), opts.perplexity),
        ),
        cap,
        &format!(
            "the kNN graph of {} points of {} dimensions",
            pts.n(),
            pts.d()
        ),
    )?;
    if !quiet {
        eprintln!(
            "read {}: {} points of {} dimensions ({:.2} s)",
            path.display(),
            pts.n(),
            pts.d(),
            t.elapsed().as_secs_f64()
        );
    }
    if pts.n() < 2 {
        bail!(
            "{}: need at least 2 points, found {}",
            path.display(),
            pts.n()
        );
    }
    if opts.pca > 0 {
        if opts.pca >= pts.d() {
            if !quiet {
                eprintln!(
                    "note: --pca {} is not below the {} input dimensions; no PCA",
                    opts.pca,
                    pts.d()
                );
            }
        } else {
            let t = Instant::now();
            pts = sgtsne::pca::pca(&pts, opts.pca)?;
            if !quiet {
                eprintln!(
                    "PCA to {} dimensions ({:.2} s)",
                    opts.pca,
                    t.elapsed().as_secs_f64()
                );
            }
        }
    }
    sgtsne_points_graph(&pts, opts.perplexity, opts.knn, seed, quiet)
}

/// kNN search plus calibration, with progress on stderr.
pub fn sgtsne_points_graph(
    pts: &sgtsne::points::Points,
    perplexity: f64,
    method: KnnMethod,
    seed: u64,
    quiet: bool,
) -> Result<Coo> {
    let k = sgtsne::knn::neighbours_for_perplexity(pts.n(), perplexity);
    if k == 0 {
        bail!(
            "perplexity {perplexity} is too small: it gives no neighbours (need perplexity >= 1/3)"
        );
    }
    let resolved = method.resolve(pts.n(), pts.d());
    let t = Instant::now();
    let knn = sgtsne::knn::knn(pts, k, resolved, seed)?;
    if !quiet {
        eprintln!(
            "{} nearest neighbours ({}): {:.2} s",
            k,
            match resolved {
                KnnMethod::Approx => "approximate, NN-descent",
                _ => "exact",
            },
            t.elapsed().as_secs_f64()
        );
    }
    let cal = sgtsne::knn::perplexity_graph(&knn, perplexity)?;
    if !quiet && cal.not_converged > 0 {
        eprintln!(
            "note: {} points could not reach perplexity {} over {} neighbours (too few distinct distances); they use the closest entropy found",
            cal.not_converged, perplexity, k
        );
    }
    Ok(cal.coo)
}

fn run_graph(a: &GraphArgs) -> Result<()> {
    let t0 = Instant::now();
    let format = input_format(&a.input, &a.points)?;
    if format == InputFormat::Mtx {
        bail!(
            "{} is already a graph (Matrix Market); 'sgtsne graph' turns points into one",
            a.input.display()
        );
    }
    output::check_writable(&a.output)?;
    let coo = points_to_graph(
        &a.input,
        format,
        &a.points,
        a.seed,
        a.quiet,
        memory_cap(a.max_memory),
    )?;
    let comments = vec![format!(
        "sgtsne {} graph from {}: perplexity {}, {} neighbours, column i holds p(j|i)",
        env!("CARGO_PKG_VERSION"),
        a.input.display(),
        a.points.perplexity,
        sgtsne::knn::neighbours_for_perplexity(coo.n, a.points.perplexity)
    )];
    output::write_atomic(&a.output, |w| {
        sgtsne::io::mtx::write_matrix_market_with_comments(w, &coo, &comments)
    })?;
    if !a.quiet {
        eprintln!(
            "wrote {}: {} vertices, {} entries ({:.2} s)",
            a.output.display(),
            coo.n,
            coo.vals.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
