//! `sgtsne transform MODEL NEW` and `sgtsne resume MODEL`: the two uses of
//! a saved run.

use std::time::Instant;

use anyhow::Result;

use sgtsne::io::output::{self, Format};
use sgtsne::io::points::InputFormat;
use sgtsne::Model;

use super::args::{ResumeArgs, TransformArgs};
use super::report::Reporter;

pub fn transform(a: &TransformArgs) -> Result<()> {
    let t0 = Instant::now();
    let placement = a.placement()?;
    output::check_distinct(
        &[("-o", &a.output)],
        &[("the model", &a.model), ("the input", &a.input)],
    )?;
    output::check_writable(&a.output)?;
    let model = Model::load(&a.model)?;
    let loaded = t0.elapsed().as_secs_f64();
    let format = match a.input_format {
        Some(f) => f,
        None => InputFormat::detect(&a.input)?,
    };
    let t1 = Instant::now();
    let placed = if format == InputFormat::Mtx {
        let t = sgtsne::io::mtx::read_matrix_market_rect(&a.input)?;
        model.transform_graph(&t, &placement)
    } else {
        let x = sgtsne::io::points::read_points(&a.input, format)?;
        model.transform_points(&x, &placement)
    }
    .map_err(|e| anyhow::Error::new(e).context(a.input.display().to_string()))?;
    let placing = t1.elapsed().as_secs_f64();
    let fmt = a.format.unwrap_or_else(|| Format::from_path(&a.output));
    output::write_embedding(&a.output, &placed, fmt)?;
    if !a.run.quiet {
        eprintln!(
            "placed {} new points into {} ({} points, {}D): total {:.2} s (model read {:.2} s, reading and placing the new points {:.2} s)",
            placed.n(),
            a.model.display(),
            model.n(),
            model.dim(),
            t0.elapsed().as_secs_f64(),
            loaded,
            placing
        );
    }
    Ok(())
}

pub fn resume(a: &ResumeArgs) -> Result<()> {
    let t0 = Instant::now();
    let mut outputs = vec![("-o", a.output.as_path())];
    if let Some(p) = &a.save {
        outputs.push(("--save", p.as_path()));
    }
    output::check_distinct(&outputs, &[("the model", &a.model)])?;
    for (_, p) in outputs {
        output::check_writable(p)?;
    }
    let model = Model::load(&a.model)?;
    let mut session = model.resume_metered(super::watch::meter())?;
    let reporter = Reporter::new(a.run.quiet, a.max_iter, session.plan());
    let from = session.iterations();
    let status = session.run(a.max_iter, &mut |p| reporter.progress(p));
    reporter.finish();
    status?;
    let result = session.result()?;
    let fmt = a.format.unwrap_or_else(|| Format::from_path(&a.output));
    // Both files or neither: the model is staged beside the embedding and
    // they are put in place together.
    let mut staged = output::Outputs::new();
    output::add_embedding(&mut staged, &a.output, &result.coords, fmt)?;
    if let Some(p) = &a.save {
        // The graph and points move to the updated model and the session
        // goes first: saving copies nothing large (a million-point model
        // is gigabytes).
        let updated = model.into_updated(&session, &result)?;
        drop(session);
        let archive = updated.archive()?;
        staged.add(p, |w| archive.finish(w))?;
    }
    staged.commit()?;
    if !a.run.quiet {
        eprintln!(
            "resumed at iteration {from}, ran to {}: {:.2} s, final KL {:.4}",
            result.iterations,
            t0.elapsed().as_secs_f64(),
            result.kl
        );
    }
    Ok(())
}
