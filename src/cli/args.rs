//! The command line's flags. Every default is read from the library
//! (`sgtsne::defaults` and the settings' `Default`), so the help text and
//! the library cannot disagree; values are checked by the library, once.

use std::path::PathBuf;

use clap::Parser;

use sgtsne::affinity::Affinities;
use sgtsne::defaults;
use sgtsne::io::output::Format;
use sgtsne::io::points::InputFormat;
use sgtsne::knn::KnnMethod;
use sgtsne::order::VertexOrder;
use sgtsne::repulse::{FftBackend, RepulsionKind};
use sgtsne::{AttractionKind, Embedder, Eta, Init, Placement};

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
  Keep the run, place new points into it later, or continue it:
    sgtsne train.npy --pca 50 -o train2d.txt --save model.npz
    sgtsne transform model.npz test.npy -o test2d.txt
    sgtsne resume model.npz --max-iter 500 -o more.txt
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
/// points; 'sgtsne transform MODEL NEW' places new points or vertices into a
/// run saved with --save; 'sgtsne resume MODEL' continues it; 'sgtsne
/// bhtsne' is the bh_tsne drop-in (see the examples below).
#[derive(Parser, Debug)]
#[command(name = "sgtsne", version, about, long_about, after_help = AFTER_HELP)]
pub struct Args {
    /// Input: a graph (.mtx, .mtx.gz) or points (.npy, .txt, .csv, .tsv, .dat)
    pub input: PathBuf,

    #[command(flatten)]
    pub points: PointsOpts,

    /// Embedding dimension: 1, 2 or 3
    #[arg(short = 'd', long, default_value_t = defaults::DIM)]
    pub dim: usize,

    /// Lambda-rescaling target: each column's entries p are raised to the power
    /// sigma with sum p^sigma = lambda (1 = off; 10 suits kNN graphs)
    #[arg(short = 'l', long, default_value_t = defaults::LAMBDA, allow_negative_numbers = true)]
    pub lambda: f64,

    /// Number of gradient-descent iterations
    #[arg(short = 'm', long, default_value_t = defaults::MAX_ITER)]
    pub max_iter: usize,

    /// Iterations of early exaggeration (with --momentum)
    #[arg(short = 'e', long, default_value_t = defaults::EARLY_ITER)]
    pub early_iter: usize,

    /// Momentum during the early exaggeration, in [0, 1) (openTSNE's
    /// 'initial_momentum'). Default: 0.8 for point input (openTSNE's; more
    /// of the global structure), 0.5 for a graph (SG-t-SNE-Pi's)
    #[arg(long, allow_negative_numbers = true)]
    pub momentum: Option<f64>,

    /// Momentum after the early exaggeration, in [0, 1)
    #[arg(long, default_value_t = defaults::FINAL_MOMENTUM, allow_negative_numbers = true)]
    pub final_momentum: f64,

    /// Early exaggeration factor
    #[arg(short = 'a', long, default_value_t = defaults::ALPHA, allow_negative_numbers = true)]
    pub alpha: f64,

    /// Exaggeration after the early phase, to the end: 1 is plain t-SNE;
    /// 2-4 tightens clusters and shows more of the global structure of
    /// large data sets (openTSNE's 'exaggeration')
    #[arg(long, default_value_t = defaults::EXAGGERATION, allow_negative_numbers = true)]
    pub exaggeration: f64,

    /// Late exaggeration factor, from --late-start to the end (FIt-SNE's
    /// 'late_exag_coeff')
    #[arg(long, value_name = "E", allow_negative_numbers = true)]
    pub late_exaggeration: Option<f64>,

    /// First iteration of the late exaggeration (default: right after the
    /// early phase)
    #[arg(long, value_name = "ITER", requires = "late_exaggeration")]
    pub late_start: Option<usize>,

    /// Degrees of freedom nu of the kernel (1 + d^2/nu)^-nu: 1 is standard
    /// t-SNE; below 1 (e.g. 0.5) heavier tails split clusters finer; large
    /// values approach SNE's Gaussian
    #[arg(long, default_value_t = defaults::DOF, value_name = "NU", allow_negative_numbers = true)]
    pub dof: f64,

    /// Step size: a positive number, or 'auto' = max(200, N / exaggeration
    /// in force: alpha early, then --exaggeration). '200' reproduces
    /// SG-t-SNE-Pi and bh_tsne
    #[arg(long, default_value_t = Eta::Auto, allow_negative_numbers = true)]
    pub eta: Eta,

