//! The bh_tsne drop-in (SPEC §8): reads `data.dat`, writes `result.dat`,
//! and prints bh_tsne's progress lines on stdout, as the wrappers expect.

use std::io::Write;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};

use sgtsne::affinity::Affinities;
use sgtsne::graph::StochasticGraph;
use sgtsne::io::bhtsne::{read_data_dat, write_result, BhTsneJob};
use sgtsne::repulse::RepulsionKind;
use sgtsne::{Embedder, Embedding};

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
    let graph = similarities(&job, seed, &mut out)?;
    let t = Instant::now();
    let e = fit(&job, seed, &graph, &mut out)?;
    let _ = writeln!(
        out,
        "Fitting performed in {:.2} seconds.",
        t.elapsed().as_secs_f64()
    );
    let costs = sgtsne::optimize::point_costs(&graph, &e.coords, e.z, Default::default());
    sgtsne::io::output::write_atomic(&result, |w| {
        write_result(w, job.no_dims as usize, e.coords.as_slice(), &costs)
    })
    .context("writing the result")?;
    let _ = writeln!(
        out,
        "Wrote the {} x {} data matrix successfully!",
        n, job.no_dims
    );
    Ok(())
}

/// The input similarities: the perplexity-calibrated kNN graph.
fn similarities(job: &BhTsneJob, seed: u64, out: &mut impl Write) -> Result<StochasticGraph> {
    let _ = writeln!(out, "Computing input similarities...");
    let _ = out.flush();
    let t = Instant::now();
    let aff = Affinities::default()
        .perplexity(job.perplexity)
        .seed(seed)
        .graph(&job.points, &mut |_| {})?;
    let (graph, _) = StochasticGraph::from_coo_owned(aff.coo, 1.0)?;
    let n = graph.n() as f64;
    let _ = writeln!(
        out,
        "Input similarities computed in {:.2} seconds (sparsity = {:.6})!\nLearning embedding...",
        t.elapsed().as_secs_f64(),
        graph.nnz() as f64 / (n * n)
    );
    let _ = out.flush();
    Ok(graph)
}

fn fit(job: &BhTsneJob, seed: u64, g: &StochasticGraph, out: &mut impl Write) -> Result<Embedding> {
    let embedder = Embedder::new(job.no_dims as usize)
        .max_iter(job.max_iter as usize)
        .seed(seed)
        .repulsion(if job.theta == 0.0 {
            RepulsionKind::Exact
        } else {
            RepulsionKind::Auto
        });
    // bh_tsne evaluates its cost after each step, so its last line is the
    // cost of the embedding it writes; ours are taken before the step, so
    // the last line is held back and printed with the final embedding's KL
    // (which the per-point costs in result.dat sum to).
    let mut last_seconds = 0.0;
    // bh_tsne starts at random; we start, as for any point input, from the
    // points' principal components (SPEC §10), which keeps global structure.
    let mut session = embedder.session_points(g, &job.points, None)?;
    session.run_to_end(&mut |p| {
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
        ControlFlow::Continue(())
    })?;
    let e = session.result()?;
    let _ = writeln!(
        out,
        "Iteration {}: error is {:.6} (50 iterations in {:.2} seconds)",
        job.max_iter, e.kl, last_seconds
    );
    Ok(e)
}
