//! `sgtsne graph POINTS -o G.mtx`: write the graph that points become.

use std::time::Instant;

use anyhow::{bail, Result};

use sgtsne::io::output;
use sgtsne::io::points::InputFormat;

use super::args::GraphArgs;
use super::input;

pub fn run(a: &GraphArgs) -> Result<()> {
    let t0 = Instant::now();
    let aff = a.points.affinities(a.seed)?;
    let format = input::input_format(&a.input, &a.points)?;
    if format == InputFormat::Mtx {
        bail!(
            "{} is already a graph (Matrix Market); 'sgtsne graph' turns points into one",
            a.input.display()
        );
    }
    output::check_distinct(&[("-o", &a.output)], &[("the input", &a.input)])?;
    output::check_writable(&a.output)?;
    let o = input::Opts {
        quiet: a.run.quiet,
        cap: input::memory_cap(a.max_memory),
        keep: false,
        subsample: None,
    };
    let (g, _) = input::points_graph(&a.input, format, &aff, &o, &mut Vec::new())?;
    let comments = vec![format!(
        "sgtsne {} graph from {}: perplexity {}, {} neighbours, column i holds p(j|i)",
        env!("CARGO_PKG_VERSION"),
        a.input.display(),
        a.points.perplexity,
        g.k
    )];
    output::write_atomic(&a.output, |w| {
        sgtsne::io::mtx::write_matrix_market_with_comments(w, &g.coo, &comments)
    })?;
    if !a.run.quiet {
        eprintln!(
            "wrote {}: {} vertices, {} entries ({:.2} s)",
            a.output.display(),
            g.coo.n,
            g.coo.vals.len(),
            t0.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