    /// Longest step a vertex may take in one iteration (the norm of its
    /// update, as FIt-SNE's max_step_norm); keeps graphs with a few heavy
    /// edges or a hub from oscillating apart. 0 = no bound
    #[arg(long, default_value_t = defaults::MAX_STEP, value_name = "LEN", allow_negative_numbers = true)]
    pub max_step: f64,

    /// Seed of the start and of the approximate kNN search (runs with the
    /// same seed reproduce exactly)
    #[arg(long, default_value_t = defaults::SEED)]
    pub seed: u64,

    /// Start: spectral (Laplacian eigenmaps of the graph; the default for
    /// graphs), pca (the points' principal components; the default for
    /// points), random (N(0, 1e-4^2)), auto, subsample[:SIZE] (points: embed
    /// a seeded sample of SIZE points, default 25000, place the others at
    /// their nearest sample points and start from there; for large data),
    /// or FILE: N rows of d numbers in input vertex order (text with an
    /// optional header, or .npy). A file named like a keyword needs a path:
    /// ./pca
    #[arg(long, value_name = "KIND|FILE", default_value = "auto")]
    pub init: InitArg,

    /// Also write a JSON report: the parameters used (every 'auto'
    /// resolved), sizes, final KL, seconds per phase, peak memory, the
    /// final grid, and quality (10-NN preservation; with --labels, 10-NN
    /// label accuracy)
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,

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

    /// Repulsion engine: exact (O(N^2)), grid (FFT), or auto (exact up to 1000 vertices, and above wherever the embedding spreads so wide that the exact sum is the cheaper)
    #[arg(long, default_value_t = RepulsionKind::Auto)]
    pub repulsion: RepulsionKind,

    /// Grid spacing of the grid repulsion, in (0, 10] (default 0.5 / 0.7 /
    /// 1.2 for d = 1 / 2 / 3; smaller is more accurate and slower)
    #[arg(long, allow_negative_numbers = true)]
    pub grid_h: Option<f64>,

    /// Cap on the grid's nodes per side (at least 16; default 65536 / 2048
    /// / 3 N^(1/3) within [48, 192] for d = 1 / 2 / 3; in 3D the grid starts
    /// capped at 1.07 N^(1/3) and grows toward this only where points crowd
    /// the exact near sums). An embedding wider than cap x grid-h gets a
    /// coarser spacing instead of a bigger grid, and pairs closer than 3 (1D, 2D) or 2 (3D)
    /// spacings are summed exactly (the near/far split), so time and memory
    /// per iteration stay bounded
    #[arg(long, value_name = "NODES")]
    pub grid_max: Option<usize>,

    /// Where the grid is capped, put all pairs on the coarse grid instead
    /// of summing the close ones exactly: cheaper per iteration, much less
    /// accurate (the behaviour before the near/far split)
    #[arg(long)]
    pub no_near_split: bool,

    /// Vertex ordering for the sparse attraction: auto (METIS up to 50,000
    /// vertices, RCM above: within 7% as fast for the attraction on large
    /// kNN graphs and 50 to 100 times cheaper to compute), metis, rcm or none
    #[arg(long, default_value_t = VertexOrder::default())]
    pub order: VertexOrder,

    /// Sparse attraction layout: csb (compressed sparse blocks over one
    /// triangle of P, each pair computed once; about 2x plain rows on large
    /// kNN graphs in METIS order) or csr (plain rows, the reference)
    #[arg(long, default_value_t = AttractionKind::default())]
    pub attraction: AttractionKind,

    /// Refuse runs estimated to need more memory than this (e.g. 512MB,
    /// 8GB; units are powers of 1024). Default: the memory available now
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,

    /// Print nothing but errors
    #[arg(short = 'q', long)]
    pub quiet: bool,

    /// Also save the run as a model (NumPy .npz): resume it with 'sgtsne
    /// resume', place new points or vertices with 'sgtsne transform'
    #[arg(long, value_name = "MODEL.npz")]
    pub save: Option<PathBuf>,
}

/// `--init`: a kind of start, or a file of coordinates.
#[derive(Clone, Debug, PartialEq)]
pub enum InitArg {
    Kind(Init),
    File(PathBuf),
}

impl std::str::FromStr for InitArg {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        Ok(match s.parse::<Init>() {
            Ok(k) => InitArg::Kind(k),
            Err(e) if s.starts_with("subsample:") => return Err(e),
            Err(_) => InitArg::File(PathBuf::from(s)),
        })
    }
}

