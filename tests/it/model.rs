//! Models: save and load, resume, and placing new points or vertices.

use crate::common;

use std::ops::ControlFlow;
use std::path::Path;

use sgtsne::affinity::Affinities;
use sgtsne::graph::StochasticGraph;
use sgtsne::io::mtx::Triplets;
use sgtsne::io::points::NpyArray;
use sgtsne::knn::KnnMethod;
use sgtsne::model::Source;
use sgtsne::points::Points;
use sgtsne::util::Rng;
use sgtsne::{Embedder, Error, Model, Placement};

fn go(_: &sgtsne::Progress) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// Four Gaussian blobs in `d` dimensions, `n` points, centres 10 apart.
fn blobs(n: usize, d: usize, seed: u64) -> Points {
    let mut rng = Rng::new(seed);
    let data = (0..n * d)
        .map(|k| 10.0 * ((k / d) % 4) as f64 * ((k % d == 0) as u8 as f64) + rng.normal())
        .collect();
    Points::try_new(n, d, data).unwrap()
}

/// A points model of `pts` (PCA to 3 when `pca`), fitted for `iters`.
fn points_model(pts: &Points, dim: usize, iters: usize, pca: bool) -> Model {
    let aff = Affinities::default()
        .perplexity(10.0)
        .pca(if pca { 3 } else { 0 });
    let mut g = aff.graph(pts, &mut |_| {}).unwrap();
    let (graph, _) = StochasticGraph::from_coo(&g.coo, 1.0).unwrap();
    let source = Source::from_points(pts.clone(), &mut g);
    let e = Embedder::new(dim).seed(5).max_iter(iters);
    let mut s = e.session(&graph, None).unwrap();
    s.run_to_end(&mut go).unwrap();
    Model::new(&e, &graph, &mut s, source).unwrap()
}

/// Saved and loaded, a model has the same coordinates, settings and
/// state, and writes the same bytes again.
#[test]
fn a_model_round_trips_through_its_file() {
    let dir = tempfile::tempdir().unwrap();
    for (dim, pca) in [(1, false), (2, true), (3, false)] {
        let m = points_model(&blobs(300, 6, 1), dim, 80, pca);
        let path = dir.path().join(format!("m{dim}.npz"));
        m.save(&path).unwrap();
        let back = Model::load(&path).unwrap();
        assert_eq!(back.coords(), m.coords());
        assert_eq!(back.iterations(), 80);
        assert_eq!(back.kl().to_bits(), m.kl().to_bits());
        assert_eq!(
            back.embedder().plan(300).unwrap(),
            m.embedder().plan(300).unwrap()
        );
        assert_eq!(back.to_bytes().unwrap(), std::fs::read(&path).unwrap());
    }
}

/// Fit 60 iterations, save, load, resume 90: the same bits as 150 at once
/// (the split falls inside the early exaggeration).
#[test]
fn resuming_a_saved_run_equals_the_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let g = common::random_graph(1200, 3, 8, 4);
    for (dim, heavy) in [
        (1, false),
        (2, false),
        (3, false),
        (1, true),
        (2, true),
        (3, true),
    ] {
        let mut e = Embedder::new(dim).seed(2).early_iter(100).max_iter(60);
        if heavy {
            // The kernel and the schedule after the early phase must come
            // back from the file too.
            e = e
                .dof(0.6)
                .exaggeration(2.0)
                .late_exaggeration(Some(3.0))
                .late_start(Some(120));
        }
        let mut s = e.session(&g, None).unwrap();
        s.run_to_end(&mut go).unwrap();
        let path = dir.path().join("g.npz");
        Model::new(&e, &g, &mut s, Source::Graph { lambda: 1.0 })
            .unwrap()
            .save(&path)
            .unwrap();
        let mut resumed = Model::load(&path).unwrap().resume().unwrap();
        assert_eq!(resumed.iterations(), 60);
        resumed.run(90, &mut go).unwrap();
        let once = e.clone().max_iter(150).embed(&g).unwrap();
        assert_eq!(
            resumed.result().unwrap().coords,
            once.coords,
            "dim {dim} heavy {heavy}"
        );
    }
}

fn rows(p: &Points, r: std::ops::Range<usize>) -> Points {
    let d = p.d();
    Points::try_new(r.len(), d, p.as_slice()[r.start * d..r.end * d].to_vec()).unwrap()
}

