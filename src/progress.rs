//! How far the long preparation phases have got (neighbour search,
//! calibration, graph preparation, the start, vertex order, block layout,
//! quality report), readable from another thread while they run: a front
//! end polls [`Meter::read`] and draws a bar or prints a line with the
//! time left. The work adds to one relaxed atomic counter, once per point
//! or per batch of points (against microseconds of work per point), and
//! never reads it, so metering changes no result.
//!
//! ```
//! use sgtsne::progress::Meter;
//! let meter = Meter::default();
//! {
//!     let phase = meter.phase("calibration", 4);
//!     phase.add(3);
//!     let r = meter.read().unwrap();
//!     assert_eq!((r.label.as_str(), r.done, r.total), ("calibration", 3, 4));
//! }
//! assert!(meter.read().is_none());
//! assert_eq!(meter.finished()[0].done, 3);
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::util::human_seconds;

/// A shared progress meter: clones report into, and read from, the same
/// counters. One phase runs at a time; a phase begun inside another
/// suspends it until it ends.
#[derive(Clone, Default)]
pub struct Meter(Arc<Inner>);

#[derive(Default)]
struct Inner {
    state: Mutex<State>,
    done: AtomicU64,
}

#[derive(Default)]
struct State {
    current: Option<Current>,
    serial: u64,
    finished: Vec<Finished>,
}

#[derive(Clone)]
struct Current {
    label: String,
    total: u64,
    started: Instant,
    serial: u64,
}

/// A phase as it stands.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Reading {
    /// What runs, e.g. "perplexity calibration".
    pub label: String,
    /// Units of work done, at most `total`.
    pub done: u64,
    /// Units in all; 0 when the phase cannot tell in advance.
    pub total: u64,
    /// Seconds since the phase began.
    pub seconds: f64,
    /// Distinct for every phase begun on this meter.
    pub serial: u64,
}

impl Reading {
    /// The fraction done, when the total is known.
    pub fn fraction(&self) -> Option<f64> {
        (self.total > 0).then(|| self.done as f64 / self.total as f64)
    }

    /// Seconds left at the pace so far, once some work is done.
    pub fn eta(&self) -> Option<f64> {
        let f = self.fraction()?;
        (f > 0.0).then(|| self.seconds * (1.0 - f) / f)
    }
}

/// The progress line of a phase still running, as the front ends print
/// it: "LABEL: P% after T, about E left" (or "still running after T" when
/// the phase cannot count its work).
impl std::fmt::Display for Reading {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let took = human_seconds(self.seconds);
        match (self.fraction(), self.eta()) {
            (Some(p), Some(eta)) if eta < 1.0 => write!(
                f,
                "{}: {:.0}% after {took}, under a second left",
                self.label,
                100.0 * p
            ),
            (Some(p), Some(eta)) => write!(
                f,
                "{}: {:.0}% after {took}, about {} left",
                self.label,
                100.0 * p,
                human_seconds(eta)
            ),
            (Some(p), None) => write!(f, "{}: {:.0}% after {took}", self.label, 100.0 * p),
            _ => write!(f, "{}: still running after {took}", self.label),
        }
    }
}

/// A phase that has ended.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Finished {
    pub label: String,
    pub done: u64,
    pub total: u64,
    pub seconds: f64,
}

/// The phases a meter keeps after they end (the latest).
const KEEP_FINISHED: usize = 256;

impl std::fmt::Debug for Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Meter")
    }
}

impl Meter {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state inconsistent: every
        // update is a whole assignment.
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Begins a phase of `total` units (0: unknown); it ends when the
    /// returned guard is dropped.
    pub fn phase(&self, label: impl Into<String>, total: u64) -> Phase<'_> {
        let mut st = self.state();
        st.serial += 1;
        let done = self.0.done.swap(0, Ordering::Relaxed);
        let saved = st.current.take().map(|c| (c, done));
        st.current = Some(Current {
            label: label.into(),
            total,
            started: Instant::now(),
            serial: st.serial,
        });
        Phase { meter: self, saved }
    }

    /// The phase running now, if any.
    pub fn read(&self) -> Option<Reading> {
        let st = self.state();
        let c = st.current.as_ref()?;
        let done = self.0.done.load(Ordering::Relaxed);
        Some(Reading {
            label: c.label.clone(),
            done: if c.total > 0 { done.min(c.total) } else { done },
            total: c.total,
            seconds: c.started.elapsed().as_secs_f64(),
            serial: c.serial,
        })
    }

    /// The phases that have ended, oldest first (the latest 256), each
    /// with the units it counted: a test that its count matches its total.
    pub fn finished(&self) -> Vec<Finished> {
        self.state().finished.clone()
    }
}

/// A running phase; it ends when dropped.
pub struct Phase<'a> {
    meter: &'a Meter,
    saved: Option<(Current, u64)>,
}

impl Phase<'_> {
    /// Counts `units` more work done.
    pub fn add(&self, units: u64) {
        self.meter.0.done.fetch_add(units, Ordering::Relaxed);
    }
}

impl Drop for Phase<'_> {
    fn drop(&mut self) {
        let mut st = self.meter.state();
        let done = self.meter.0.done.load(Ordering::Relaxed);
        if let Some(c) = st.current.take() {
            if st.finished.len() == KEEP_FINISHED {
                st.finished.remove(0);
            }
            st.finished.push(Finished {
                label: c.label,
                done,
                total: c.total,
                seconds: c.started.elapsed().as_secs_f64(),
            });
        }
        let (current, done) = match self.saved.take() {
            Some((c, d)) => (Some(c), d),
            None => (None, 0),
        };
        st.current = current;
        self.meter.0.done.store(done, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_phases_suspend_and_resume() {
        let m = Meter::default();
        let outer = m.phase("outer", 10);
        outer.add(2);
        {
            let inner = m.phase("inner", 0);
            inner.add(5);
            let r = m.read().unwrap();
            assert_eq!((r.label.as_str(), r.done, r.total), ("inner", 5, 0));
            assert_eq!(r.fraction(), None);
        }
        outer.add(3);
        let r = m.read().unwrap();
        assert_eq!((r.label.as_str(), r.done), ("outer", 5));
        assert_eq!(r.fraction(), Some(0.5));
        drop(outer);
        assert!(m.read().is_none());
        let f = m.finished();
        assert_eq!(
            f.iter()
                .map(|p| (p.label.as_str(), p.done))
                .collect::<Vec<_>>(),
            [("inner", 5), ("outer", 5)]
        );
    }
}
