//! What saving a model allocates, counted exactly by a global allocator
//! (its own test binary, so no other test's allocations are counted): a
//! run that ends by saving its model holds no second graph and builds no
//! file in memory, and a resumed run's model shares its graph with the
//! model it came from. The CLI's own path is measured from outside, more
//! coarsely, in `it::memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

use sgtsne::model::Source;
use sgtsne::{Embedder, Model};

#[path = "it/common/mod.rs"]
mod common;

/// Bytes allocated now, and the most at any moment since the last reset.
static NOW: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

struct Counting;

fn grew(by: usize) {
    let now = NOW.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: every call is passed on to `System` unchanged; the counters
// only observe the sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        NOW.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as the new block arriving before the old one leaves,
            // as a moving realloc briefly holds both.
            grew(new_size);
            NOW.fetch_sub(layout.size(), Ordering::SeqCst);
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The most allocated at once while `f` runs, beyond what was allocated
/// when it started.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = NOW.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst) - base)
}

#[test]
fn models_hold_no_copy_of_their_graph() {
    let dir = tempfile::tempdir().unwrap();
    for dim in 1..=3 {
        // 20–40 out-edges a vertex.
        let g = common::random_graph(20_000, 20, 40, 3);
        let (n, nnz) = (g.n(), g.nnz());
        // What the graph holds: row pointers, column indices and values.
        let graph_bytes = (n + 1) * size_of::<usize>() + nnz * (size_of::<u32>() + 8);
        // What the model adds of its own: coordinates, update and gains.
        let state_bytes = 3 * n * dim * 8;
        let e = Embedder::new(dim).seed(1).max_iter(3);
        let mut s = e.session(&g, None).unwrap();
        s.run_to_end(&mut |_| ControlFlow::Continue(())).unwrap();
        let result = s.result().unwrap();
        let path = dir.path().join(format!("m{dim}.npz"));
        // Measured in two parts, since dropping the session between them
        // frees more than either allocates.
        let (model, taking) = peak_during(|| {
            Model::from_run(&e, g, &s, &result, Source::Graph { lambda: 1.0 }).unwrap()
        });
        drop(s);
        let ((), saving) = peak_during(|| model.save(&path).unwrap());
        let extra = taking.max(saving);
        let file = std::fs::metadata(&path).unwrap().len() as usize;
        assert!(file > graph_bytes, "a model of {file} bytes");
        // The state, the file's 64 KiB chunks and its directory; a copy of
        // the graph or of the file would be 20 MB or more.
        let allowed = state_bytes + graph_bytes / 10;
        eprintln!("{dim}D: saving allocated {extra} bytes at its peak (graph {graph_bytes})");
        assert!(
            extra <= allowed,
            "{dim}D: saving allocated {extra} bytes at its peak, over {allowed} \
             (graph {graph_bytes}, file {file}, state {state_bytes})"
        );
        // The file is whole: it loads as the run's model.
        let back = Model::load(&path).unwrap();
        assert_eq!(back.coords().as_slice(), result.coords.as_slice());
        assert_eq!(back.iterations(), result.iterations);
        // A resumed run's model, and a clone, share the graph (Python's
        // `Model.resume` keeps the old model and returns a new one).
        for (what, m) in [("built", &model), ("loaded", &back)] {
            let mut s = m.resume().unwrap();
            s.run(2, &mut |_| ControlFlow::Continue(())).unwrap();
            let r = s.result().unwrap();
            let (next, extra) = peak_during(|| m.updated(&s, &r).unwrap());
            assert!(
                extra <= allowed,
                "{dim}D: updating a {what} model allocated {extra} bytes, over {allowed}"
            );
            assert_eq!(next.iterations(), result.iterations + 2);
            let (copy, extra) = peak_during(|| next.clone());
            assert!(
                extra <= allowed,
                "{dim}D: cloning a {what} model allocated {extra} bytes, over {allowed}"
            );
            assert_eq!(copy.coords().as_slice(), next.coords().as_slice());
        }
    }
}

#[test]
fn updated_points_models_share_their_reference_points() {
    let g = common::random_graph(20_000, 20, 40, 5);
    let (n, dims) = (g.n(), 50);
    let reference_bytes = n * dims * 8;
    let reference =
        sgtsne::points::Points::try_new(n, dims, (0..n * dims).map(|i| (i % 97) as f64).collect())
            .unwrap();
    let source = Source::Points {
        reference,
        pca: None,
        dims,
        search: None,
    };
    let dim = 2;
    let e = Embedder::new(dim).seed(1).max_iter(3);
    let mut s = e.session(&g, None).unwrap();
    s.run_to_end(&mut |_| ControlFlow::Continue(())).unwrap();
    let result = s.result().unwrap();
    let model = Model::from_run(&e, g, &s, &result, source).unwrap();
    drop(s);
    let mut s = model.resume().unwrap();
    s.run(2, &mut |_| ControlFlow::Continue(())).unwrap();
    let r = s.result().unwrap();
    // The new model's own state (coordinates, update, gains); a copy of
    // the reference points would be 8 MB.
    let allowed = 3 * n * dim * 8 + reference_bytes / 10;
    let (next, extra) = peak_during(|| model.updated(&s, &r).unwrap());
    eprintln!("updating a points model allocated {extra} bytes (reference {reference_bytes})");
    assert!(
        extra <= allowed,
        "updating a points model allocated {extra} bytes, over {allowed}"
    );
    let Source::Points { reference, .. } = next.source() else {
        panic!("the updated model lost its points");
    };
    assert_eq!(reference.n(), n);
}
