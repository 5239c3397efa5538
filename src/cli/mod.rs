//! The `sgtsne` command line: flags → library settings → session → outputs.
//! One module per subcommand (`embed`, `graph`, `model` for transform and
//! resume, `bhtsne`), peers over the
//! library; `input` and `report` hold what they share.

mod args;
mod bhtsne;
mod embed;
mod graph;
mod input;
mod model;
mod report;
mod watch;

use std::path::Path;

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches, Parser};

use args::{Args, BhArgs, GraphArgs, ResumeArgs, TransformArgs};

/// Starts `n` worker threads and runs `job` on one of them. The job's
/// parallel loops then start from inside the pool: with one thread they run
/// inline, and with more the caller is one of the workers, so no loop pays
/// for waking a worker and parking the main thread (measured on the pbmc
/// 2D run, one thread: see docs/performance.md).
fn in_workers<T: Send>(n: usize, quiet: bool, job: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(worker_count(n, quiet))
        .build_global()
        .context("could not start the worker threads")?;
    let _watch = watch::Watch::start(quiet);
    rayon::scope(|_| job())
}

/// Threads for `--threads n` (0: RAYON_NUM_THREADS, else all cores), at
/// most [`MAX_THREADS_PER_CORE`] per core: more only cost time to create
/// (the results do not depend on the count).
fn worker_count(n: usize, quiet: bool) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |c| c.get());
    let (asked, source) = match n {
        0 => match std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            Some(k) if k > 0 => (k, "RAYON_NUM_THREADS"),
            _ => return cores,
        },
        k => (k, "--threads"),
    };
    let cap = MAX_THREADS_PER_CORE * cores;
    if asked > cap {
        if !quiet {
            eprintln!(
            "note: {source} {asked} is more than {MAX_THREADS_PER_CORE} per core on this machine's {cores} cores; using {cap}"
            );
        }
        return cap;
    }
    asked
}

const MAX_THREADS_PER_CORE: usize = 4;

/// Parses the command line and runs the chosen subcommand.
pub fn run() -> Result<()> {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let prog = argv
        .first()
        .and_then(|a| Path::new(a).file_stem())
        .and_then(|s| s.to_str())
        .unwrap_or("");
    if prog == "bh_tsne" {
        let a = BhArgs::parse_from(&argv);
        return in_workers(a.threads, false, || bhtsne::run(&a.dir));
    }
    match argv.get(1).and_then(|a| a.to_str()) {
        Some("bhtsne") => {
            let a: BhArgs = sub(&argv[1..], "sgtsne bhtsne");
            in_workers(a.threads, false, || bhtsne::run(&a.dir))
        }
        Some("graph") => {
            let a: GraphArgs = sub(&argv[1..], "sgtsne graph");
            in_workers(a.run.threads, a.run.quiet, || graph::run(&a))
        }
        Some("transform") => {
            let a: TransformArgs = sub(&argv[1..], "sgtsne transform");
            in_workers(a.run.threads, a.run.quiet, || model::transform(&a))
        }
        Some("resume") => {
            let a: ResumeArgs = sub(&argv[1..], "sgtsne resume");
            in_workers(a.run.threads, a.run.quiet, || model::resume(&a))
        }
        _ => {
            let matches = Args::command().get_matches_from(&argv);
            let a = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
            let given = args::point_flags_given(&matches);
            in_workers(a.threads, a.quiet, || embed::run(&a, given))
        }
    }
}

/// A subcommand's flags, its usage line naming it as typed.
fn sub<T: Parser>(args: &[std::ffi::OsString], name: &'static str) -> T {
    let m = T::command().bin_name(name).get_matches_from(args);
    T::from_arg_matches(&m).unwrap_or_else(|e| e.exit())
}

/// The message for an error: its chain as `{:#}` prints it, with the
/// library's parameter names spelt as this command line's flags.
pub fn message(e: &anyhow::Error) -> String {
    e.chain()
        .map(|c| match c.downcast_ref::<sgtsne::Error>() {
            Some(sgtsne::Error::Param { name, msg }) => {
                format!("invalid {}: {msg}", args::flag_name(name))
            }
            Some(
                err @ sgtsne::Error::Numerical {
                    param: Some(name), ..
                },
            ) => format!("{err} (see {})", args::flag_name(name)),
            _ => c.to_string(),
        })
        .collect::<Vec<_>>()
        .join(": ")
}