/// Each new point's result depends on the model and itself only: placing
/// A ∪ B and keeping A's rows gives A's placement alone, bit for bit, on
/// any thread count.
#[test]
fn placement_is_batch_and_thread_invariant() {
    let train = blobs(400, 5, 2);
    let new = blobs(120, 5, 3);
    for dim in 1..=3 {
        let m = points_model(&train, dim, 150, dim == 2);
        for knn in [KnnMethod::Exact, KnnMethod::Approx] {
            let s = Placement::default().max_iter(60).knn(knn);
            let all = common::with_threads(1, || m.transform_points(&new, &s).unwrap());
            let first =
                common::with_threads(3, || m.transform_points(&rows(&new, 0..50), &s).unwrap());
            assert_eq!(
                &all.as_slice()[..50 * dim],
                first.as_slice(),
                "dim {dim} {knn}"
            );
            let all3 = common::with_threads(2, || m.transform_points(&new, &s).unwrap());
            assert_eq!(all, all3, "dim {dim} {knn}");
        }
    }
}

/// The model's own points, placed as new points, land near their fitted
/// positions: within 1% of the embedding's extent for the median point
/// (measured: 0.07% in 1D, 0.13% in 2D and 3D).
#[test]
fn placing_the_reference_points_lands_each_near_itself() {
    let train = blobs(500, 5, 6);
    for dim in 1..=3 {
        let m = points_model(&train, dim, 300, false);
        let placed = m.transform_points(&train, &Placement::default()).unwrap();
        let y = m.coords();
        let extent = (0..dim)
            .map(|a| {
                let v = y.as_slice().iter().skip(a).step_by(dim);
                let (lo, hi) = v.fold((f64::MAX, f64::MIN), |(l, h), &x| (l.min(x), h.max(x)));
                hi - lo
            })
            .fold(0.0, f64::max);
        let mut dist: Vec<f64> = (0..y.n())
            .map(|i| {
                y.row(i)
                    .iter()
                    .zip(placed.row(i))
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        dist.sort_by(f64::total_cmp);
        let median = dist[dist.len() / 2] / extent;
        assert!(
            median < 0.01,
            "dim {dim}: median distance {median} of the extent"
        );
    }
}

/// New vertices given by their edges land among the vertices they link to.
#[test]
fn placing_graph_vertices_by_their_edges() {
    // Two clusters of 300 vertices each (a ring inside each), embedded in 2D.
    let n = 600;
    let mut coo = sgtsne::graph::Coo {
        n,
        ..Default::default()
    };
    for i in 0..n {
        let base = (i / 300) * 300;
        for s in 1..=5 {
            coo.rows.push((base + (i - base + s) % 300) as u32);
            coo.cols.push(i as u32);
            coo.vals.push(1.0);
        }
    }
    let (g, _) = StochasticGraph::from_coo(&coo, 1.0).unwrap();
    let e = Embedder::new(2).seed(3).max_iter(300);
    let mut s = e.session(&g, None).unwrap();
    s.run_to_end(&mut go).unwrap();
    let m = Model::new(&e, &g, &mut s, Source::Graph { lambda: 1.0 }).unwrap();
    // New vertex 0 links to cluster A's vertices 0..5, vertex 1 to B's.
    let t = Triplets {
        nrows: n,
        ncols: 2,
        rows: (0..5).chain(300..305).collect(),
        cols: [0; 5].into_iter().chain([1; 5]).collect(),
        vals: vec![1.0; 10],
    };
    let placed = m.transform_graph(&t, &Placement::default()).unwrap();
    let centre = |r: std::ops::Range<usize>| -> [f64; 2] {
        let c = m.coords();
        let k = r.len() as f64;
        let mut s = [0.0; 2];
        for i in r {
            s[0] += c.row(i)[0] / k;
            s[1] += c.row(i)[1] / k;
        }
        s
    };
    let d = |p: &[f64], c: [f64; 2]| ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2)).sqrt();
    let (a, b) = (centre(0..5), centre(300..305));
    assert!(d(placed.row(0), a) < d(placed.row(0), b));
    assert!(d(placed.row(1), b) < d(placed.row(1), a));
    // A matrix whose rows are not the model's vertices is refused.
    let wrong_rows = Triplets {
        nrows: n + 1,
        ..t.clone()
    };
    assert!(matches!(
        m.transform_graph(&wrong_rows, &Placement::default()),
        Err(Error::Input(_))
    ));
    // A column without edges is refused, naming it.
    // A header's claim of a billion new vertices with ten entries is refused
    // before any per-vertex array is sized (one would take 8 GB).
    let claim = Triplets {
        ncols: 1_000_000_000,
        ..t.clone()
    };
    match m.transform_graph(&claim, &Placement::default()) {
        Err(Error::Input(msg)) => assert!(msg.contains("1000000000 new vertices"), "{msg}"),
        other => panic!("expected an input error, got {other:?}"),
    }
    let empty = Triplets {
        ncols: 3,
        ..t.clone()
    };
    match m.transform_graph(&empty, &Placement::default()) {
        Err(Error::Input(msg)) => assert!(msg.contains("column 3"), "{msg}"),
        other => panic!("expected an input error, got {other:?}"),
    }
    // Triplets out of range or with bad weights are refused, not a panic.
    for (k, bad) in [
        Triplets {
            rows: vec![n as u32; t.rows.len()],
            ..t.clone()
        },
        Triplets {
            cols: vec![7; t.cols.len()],
            ..t.clone()
        },
        Triplets {
            vals: vec![-1.0; t.vals.len()],
            ..t.clone()
        },
        Triplets {
            vals: vec![f64::NAN; t.vals.len()],
            ..t.clone()
        },
        Triplets {
            vals: vec![1.0],
            ..t.clone()
        },
    ]
    .iter()
    .enumerate()
    {
        match m.transform_graph(bad, &Placement::default()) {
            Err(Error::Input(_)) => {}
            other => panic!("case {k}: expected an input error, got {other:?}"),
        }
    }
}

