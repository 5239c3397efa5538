//! Progress of the library's long preparation phases ([`sgtsne::progress`]):
//! on a terminal a bar (or a spinner when a phase cannot count its work)
//! with the time left; otherwise, for a phase still running, a line every
//! 30 seconds (`SGTSNE_PROGRESS_EVERY` seconds) with the share done and
//! the time left; nothing with `--quiet`. A watcher thread polls the
//! meter, so the work itself never waits on the display.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sgtsne::progress::{Meter, Reading};

/// The meter every library call of this process reports into.
static METER: LazyLock<Meter> = LazyLock::new(Meter::default);

/// The bar on show, shared with [`say`] so a line never tears it.
static BAR: Mutex<Option<(u64, indicatif::ProgressBar)>> = Mutex::new(None);

/// Seconds between lines when stderr is not a terminal.
const EVERY: f64 = 30.0;

/// A phase shorter than this gets no bar (no flicker for quick steps).
const BAR_AFTER: f64 = 0.5;

const POLL: Duration = Duration::from_millis(100);

/// The process's meter, for the library's `progress` settings.
pub fn meter() -> &'static Meter {
    &METER
}

/// Prints a line on stderr, clearing the bar first.
pub fn say(line: &str) {
    let mut bar = BAR.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, b)) = bar.take() {
        b.finish_and_clear();
    }
    eprintln!("{line}");
}

/// Watches the meter until dropped.
pub struct Watch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watch {
    /// Starts watching, unless `quiet`.
    pub fn start(quiet: bool) -> Watch {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = (!quiet).then(|| {
            let stop = stop.clone();
            let every = std::env::var("SGTSNE_PROGRESS_EVERY")
                .ok()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .unwrap_or(EVERY);
            let terminal = std::io::stderr().is_terminal();
            std::thread::spawn(move || watch(&stop, terminal, every))
        });
        Watch { stop, thread }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let mut bar = BAR.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, b)) = bar.take() {
            b.finish_and_clear();
        }
    }
}

fn watch(stop: &AtomicBool, terminal: bool, every: f64) {
    // (phase serial, when its last line was printed)
    let mut last: Option<(u64, Instant)> = None;
    while !stop.load(Ordering::Relaxed) {
        let r = METER.read();
        if terminal {
            show_bar(r.as_ref());
        } else if let Some(r) = r {
            let now = Instant::now();
            let since = match last {
                Some((s, t)) if s == r.serial => t,
                _ => now - Duration::from_secs_f64(r.seconds.min(3600.0)),
            };
            if now.duration_since(since).as_secs_f64() >= every {
                eprintln!("  {r}");
                last = Some((r.serial, now));
            } else if last.map(|(s, _)| s) != Some(r.serial) {
                last = Some((r.serial, since));
            }
        }
        std::thread::sleep(POLL);
    }
}

fn show_bar(r: Option<&Reading>) {
    let mut bar = BAR.lock().unwrap_or_else(|e| e.into_inner());
    let Some(r) = r.filter(|r| r.seconds >= BAR_AFTER) else {
        if let Some((_, b)) = bar.take() {
            b.finish_and_clear();
        }
        return;
    };
    if bar.as_ref().is_some_and(|(s, _)| *s != r.serial) {
        if let Some((_, b)) = bar.take() {
            b.finish_and_clear();
        }
    }
    let (_, b) = bar.get_or_insert_with(|| {
        let b = if r.total > 0 {
            let b = indicatif::ProgressBar::new(r.total);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg}  {bar:30} {percent:>3}%  {elapsed_precise} (ETA {eta})",
                )
                .expect("valid template"),
            );
            b
        } else {
            let b = indicatif::ProgressBar::new_spinner();
            b.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg}  {elapsed_precise}")
                    .expect("valid template"),
            );
            b
        };
        b.set_message(r.label.clone());
        // The bar's clock starts with the phase, not with the bar.
        b.set_elapsed(Duration::from_secs_f64(r.seconds));
        (r.serial, b)
    });
    if r.total > 0 {
        b.set_position(r.done);
    } else {
        b.tick();
    }
}
