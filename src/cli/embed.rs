//! `sgtsne INPUT`: embed a graph, or points through their kNN graph.

use std::time::Instant;

use anyhow::{bail, Result};

use sgtsne::io::labels::{read_labels, Labels};
use sgtsne::io::output::{self, Format};
use sgtsne::io::points::InputFormat;
use sgtsne::model::Source;
use sgtsne::points::Points;
use sgtsne::{Embedding, Init, Model, Plan};

use super::args::Args;
use super::input;
use super::report::{self, Reporter};

/// Runs the main subcommand; `point_flag` is the first point-only flag
/// given on the command line, if any.
pub fn run(args: &Args, point_flag: Option<&str>) -> Result<()> {
    let t0 = Instant::now();
    let mut embedder = args.embedder()?;
    sgtsne::graph::check_lambda(args.lambda)?;
    let aff = args.points.affinities(args.seed)?;
    let format = input::input_format(&args.input, &args.points)?;
    if let (InputFormat::Mtx, Some(flag)) = (format, point_flag) {
        bail!(
            "--{flag} applies to point input, but {} is a graph (Matrix Market)",
            args.input.display()
        );
    }
    if let (InputFormat::Mtx, super::args::InitArg::Kind(k @ (Init::Pca | Init::Subsample(_)))) =
        (format, &args.init)
    {
        bail!(
            "--init {k} needs point coordinates, but {} is a graph (Matrix Market): use --init spectral (the default for graphs), random or a file",
            args.input.display()
        );
    }
    check_outputs(args)?;
    let o = input::Opts {
        quiet: args.quiet,
        cap: input::memory_cap(args.max_memory),
        subsample: match args.init {
            super::args::InitArg::Kind(Init::Subsample(k)) => Some(k),
            _ => None,
        },
        // Points are kept for the PCA start, the quality report and --save.
        keep: true,
    };
    let input::Prepared {
        graph,
        source,
        knn,
        input_nn,
        recall,
        mut phases,
    } = input::read_graph(&args.input, format, args.lambda, &aff, &o)?;
    let reference = match &source {
        Some(Source::Points { reference, .. }) => Some(reference),
        _ => None,
    };
    let planner = |e: &sgtsne::Embedder| match reference {
        Some(_) => e.plan_points(graph.n()),
        None => e.plan(graph.n()),
    };
    let mut plan = planner(&embedder)?;
    if let Some(side) = input::grid_side_within(&plan, graph.nnz(), o.cap) {
        embedder = embedder.grid_max(Some(side));
        plan = planner(&embedder)?;
        if !args.quiet {
            eprintln!(
                "note: {} holds a repulsion grid of at most {side} nodes per side; an embedding wider than that gets a coarser grid",
                o.cap.map_or("the memory", |c| c.1)
            );
        }
    }
    let need = plan.memory_estimate(graph.nnz());
    let what = format!(
        "embedding {} vertices ({} entries) in {}D",
        plan.n,
        graph.nnz(),
        plan.dim
    );
    input::check_memory(need.most, o.cap, &what)?;
    let labels = match &args.labels {
        Some(p) => Some(read_labels(p, plan.n)?),
        None => None,
    };
    let mut init = read_init(args, &plan)?;
    if let (Init::Subsample(_), Some(r), None) = (plan.init, reference, &init) {
        let y0 = embedder.subsample_start(r, &aff, &mut |s| {
            if let Some(ph) = s.phase() {
                phases.push(ph);
            }
            if !args.quiet {
                super::watch::say(&s.to_string());
            }
        })?;
        init = Some(Points::try_new(plan.n, plan.dim, y0)?);
    }
    let prepare = t0.elapsed().as_secs_f64();

    let reporter = Reporter::new(args.quiet, plan.max_iter, &plan);
    let start = match args.init_file() {
        Some(p) => format!("the coordinates in {}", p.display()),
        None => plan.init.to_string(),
    };
    reporter.start(&plan, need, &start);
    let given = init.as_ref().map(Points::as_slice);
    let mut session = match reference {
        Some(r) => embedder.session_points(&graph, r, given)?,
        None => embedder.session(&graph, given)?,
    };
    reporter.started(&session);
    let mut last_grid = None;
    let status = session.run_to_end(&mut |p| {
        last_grid = p.grid;
        reporter.progress(p)
    });
    reporter.finish();
    status?;
    let result = session.result()?;
    // Every output is filled before any is put in place: all or none.
    let mut outputs = stage_outputs(args, &result, labels.as_ref())?;
    let quality_needed = !args.quiet || args.report.is_some();
    let accuracy = match (&labels, quality_needed) {
        (Some(l), true) => Some(sgtsne::quality::knn_label_accuracy(&result.coords, l)?),
        _ => None,
    };
    let preservation = if quality_needed {
        let t = Instant::now();
        let _phase = super::watch::meter().phase("quality report: 10-NN preservation", 0);
        let p = match (reference, &input_nn) {
            (Some(_), Some((nn, k))) => {
                sgtsne::quality::preservation_given(nn, *k, &result.coords, plan.seed)?
            }
            (Some(r), None) => sgtsne::quality::preservation(r, &result.coords, plan.seed)?,
            (None, _) => sgtsne::quality::graph_preservation(&graph, &result.coords, plan.seed)?,
        };
        Some((p, t.elapsed().as_secs_f64()))
    } else {
        None
    };
    if let Some(path) = &args.report {
        let r = report::Run {
            args,
            plan: session.plan(),
            start: &start,
            nnz: graph.nnz(),
            knn,
            result: &result,
            spectral: session.spectral(),
            grid: last_grid,
            prepare,
            total: t0.elapsed().as_secs_f64(),
            preservation: preservation.map(|p| p.0),
            points: reference.is_some(),
            accuracy,
            recall,
            phases: &phases,
        };
        outputs.add(path, |w| w.write_all(r.json().as_bytes()))?;
    }
    let points_input = reference.is_some();
    if let (Some(path), Some(source)) = (&args.save, source) {
        // The model takes the graph and the points themselves, and the
        // session's blocks and grids go before it is written: saving adds
        // no copy of anything large to the run's memory.
        let model = Model::from_run(&embedder, graph, &session, &result, source)?;
        drop(session);
        let archive = model.archive()?;
        outputs.add(path, |w| archive.finish(w))?;
    }
    outputs.commit()?;
    if !args.quiet {
        if let Some(acc) = accuracy {
            eprintln!("10-NN label accuracy of the embedding: {acc:.4}");
        }
        if let Some((p, secs)) = preservation {
            eprintln!(
                "10-NN preservation ({}): {:.4}{} ({secs:.2} s)",
                if points_input {
                    "input neighbours kept"
                } else {
                    "heaviest edges kept"
                },
                p.value,
                if p.sampled {
                    format!(", over a seeded sample of {} points", p.scored)
                } else {
                    String::new()
                }
            );
        }
        summary(
            &result,
            prepare,
            t0.elapsed().as_secs_f64(),
            preservation.map(|p| p.0.value),
        );
    }
    Ok(())
}