/// A model written in the zip64 layout (as models past 4 GiB are) loads
/// as the same model.
#[test]
fn a_model_in_the_zip64_layout_loads_alike() {
    let m = points_model(&blobs(300, 6, 2), 2, 40, true);
    let bytes = m.to_bytes().unwrap();
    let wide = rewritten_with(&bytes, Some(0), |_, a| Some(a));
    assert_ne!(wide, bytes);
    let back = Model::from_bytes(&wide, Path::new("wide.npz")).unwrap();
    assert_eq!(back.coords(), m.coords());
    assert_eq!(back.kl().to_bits(), m.kl().to_bits());
    // Written again by the model, it is the plain layout, byte for byte.
    assert_eq!(back.to_bytes().unwrap(), bytes);
    let new = blobs(40, 6, 9);
    let s = Placement::default();
    assert_eq!(
        back.transform_points(&new, &s).unwrap(),
        m.transform_points(&new, &s).unwrap()
    );
}

/// The model file `bytes` written again array by array, each passed
/// through `edit` (`None` drops it): `params` as bytes, the rest as f64.
fn rewritten(bytes: &[u8], edit: impl Fn(&str, NpyArray) -> Option<NpyArray>) -> Vec<u8> {
    rewritten_with(bytes, None, edit)
}

/// As [`rewritten`], with zip64 fields for sizes and offsets of at least
/// `zip64_from` bytes.
fn rewritten_with(
    bytes: &[u8],
    zip64_from: Option<u64>,
    edit: impl Fn(&str, NpyArray) -> Option<NpyArray>,
) -> Vec<u8> {
    let arrays: Vec<(String, NpyArray)> = sgtsne::io::npz::read_npz(bytes, Path::new("m.npz"))
        .unwrap()
        .into_iter()
        .filter_map(|(name, a)| edit(&name, a).map(|a| (name, a)))
        .collect();
    let mut z = sgtsne::io::npz::NpzWriter::new();
    if let Some(t) = zip64_from {
        z = z.zip64_from(t);
    }
    for (name, a) in &arrays {
        if name == "params" {
            let text: Vec<u8> = a.data.iter().map(|&b| b as u8).collect();
            z.bytes(name, &text).unwrap();
        } else {
            z.f64(name, &a.shape, &a.data).unwrap();
        }
    }
    let mut out = Vec::new();
    z.finish(&mut out).unwrap();
    out
}

fn load_err(bytes: &[u8]) -> String {
    match Model::from_bytes(bytes, Path::new("m.npz")) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a bad model loaded"),
    }
}