impl Args {
    /// The --init file, if one was given.
    pub fn init_file(&self) -> Option<&PathBuf> {
        match &self.init {
            InitArg::File(p) => Some(p),
            InitArg::Kind(_) => None,
        }
    }
}

fn parse_size(s: &str) -> std::result::Result<u64, String> {
    sgtsne::memory::parse_size(s).map_err(|e| match e {
        sgtsne::Error::Param { msg, .. } => msg,
        e => e.to_string(),
    })
}

/// How point data become a graph.
#[derive(clap::Args, Debug, Clone)]
pub struct PointsOpts {
    /// Perplexity u of the point affinities: k = min(N-1, 3u) neighbours (points only)
    #[arg(long, default_value_t = defaults::PERPLEXITY, allow_negative_numbers = true)]
    pub perplexity: f64,

    /// Nearest-neighbour search: exact (brute force), approx (NN-descent), or
    /// auto (exact up to about 220,000 points of 50 dimensions) (points only)
    #[arg(long, default_value_t = KnnMethod::Auto)]
    pub knn: KnnMethod,

    /// Project points on this many principal components first; 0 = off (points only)
    #[arg(long, default_value_t = defaults::PCA)]
    pub pca: usize,

    /// Input format: mtx, npy, text or dat (default: by extension, then by content)
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
}

/// The flags that only apply to point input.
pub const POINT_FLAGS: [&str; 3] = ["perplexity", "knn", "pca"];

/// Write the graph that point data become, in Matrix Market form, for later
/// runs of 'sgtsne GRAPH.mtx'.
#[derive(Parser, Debug)]
#[command(
    name = "sgtsne graph",
    version,
    after_help = "Example:\n  sgtsne graph points.npy --perplexity 30 -o graph.mtx\n  sgtsne graph.mtx --dim 2\n\n\
The file holds p(j|i) in column i (columns sum to 1); embedding it gives the\n\
same result as embedding the points directly with the same flags and start\n\
(--init random or a file: by default points start from their principal\n\
components, graphs from their spectral layout)."
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
    #[arg(long, default_value_t = defaults::SEED)]
    pub seed: u64,

    /// Refuse inputs estimated to need more memory than this (e.g. 8GB).
    /// Default: the memory available now
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_memory: Option<u64>,

    #[command(flatten)]
    pub run: Workers,
}

/// Place new points, or new vertices, into a saved embedding.
#[derive(Parser, Debug)]
#[command(
    name = "sgtsne transform",
    version,
    after_help = "Examples:\n  sgtsne train.npy --dim 2 -o train2d.txt --save model.npz\n  \
sgtsne transform model.npz test.npy -o test2d.txt\n  \
sgtsne graph.mtx --dim 3 --save g.npz -o g3d.txt\n  \
sgtsne transform g.npz new-edges.mtx -o new3d.txt\n\n\
Points: the model's PCA is applied, each point's k nearest model points are\n\
found exactly and weighted by a Gaussian of the given perplexity.\n\
Graphs: NEW is a Matrix Market file with one row per model vertex and one\n\
column per new vertex (the weights of its edges), normalised and\n\
lambda-rescaled as in the fit. The model's points stay where they are; new\n\
points do not act on each other, so each row of the output depends only on\n\
the model and its own input."
)]
pub struct TransformArgs {
    /// A model saved with --save
    pub model: PathBuf,

    /// New points (.npy, .txt, .csv, .tsv, .dat) or new vertices' edges (.mtx)
    pub input: PathBuf,

    /// Perplexity of a new point's affinities (points only)
    #[arg(long, default_value_t = defaults::PLACE_PERPLEXITY, allow_negative_numbers = true)]
    pub perplexity: f64,

    /// Model points each new point is attached to (points only)
    #[arg(short = 'k', long, default_value_t = defaults::PLACE_K)]
    pub k: usize,

    /// Iterations of the placement
    #[arg(short = 'm', long, default_value_t = defaults::PLACE_ITER)]
    pub max_iter: usize,

    /// Step size of the placement
    #[arg(long, default_value_t = defaults::PLACE_ETA, allow_negative_numbers = true)]
    pub eta: f64,

    /// Exaggeration of the attraction during the placement
    #[arg(long, default_value_t = defaults::PLACE_EXAGGERATION, allow_negative_numbers = true)]
    pub exaggeration: f64,

    /// Neighbour search (points only): exact (every model point), approx
    /// (walk the model's neighbour graph), or auto (approx from 1000 new
    /// points on, when the model has the graph)
    #[arg(long, default_value_t = KnnMethod::Auto, value_name = "METHOD")]
    pub knn: KnnMethod,

