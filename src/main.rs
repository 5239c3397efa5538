//! The `sgtsne` command line: a thin layer over the library.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Ctrl-C or a kill: remove any half-written output (`.NAME.tmp-PID`)
    // before going. Nothing else needs undoing: outputs are only ever
    // renamed into place complete.
    let _ = ctrlc::set_handler(|| {
        sgtsne::io::output::remove_temporaries();
        eprintln!("sgtsne: interrupted (outputs not yet complete were removed)");
        std::process::exit(130);
    });
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sgtsne: error: {}", cli::message(&e));
            ExitCode::from(2)
        }
    }
}