/// A foreign, truncated, corrupted or newer file is an error naming the
/// file, never a panic; so is a model of the wrong kind for the input.
#[test]
fn bad_models_and_mismatched_inputs_are_errors() {
    let m = points_model(&blobs(200, 4, 9), 2, 50, false);
    let bytes = m.to_bytes().unwrap();
    assert!(load_err(b"PK\x03\x04 not really").contains("m.npz"));
    assert!(load_err(&bytes[..bytes.len() / 2]).contains("m.npz"));
    for cut in [0, 1, 22, 100, bytes.len() - 1] {
        let _ = Model::from_bytes(&bytes[..cut], Path::new("m.npz"));
    }
    let at = |name: &[u8]| {
        bytes
            .windows(name.len())
            .position(|w| w == name)
            .expect("the entry's name")
            + 200
    };
    let mut flipped = bytes.clone();
    flipped[at(b"coords.npy")] ^= 0x40;
    assert!(load_err(&flipped).contains("CRC"), "{}", load_err(&flipped));
    // A damaged P is found when P is read: on resume, not by a transform,
    // whose result does not depend on it.
    let mut flipped = bytes.clone();
    flipped[at(b"p_vals.npy")] ^= 0x40;
    let loaded = Model::from_bytes(&flipped, Path::new("m.npz")).unwrap();
    assert!(loaded
        .transform_points(&blobs(3, 4, 2), &Placement::default())
        .is_ok());
    let e = loaded
        .resume()
        .err()
        .expect("a damaged P resumed")
        .to_string();
    assert!(e.contains("m.npz") && e.contains("CRC"), "{e}");
    // A well-formed file of a newer format version.
    let newer = rewritten(&bytes, |name, mut a| {
        if name == "params" {
            let text: Vec<u8> = a.data.iter().map(|&b| b as u8).collect();
            let text = String::from_utf8(text).unwrap();
            assert!(text.contains("\"version\":1"), "{text}");
            let text = text.replace("\"version\":1", "\"version\":9");
            a.data = text.bytes().map(f64::from).collect();
            a.shape = vec![a.data.len()];
        }
        Some(a)
    });
    let e = load_err(&newer);
    assert!(e.contains("m.npz") && e.contains("newer"), "{e}");
    // A P that is not a stochastic graph: found when the run resumes (a
    // transform does not read P), with a message naming the file.
    let bad_p = rewritten(&bytes, |name, mut a| {
        if name == "p_vals" {
            a.data.iter_mut().for_each(|v| *v *= 2.0);
        }
        Some(a)
    });
    let loaded = Model::from_bytes(&bad_p, Path::new("m.npz")).unwrap();
    assert!(loaded
        .transform_points(&blobs(3, 4, 2), &Placement::default())
        .is_ok());
    let e = loaded.resume().err().expect("a bad P resumed").to_string();
    assert!(e.contains("m.npz") && e.contains("sum to 1"), "{e}");
    // Wrong kind, wrong feature count, NaN.
    let t = Triplets {
        nrows: 200,
        ncols: 1,
        rows: vec![0],
        cols: vec![0],
        vals: vec![1.0],
    };
    let s = Placement::default();
    let wrong_d = blobs(5, 3, 1);
    assert!(matches!(
        m.transform_points(&wrong_d, &s),
        Err(Error::Input(_))
    ));
    let g = {
        let mut s = Embedder::new(2)
            .max_iter(5)
            .session(&common::random_graph(200, 2, 4, 1), None)
            .unwrap();
        s.run_to_end(&mut go).unwrap();
        Model::new(
            &Embedder::new(2).max_iter(5),
            &common::random_graph(200, 2, 4, 1),
            &mut s,
            Source::Graph { lambda: 1.0 },
        )
        .unwrap()
    };
    assert!(matches!(
        g.transform_points(&blobs(5, 4, 1), &s),
        Err(Error::Input(_))
    ));
    assert!(matches!(m.transform_graph(&t, &s), Err(Error::Input(_))));
    assert!(Points::try_new(1, 4, vec![0.0, f64::NAN, 0.0, 0.0]).is_err());
}

