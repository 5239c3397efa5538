//! The `sgtsne` command line: a thin layer over the library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sgtsne: error: {}", cli::message(&e));
            ExitCode::from(2)
        }
    }
}
