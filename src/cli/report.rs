//! Progress on stderr: an indicatif bar on a terminal, else a line with the
//! KL every time it is evaluated; nothing with --quiet.

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;

use sgtsne::{Plan, Progress};

/// Shows a session's progress.
pub struct Reporter {
    quiet: bool,
    bar: Option<indicatif::ProgressBar>,
    /// Whether the grid cap's note has been shown.
    capped: std::cell::Cell<bool>,
}

impl Reporter {
    /// A reporter for a run of `iterations`; a bar when stderr is a terminal.
    pub fn new(quiet: bool, iterations: usize) -> Reporter {
        let bar = (!quiet && std::io::stderr().is_terminal() && iterations > 0).then(|| {
            let b = indicatif::ProgressBar::new(iterations as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos:>5}/{len} iterations  KL {msg}  {elapsed_precise} (ETA {eta})",
                )
                .expect("valid template"),
            );
            b
        });
        Reporter {
            quiet,
            bar,
            capped: std::cell::Cell::new(false),
        }
    }

    /// The banner before the run.
    pub fn start(&self, plan: &Plan, need: sgtsne::memory::Estimate) {
        if !self.quiet {
            eprintln!(
                "embedding {} vertices in {}D: {} iterations, eta {}, repulsion {:?}, memory estimate {} (at most {})",
                plan.n,
                plan.dim,
                plan.max_iter,
                plan.eta,
                plan.repulsion,
                sgtsne::memory::human(need.typical),
                sgtsne::memory::human(need.most)
            );
        }
    }

    /// The session's callback: never stops the run.
    pub fn progress(&self, p: &Progress) -> ControlFlow<()> {
        if self.quiet {
            return ControlFlow::Continue(());
        }
        if let Some(g) = p.grid.filter(|g| g.capped && !self.capped.get()) {
            self.capped.set(true);
            self.say(&format!(
                "note: from iteration {} the embedding is wider than the grid's {} nodes per side at the set spacing; the spacing now grows with it (h = {:.2}), bounding time and memory per iteration (--grid-max raises the cap)",
                p.iter,
                g.m - 2,
                g.h
            ));
        }
        if let Some(b) = &self.bar {
            if let Some(kl) = p.kl {
                b.set_message(format!("{kl:.4}"));
            }
            b.set_position(p.iter as u64);
        } else if let Some(kl) = p.kl {
            let _ = writeln!(
                std::io::stderr(),
                "iteration {:>5}: KL {:.4} ({:.2} s)",
                p.iter,
                kl,
                p.seconds
            );
        }
        ControlFlow::Continue(())
    }

    fn say(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None => eprintln!("{line}"),
        }
    }

    /// Clears the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
