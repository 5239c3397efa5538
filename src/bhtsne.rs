//! The bh_tsne drop-in (SPEC §8): reads `data.dat`, writes `result.dat`,
//! and prints bh_tsne's progress lines on stdout, as the wrappers expect.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use sgtsne::graph::StochasticGraph;
use sgtsne::io::bhtsne::{read_data_dat, write_result};
use sgtsne::knn::KnnMethod;
use sgtsne::optimize::{self, Params, Progress};
use sgtsne::repulse::RepulsionKind;

pub fn run(dir: &Path) -> Result<()> {
    let data = dir.join("data.dat");
    if !data.exists() {
        anyhow::bail!(
            "{}: not found; bh_tsne mode reads data.dat from the working directory (bhtsne.py writes it there)",
            data.display()
        );
    }
    let job = read_data_dat(&data)?;
    let (n, d) = (job.points.n(), job.points.d());
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "Read the {n} x {d} data matrix successfully!");
    let _ = writeln!(
        out,
        "Using no_dims = {}, perplexity = {:.6}, and theta = {:.6}",
        job.no_dims, job.perplexity, job.theta
    );
    let result = dir.join("result.dat");
    sgtsne::io::output::check_writable(&result)?;
    if n < 2 {
        anyhow::bail!("{}: need at least 2 points, found {n}", data.display());
    }
    let seed = job.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|t| t.as_nanos() as u64)
            .unwrap_or(1)
    });
    let _ = writeln!(out, "Computing input similarities...");
    let _ = out.flush();
    let t = Instant::now();
    let coo =
        crate::cli::sgtsne_points_graph(&job.points, job.perplexity, KnnMethod::Auto, seed, true)?;
    let (graph, _) = StochasticGraph::from_coo(&coo, 1.0)?;
    let _ = writeln!(
        out,
        "Input similarities computed in {:.2} seconds (sparsity = {:.6})!\nLearning embedding...",
        t.elapsed().as_secs_f64(),
        graph.nnz() as f64 / (n as f64 * n as f64)
    );
    let _ = out.flush();
    let params = Params {
        max_iter: job.max_iter as usize,
        seed,
        repulsion: if job.theta == 0.0 {
            RepulsionKind::Exact
        } else {
            RepulsionKind::Auto
        },
        ..Params::default()
    };
    let t = Instant::now();
    let (y, costs) = match job.no_dims {
        1 => fit::<1>(&graph, &params, &mut out)?,
        2 => fit::<2>(&graph, &params, &mut out)?,
        _ => fit::<3>(&graph, &params, &mut out)?,
    };
    let _ = writeln!(
        out,
        "Fitting performed in {:.2} seconds.",
        t.elapsed().as_secs_f64()
    );
    sgtsne::io::output::write_atomic(&result, |w| {
        write_result(w, job.no_dims as usize, &y, &costs)
    })
    .context("writing the result")?;
    let _ = writeln!(
        out,
        "Wrote the {} x {} data matrix successfully!",
        n, job.no_dims
    );
    Ok(())
}

fn fit<const D: usize>(
    g: &StochasticGraph,
    params: &Params,
    out: &mut impl Write,
) -> Result<(Vec<f64>, Vec<f64>)> {
    // bh_tsne evaluates its cost after each step, so its last line is the
    // cost of the embedding it writes; ours are taken before the step, so
    // the last line is held back and printed with the final embedding's KL
    // (which the per-point costs in result.dat sum to).
    let mut last_seconds = 0.0;
    let mut on_progress = |p: &Progress| {
        if let Some(kl) = p.kl {
            if p.iter == p.max_iter {
                last_seconds = p.seconds;
            } else if p.iter > 1 {
                let _ = writeln!(
                    out,
                    "Iteration {}: error is {:.6} (50 iterations in {:.2} seconds)",
                    p.iter, kl, p.seconds
                );
                let _ = out.flush();
            }
        }
    };
    let e = optimize::embed::<D>(g, params, None, &mut on_progress)?;
    let _ = writeln!(
        out,
        "Iteration {}: error is {:.6} (50 iterations in {:.2} seconds)",
        params.max_iter, e.kl, last_seconds
    );
    let costs = optimize::point_costs(g, &e.y, e.z);
    Ok((e.y.iter().flatten().copied().collect(), costs))
}
