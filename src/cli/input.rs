//! Inputs of the subcommands: the format, the memory cap, and points or a
//! Matrix Market file turned into a prepared graph, with progress lines.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Context, Result};

use sgtsne::affinity::{Affinities, AffinityGraph};
use sgtsne::graph::{PrepareReport, StochasticGraph};
use sgtsne::io::points::InputFormat;
use sgtsne::memory;
use sgtsne::model::Source;

use super::args::PointsOpts;
use super::watch::say;

/// The memory cap: the flag, else what the machine has available.
pub type Cap = Option<(u64, &'static str)>;

pub fn memory_cap(flag: Option<u64>) -> Cap {
    match flag {
        Some(b) => Some((b, "--max-memory")),
        None => memory::available().map(|b| (b, "the memory available")),
    }
}

/// Refuses a stage estimated to need more than the cap.
pub fn check_memory(need: u64, cap: Cap, what: &str) -> Result<()> {
    if let Some((cap, source)) = cap {
        if need > cap {
            bail!(
                "{what} needs about {}, more than {source} ({}); raise --max-memory if the estimate is too cautious, or use a smaller input, a lower --dim or a larger --grid-h",
                memory::human(need),
                memory::human(cap)
            );
        }
    }
    Ok(())
}

/// When the grid at its cap would not fit under `cap` with the rest of the
/// run, the largest cap that does (at least the grid's minimum; if even
/// that does not fit, `check_memory` refuses the run).
pub fn grid_side_within(plan: &sgtsne::Plan, nnz: usize, cap: Cap) -> Option<usize> {
    let (cap, _) = cap?;
    let fits = |side: usize| {
        let mut p = plan.clone();
        p.grid_max = side;
        p.memory_estimate(nnz).most <= cap
    };
    if fits(plan.grid_max) {
        return None;
    }
    let (mut lo, mut hi) = (sgtsne::repulse::MIN_GRID, plan.grid_max);
    if !fits(lo) {
        return None;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(lo)
}

/// The input's format: the flag, else by name, else by content.
pub fn input_format(path: &Path, opts: &PointsOpts) -> Result<InputFormat> {
    Ok(match opts.input_format {
        Some(f) => f,
        None => InputFormat::detect(path)?,
    })
}

/// Reads points and builds their conditional affinities (SPEC §8),
/// printing each stage unless `quiet`.
pub fn points_graph(
    path: &Path,
    format: InputFormat,
    aff: &Affinities,
    o: &Opts,
    phases: &mut Vec<(&'static str, f64)>,
) -> Result<(AffinityGraph, Option<Source>)> {
    let (quiet, cap) = (o.quiet, o.cap);
    let t = Instant::now();
    let reading = super::watch::meter().phase(format!("reading {}", path.display()), 0);
    let pts = sgtsne::io::points::read_points(path, format)?;
    drop(reading);
    let need = memory::estimate_points(pts.n(), pts.d(), aff.neighbours(pts.n()));
    let what = format!(
        "the kNN graph of {} points of {} dimensions",
        pts.n(),
        pts.d()
    );
    check_memory(need, cap, &what)?;
    if let Some(size) = o.subsample {
        // Before the long neighbour search, not after it.
        sgtsne::subsample::check_size(size, pts.n())
            .with_context(|| format!("--init subsample:{size}"))?;
    }
    let read = t.elapsed().as_secs_f64();
    phases.push(("read", read));
    if !quiet {
        say(&format!(
            "read {}: {} points of {} dimensions ({read:.2} s)",
            path.display(),
            pts.n(),
            pts.d(),
        ));
    }
    let mut g = aff
        .graph(&pts, &mut |s| {
            if let Some(ph) = s.phase() {
                phases.push(ph);
            }
            if !quiet {
                say(&s.to_string())
            }
        })
        .with_context(|| path.display().to_string())?;
    if !quiet && g.not_converged > 0 {
        say(&format!(
            "note: {} points could not reach the perplexity over {} neighbours (too few distinct distances); they use the closest entropy found",
            g.not_converged, g.k
        ));
    }
    let source = o.keep.then(|| Source::from_points(pts, &mut g));
    Ok((g, source))
}

/// The prepared graph of a Matrix Market file or of points, described on
/// stderr unless `quiet`; with `keep`, also what a model of it needs to
/// place new points.
pub fn read_graph(
    path: &Path,
    format: InputFormat,
    lambda: f64,
    aff: &Affinities,
    o: &Opts,
) -> Result<Prepared> {
    let mut knn = None;
    let mut input_nn = None;
    let mut recall = None;
    let mut phases = Vec::new();
    let (what, coo, source) = if format == InputFormat::Mtx {
        let t = Instant::now();
        let reading = super::watch::meter().phase(format!("reading {}", path.display()), 0);
        let coo = sgtsne::io::mtx::read_matrix_market(path)?;
        drop(reading);
        phases.push(("read", t.elapsed().as_secs_f64()));
        let what = format!(
            "the graph of {} vertices ({} entries) in {}",
            coo.n,
            coo.vals.len(),
            path.display()
        );
        check_memory(
            memory::estimate_prepare(coo.n, coo.vals.len()),
            o.cap,
            &what,
        )?;
        let source = o.keep.then_some(Source::Graph { lambda });
        (format!("read {}", path.display()), coo, source)
    } else {
        let (g, source) = points_graph(path, format, aff, o, &mut phases)?;
        knn = Some((g.k, g.method));
        recall = g.recall;
        if g.method == sgtsne::knn::KnnMethod::Exact {
            // Column i lists point i's neighbours nearest first: keep the
            // first few for the quality report.
            let keep = sgtsne::quality::PRESERVATION_K.min(g.k);
            let mut nn = Vec::with_capacity(g.coo.n * keep);
            for col in g.coo.rows.chunks_exact(g.k) {
                nn.extend_from_slice(&col[..keep]);
            }
            input_nn = Some((nn, keep));
        }
        ("kNN graph".to_string(), g.coo, source)
    };
    let t = Instant::now();
    let (graph, report) =
        StochasticGraph::from_coo_owned_metered(coo, lambda, super::watch::meter())?;
    let secs = t.elapsed().as_secs_f64();
    phases.push(("graph", secs));
    if !o.quiet {
        describe(&what, &report, secs);
    }
    Ok(Prepared {
        graph,
        source,
        knn,
        input_nn,
        recall,
        phases,
    })
}

/// A prepared input.
pub struct Prepared {
    pub graph: StochasticGraph,
    /// What a model needs (kept with `Opts::keep`); for points, also the
    /// points the neighbours were searched in.
    pub source: Option<Source>,
    /// For points: neighbours per point and the search used.
    pub knn: Option<(usize, sgtsne::knn::KnnMethod)>,
    /// For points searched exactly: each point's nearest neighbours
    /// (n rows of the given count, nearest first).
    pub input_nn: Option<(Vec<u32>, usize)>,
    /// For points searched approximately: the recall, estimated on a sample.
    pub recall: Option<f64>,
    /// Seconds per preparation phase, in order.
    pub phases: Vec<(&'static str, f64)>,
}

/// How the inputs are read: quietly or not, under which memory cap, and
/// whether what a model needs is kept.
pub struct Opts {
    pub quiet: bool,
    pub cap: Cap,
    pub keep: bool,
    /// A subsample start's size, checked against the points once read.
    pub subsample: Option<usize>,
}

fn describe(what: &str, r: &PrepareReport, seconds: f64) {
    say(&format!(
        "{}: {} vertices, {} edges; {} columns already stochastic; {} entries after symmetrisation ({seconds:.2} s)",
        what, r.vertices, r.entries, r.already_stochastic, r.symmetric_entries
    ));
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
