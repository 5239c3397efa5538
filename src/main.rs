//! The `sgtsne` command line: a thin layer over the library.

mod bhtsne;
mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sgtsne: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
