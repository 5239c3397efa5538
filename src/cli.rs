//! Argument parsing, progress display and the dispatch on dimension.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Parser;

use sgtsne::graph::{PrepareReport, StochasticGraph};
use sgtsne::io::output::{self, Format};
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

Input: a Matrix Market 'coordinate' file (real, integer or pattern; general or
symmetric; plain or gzip). Entry (i, j) is the weight of the edge j -> i; columns
are normalised to sum to 1, lambda-rescaled, then P + P^T is divided by its sum.

Output: one line per vertex in input order, d numbers separated by spaces (or
.csv, .tsv, .npy, .bin by the extension of -o, or --format). Progress and the
final 'time: ... final KL ...' line go to stderr.";

/// Embed a sparse stochastic graph in 1, 2 or 3 dimensions (SG-t-SNE-Pi style).
#[derive(Parser, Debug)]
#[command(name = "sgtsne", version, about, after_help = AFTER_HELP)]
pub struct Args {
    /// Input graph: Matrix Market file (.mtx or .mtx.gz)
    pub input: PathBuf,

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

    /// Sparse attraction layout: csr (rows, in the --order ordering) or csb
    /// (compressed sparse blocks; not faster here yet)
    #[arg(long, default_value = "csr")]
    pub attraction: AttractionKind,

    /// Print nothing but errors
    #[arg(short = 'q', long)]
    pub quiet: bool,
}

fn positive_f64(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        Ok(_) => Err(format!("'{s}' must be a positive number")),
        Err(_) => Err(format!("'{s}' is not a number")),
    }
}

pub fn run() -> Result<()> {
    let args = Args::parse();
    rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build_global()
        .context("could not start the worker threads")?;
    match args.dim {
        1 => run_dim::<1>(&args),
        2 => run_dim::<2>(&args),
        _ => run_dim::<3>(&args),
    }
}

fn run_dim<const D: usize>(args: &Args) -> Result<()> {
    let t0 = Instant::now();
    let format = args
        .format
        .unwrap_or_else(|| Format::from_path(&args.output));
    output::check_writable(&args.output)?;
    let (graph, report) = StochasticGraph::from_matrix_market(&args.input, args.lambda)?;
    if !args.quiet {
        describe(&args.input, &report);
    }
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
            "embedding {} vertices in {}D: {} iterations, eta {}, repulsion {:?}",
            graph.n(),
            D,
            params.max_iter,
            params.eta_for(graph.n()),
            params.repulsion.resolve(graph.n())
        );
    }
    let quiet = args.quiet;
    let mut stderr = std::io::stderr();
    let mut on_progress = |p: &Progress| {
        if quiet {
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
    let result = optimize::embed::<D>(&graph, &params, init.as_deref(), &mut on_progress)?;
    output::write_embedding(&args.output, &result.y, format)?;
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

fn describe(path: &Path, r: &PrepareReport) {
    eprintln!(
        "read {}: {} vertices, {} edges; {} columns already stochastic; {} entries after symmetrisation",
        path.display(),
        r.vertices,
        r.entries,
        r.already_stochastic,
        r.symmetric_entries
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