/// A points model keeps its search graph through its file, and new points
/// matched by walking it land where the exact search puts them: the same
/// neighbours for nearly all, so nearly the same places. A model without
/// the graph (saved before it existed) is searched exactly under `auto`
/// and refuses `approx` with a message that says what to do.
#[test]
fn graph_guided_placement_matches_the_exact_search() {
    let dir = tempfile::tempdir().unwrap();
    let train = blobs(3000, 20, 11);
    let new = blobs(1200, 20, 12);
    for dim in 1..=3 {
        let m = points_model(&train, dim, 200, dim == 3);
        let path = dir.path().join("m.npz");
        m.save(&path).unwrap();
        let back = Model::load(&path).unwrap();
        let s = Placement::default().max_iter(100);
        let exact = back
            .transform_points(&new, &s.clone().knn(KnnMethod::Exact))
            .unwrap();
        let approx = back
            .transform_points(&new, &s.clone().knn(KnnMethod::Approx))
            .unwrap();
        // 1,200 new points: auto walks the graph.
        let auto = back.transform_points(&new, &s).unwrap();
        assert_eq!(auto, approx, "dim {dim}");
        assert_ne!(exact, approx, "dim {dim}: the walk was not taken");
        let same = (0..new.n())
            .filter(|&i| exact.row(i) == approx.row(i))
            .count();
        let extent = exact.as_slice().iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut moved: Vec<f64> = (0..new.n())
            .map(|i| {
                exact
                    .row(i)
                    .iter()
                    .zip(approx.row(i))
                    .map(|(a, b)| (a - b) * (a - b))
                    .sum::<f64>()
                    .sqrt()
                    / extent
            })
            .collect();
        moved.sort_by(f64::total_cmp);
        let p99 = moved[moved.len() * 99 / 100];
        // Measured: 1,081 of 1,200 alike in 1D and 2D (20 dimensions, where
        // a few of 25 neighbours differ), 1,199 in 3D (PCA to 3); the 99th
        // percentile moved 1e-5 to 4e-5 of the extent.
        assert!(
            same as f64 >= 0.85 * new.n() as f64 && p99 < 1e-3,
            "dim {dim}: only {same} of {} placed alike; 99th percentile moved {p99:e} of the extent",
            new.n()
        );
        // Without the graph.
        let bytes = std::fs::read(&path).unwrap();
        assert!(sgtsne::io::npz::read_npz(&bytes, &path)
            .unwrap()
            .contains_key("search_graph"));
        let old = rewritten(&bytes, |name, a| (name != "search_graph").then_some(a));
        let old = Model::from_bytes(&old, Path::new("old.npz")).unwrap();
        assert_eq!(old.transform_points(&new, &s).unwrap(), exact, "dim {dim}");
        let e = old
            .transform_points(&new, &s.clone().knn(KnnMethod::Approx))
            .unwrap_err()
            .to_string();
        assert!(e.contains("search graph") && e.contains("exact"), "{e}");
    }
}

/// A loaded model reads P from the file as it was opened: replacing the
/// file (as an atomic save does) does not change what resumes, and a file
/// cut short under it is a clear error, never a panic.
#[test]
fn a_loaded_model_reads_p_from_the_file_it_opened() {
    let dir = tempfile::tempdir().unwrap();
    let g = common::random_graph(600, 3, 8, 4);
    let e = Embedder::new(2).seed(2).max_iter(40);
    let mut s = e.session(&g, None).unwrap();
    s.run_to_end(&mut go).unwrap();
    let path = dir.path().join("g.npz");
    let model = Model::new(&e, &g, &mut s, Source::Graph { lambda: 1.0 }).unwrap();
    model.save(&path).unwrap();
    let want = {
        let mut r = model.resume().unwrap();
        r.run(20, &mut go).unwrap();
        r.result().unwrap().coords
    };
    let loaded = Model::load(&path).unwrap();
    let other = common::random_graph(600, 3, 8, 9);
    let mut s2 = e.session(&other, None).unwrap();
    s2.run_to_end(&mut go).unwrap();
    Model::new(&e, &other, &mut s2, Source::Graph { lambda: 1.0 })
        .unwrap()
        .save(&path)
        .unwrap();
    let mut r = loaded.resume().unwrap();
    r.run(20, &mut go).unwrap();
    assert_eq!(r.result().unwrap().coords, want);
    // Cut short in place.
    let cut = Model::load(&path).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(std::fs::metadata(&path).unwrap().len() / 2)
        .unwrap();
    let e = cut
        .resume()
        .err()
        .expect("resumed from half a file")
        .to_string();
    assert!(e.contains("g.npz") && e.contains("truncated"), "{e}");
}