/// Before any work: no output is an input or another output, and every
/// output's directory is writable.
fn check_outputs(args: &Args) -> Result<()> {
    let mut outputs = vec![("-o", args.output.as_path())];
    for (flag, p) in [
        ("--plot", &args.plot),
        ("--html", &args.html),
        ("--save", &args.save),
    ] {
        if let Some(p) = p {
            outputs.push((flag, p.as_path()));
        }
    }
    let init_file = args.init_file().cloned();
    let mut inputs = vec![("the input", args.input.as_path())];
    for (flag, p) in [
        ("the --labels file", &args.labels),
        ("the --init file", &init_file),
    ] {
        if let Some(p) = p {
            inputs.push((flag, p.as_path()));
        }
    }
    output::check_distinct(&outputs, &inputs)?;
    for (_, p) in outputs {
        output::check_writable(p)?;
    }
    Ok(())
}

/// The --init rows, checked against the graph.
fn read_init(args: &Args, plan: &Plan) -> Result<Option<Points>> {
    let Some(p) = args.init_file() else {
        return Ok(None);
    };
    let rows = sgtsne::io::init::read_init(p, plan.dim)?;
    if rows.n() != plan.n {
        bail!(
            "{}: {} rows, but the graph has {} vertices",
            p.display(),
            rows.n(),
            plan.n
        );
    }
    Ok(Some(rows))
}

fn stage_outputs(
    args: &Args,
    result: &Embedding,
    labels: Option<&Labels>,
) -> Result<output::Outputs> {
    let format = args
        .format
        .unwrap_or_else(|| Format::from_path(&args.output));
    let mut outputs = output::Outputs::new();
    output::add_embedding(&mut outputs, &args.output, &result.coords, format)?;
    let title = format!(
        "{} ({} points, {}D)",
        args.input
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default(),
        result.coords.n(),
        result.coords.d()
    );
    if let Some(p) = &args.plot {
        let png = sgtsne::plot::render_png(&result.coords, labels, &title)?;
        outputs.add(p, |w| w.write_all(&png))?;
    }
    if let Some(p) = &args.html {
        let page = sgtsne::plot::render_html(&result.coords, labels, &title)?;
        outputs.add(p, |w| w.write_all(page.as_bytes()))?;
    }
    Ok(outputs)
}

/// The last line, which scripts may parse.
fn summary(result: &Embedding, prepare: f64, total: f64, preservation: Option<f64>) {
    let t = result.timings;
    let prep = prepare + t.init + t.setup;
    let other = (total - prep - t.attraction - t.repulsion).max(0.0);
    eprintln!(
        "time: total {:.2} s (prepare {:.2} s, attraction {:.2} s, repulsion {:.2} s, other {:.2} s), final KL {:.4}{}",
        total,
        prep,
        t.attraction,
        t.repulsion,
        other,
        result.kl,
        preservation.map_or(String::new(), |p| format!(", 10-NN preservation {p:.4}"))
    );
}