    /// Input format: mtx, npy, text or dat (default: by extension, then by content)
    #[arg(long, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,

    /// Output file, '-' for stdout
    #[arg(short = 'o', long, default_value = "transformed.txt")]
    pub output: PathBuf,

    /// Output format: txt, csv, tsv, npy or bin (default: by the extension of -o)
    #[arg(long)]
    pub format: Option<Format>,

    #[command(flatten)]
    pub run: Workers,
}

/// Continue a saved run.
#[derive(Parser, Debug)]
#[command(
    name = "sgtsne resume",
    version,
    after_help = "Example:\n  sgtsne g.mtx --max-iter 500 --save g.npz -o first.txt\n  \
sgtsne resume g.npz --max-iter 500 -o more.txt --save g2.npz\n\n\
The run goes on from the saved coordinates and optimiser state with the\n\
saved settings: 500 + 500 iterations give the same bytes as 1000 in one run."
)]
pub struct ResumeArgs {
    /// A model saved with --save
    pub model: PathBuf,

    /// Further iterations to run
    #[arg(short = 'm', long, default_value_t = defaults::MAX_ITER)]
    pub max_iter: usize,

    /// Output file, '-' for stdout
    #[arg(short = 'o', long, default_value = "embedding.txt")]
    pub output: PathBuf,

    /// Output format: txt, csv, tsv, npy or bin (default: by the extension of -o)
    #[arg(long)]
    pub format: Option<Format>,

    /// Save the continued run as a model
    #[arg(long, value_name = "MODEL.npz")]
    pub save: Option<PathBuf>,

    #[command(flatten)]
    pub run: Workers,
}

/// Threads and quietness, as the subcommands share them.
#[derive(clap::Args, Debug, Clone)]
pub struct Workers {
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

/// The library's name of a parameter as this command line spells it.
pub fn flag_name(param: &str) -> String {
    format!("--{}", param.replace('_', "-"))
}

impl Args {
    /// The embedder these flags describe. `SGTSNE_FFT` (rustfft or fftw)
    /// overrides the FFT library, for side-by-side measurements.
    pub fn embedder(&self) -> anyhow::Result<Embedder> {
        let mut e = Embedder::new(self.dim)
            .max_iter(self.max_iter)
            .early_iter(self.early_iter)
            .momentum(self.momentum)
            .final_momentum(self.final_momentum)
            .alpha(self.alpha)
            .exaggeration(self.exaggeration)
            .late_exaggeration(self.late_exaggeration)
            .late_start(self.late_start)
            .dof(self.dof)
            .init(match &self.init {
                InitArg::Kind(k) => *k,
                InitArg::File(_) => Init::Auto,
            })
            .eta(self.eta)
            .max_step(self.max_step)
            .seed(self.seed)
            .repulsion(self.repulsion)
            .grid_h(self.grid_h)
            .grid_max(self.grid_max)
            .near_split(!self.no_near_split)
            .order(self.order)
            .attraction(self.attraction)
            .progress(super::watch::meter().clone());
        if let Some(v) = std::env::var_os("SGTSNE_FFT") {
            let v = v.to_string_lossy();
            let b: FftBackend = v
                .parse()
                .map_err(|m: String| anyhow::anyhow!("SGTSNE_FFT={v}: {m}"))?;
            e = e.fft(b);
        }
        e.validate()?;
        Ok(e)
    }
}

impl TransformArgs {
    /// The placement settings these flags describe, checked.
    pub fn placement(&self) -> sgtsne::Result<Placement> {
        let p = Placement::default()
            .perplexity(self.perplexity)
            .k(self.k)
            .max_iter(self.max_iter)
            .eta(self.eta)
            .exaggeration(self.exaggeration)
            .knn(self.knn);
        p.validate()?;
        Ok(p)
    }
}

impl PointsOpts {
    /// The affinity settings these flags describe, checked.
    pub fn affinities(&self, seed: u64) -> sgtsne::Result<Affinities> {
        let a = Affinities::default()
            .perplexity(self.perplexity)
            .knn(self.knn)
            .pca(self.pca)
            .seed(seed)
            .progress(super::watch::meter().clone());
        a.validate()?;
        Ok(a)
    }
}

/// The first point-only flag given on the command line, if any.
pub fn point_flags_given(m: &clap::ArgMatches) -> Option<&'static str> {
    POINT_FLAGS
        .into_iter()
        .find(|f| m.value_source(f) == Some(clap::parser::ValueSource::CommandLine))
}
