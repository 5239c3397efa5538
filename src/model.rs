//! What a finished run leaves behind: a [`Model`] holds the coordinates, the
//! settings and seed, the optimiser's state and the graph, so the run can be
//! resumed; for point input also what placing new points needs (the
//! reference points after PCA, the PCA). It is saved as a NumPy `.npz`
//! (docs/formats.md), versioned and checked on load.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rayon::prelude::*;
use serde_json::{json, Value};

use crate::affinity::AffinityGraph;
use crate::embedder::Embedder;
use crate::error::{Error, Result};
use crate::graph::{lambda_rescale, StochasticGraph};
use crate::io::mtx::Triplets;
use crate::io::npz::{NpzReader, NpzWriter};
use crate::io::points::NpyArray;
use crate::knn::{self, KnnMethod, QueryIndex, QueryParams, SearchGraph};
use crate::order::VertexOrder;
use crate::pca::Pca;
use crate::place::{NewAffinities, Placement};
use crate::plan::{AttractionKind, Eta};
use crate::points::Points;
use crate::progress::Meter;
use crate::repulse::{FftBackend, RepulsionKind};
use crate::session::{Embedding, Session};
use crate::sparse::Csc;

/// The format's name and version in every model file.
pub const FORMAT: &str = "sgtsne-model";
pub const VERSION: u64 = 1;

/// Where the graph of a model came from, and so how new points are placed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Source {
    /// A graph given as a matrix; new vertices come as columns of weights.
    Graph { lambda: f64 },
    /// Points: new points are projected (PCA), matched to `reference` and
    /// calibrated.
    Points {
        /// The points the neighbours were searched in (after any PCA).
        reference: Points,
        pca: Option<Pca>,
        /// Input dimensions (before PCA).
        dims: usize,
        /// The first neighbours of each reference point as the fit found
        /// them: the graph an approximate query walks (absent from models
        /// saved before such queries).
        search: Option<SearchGraph>,
    },
}

impl Source {
    /// What a model of `points` needs to place new points, taken from the
    /// affinities built from them (the PCA and projected points if a PCA
    /// was applied, the search graph).
    pub fn from_points(points: Points, g: &mut AffinityGraph) -> Source {
        let dims = points.d();
        let (reference, pca) = match g.pca.take() {
            Some((pca, reference)) => (reference, Some(pca)),
            None => (points, None),
        };
        Source::Points {
            reference,
            pca,
            dims,
            search: g.search.take(),
        }
    }
}

/// A run that can be resumed and can place new points.
#[derive(Clone, Debug)]
pub struct Model {
    embedder: Embedder,
    /// P, built; or, for a loaded model, decoded and checked on first use
    /// (a transform never needs it). Shared, not copied, by the models
    /// [`Model::updated`] makes and by clones: gigabytes at a million points.
    graph: OnceLock<Arc<StochasticGraph>>,
    saved_p: Option<Arc<SavedP>>,
    coords: Points,
    update: Vec<f64>,
    gains: Vec<f64>,
    iterations: usize,
    kl: f64,
    /// Shared by the models [`Model::updated`] makes: a points model's
    /// reference points are hundreds of megabytes at a million points.
    source: Arc<Source>,
}

impl Model {
    /// The model of `session`, run by `embedder` on `graph` (input order).
    pub fn new(
        embedder: &Embedder,
        graph: &StochasticGraph,
        session: &mut Session,
        source: Source,
    ) -> Result<Model> {
        let result = session.result()?;
        Model::with_result(embedder, graph, session, &result, source)
    }

    /// As [`Model::new`], with the session's [`Session::result`] already
    /// in hand (it costs an evaluation of the cost).
    pub fn with_result(
        embedder: &Embedder,
        graph: &StochasticGraph,
        session: &Session,
        result: &Embedding,
        source: Source,
    ) -> Result<Model> {
        // Checked before the copy, which is gigabytes at a million points.
        Self::check_run(graph, session, result, &source)?;
        Self::from_run(embedder, graph.clone(), session, result, source)
    }

    /// As [`Model::with_result`], keeping `graph` rather than a copy: at a
    /// million points the graph is gigabytes, which a run that ends by
    /// saving its model need not hold twice.
    pub fn from_run(
        embedder: &Embedder,
        graph: StochasticGraph,
        session: &Session,
        result: &Embedding,
        source: Source,
    ) -> Result<Model> {
        Self::shared_run(embedder, Arc::new(graph), session, result, Arc::new(source))
    }

    /// As [`Model::from_run`], with a graph other models may share.
    fn shared_run(
        embedder: &Embedder,
        graph: Arc<StochasticGraph>,
        session: &Session,
        result: &Embedding,
        source: Arc<Source>,
    ) -> Result<Model> {
        Self::check_run(&graph, session, result, &source)?;
        let (update, gains) = session.velocities_and_gains();
        Ok(Model {
            // The momentum the run used, not `auto`: a points model resumed
            // through `plan_points` must not switch from a graph run's.
            embedder: embedder.clone().momentum(Some(session.plan().momentum)),
            graph: OnceLock::from(graph),
            saved_p: None,
            coords: result.coords.clone(),
            update,
            gains,
            iterations: result.iterations,
            kl: result.kl,
            source,
        })
    }

    fn check_run(
        graph: &StochasticGraph,
        session: &Session,
        result: &Embedding,
        source: &Source,
    ) -> Result<()> {
        if let Source::Points {
            reference, search, ..
        } = source
        {
            if reference.n() != graph.n() || search.as_ref().is_some_and(|s| s.n() != graph.n()) {
                return Err(Error::Input(format!(
                    "{} reference points for a graph of {} vertices",
                    reference.n(),
                    graph.n()
                )));
            }
        }
        if result.iterations != session.iterations() || result.coords.n() != graph.n() {
            return Err(Error::Input(
                "the result is not the session's current state".into(),
            ));
        }
        Ok(())
    }

    /// Coordinates of the model's vertices, in input order.
    pub fn coords(&self) -> &Points {
        &self.coords
    }
    pub fn dim(&self) -> usize {
        self.coords.d()
    }
    pub fn n(&self) -> usize {
        self.coords.n()
    }
    /// Iterations run so far.
    pub fn iterations(&self) -> usize {
        self.iterations
    }
    /// KL(P‖Q) when the model was made.
    pub fn kl(&self) -> f64 {
        self.kl
    }
    pub fn source(&self) -> &Source {
        &self.source
    }
    /// The settings of the run.
    pub fn embedder(&self) -> &Embedder {
        &self.embedder
    }

    /// P in input order: built, or decoded and checked now from the file.
    fn graph(&self) -> Result<&StochasticGraph> {
        self.shared_graph().map(|g| &**g)
    }

    /// [`Self::graph`] as held, for another model to share.
    fn shared_graph(&self) -> Result<&Arc<StochasticGraph>> {
        if let Some(g) = self.graph.get() {
            return Ok(g);
        }
        let saved = self.saved_p.as_ref().expect("a model has P built or saved");
        let g = saved.decode(self.n())?;
        Ok(self.graph.get_or_init(|| Arc::new(g)))
    }

    /// The run's settings with every `auto` resolved, as they were for the
    /// fit (for points, `auto` is the PCA start).
    pub fn plan(&self) -> Result<crate::Plan> {
        plan_for(&self.embedder, &self.source, self.n())
    }

    /// A session that continues the run where it stopped: running it gives
    /// the bits the uninterrupted run would have.
    pub fn resume(&self) -> Result<Session> {
        self.resume_metered(&Meter::default())
    }

    /// As [`Model::resume`], counting its phases on `meter`: reading the
    /// graph from the file (when not yet read), the vertex order and the
    /// block layout, which take seconds at a million points.
    pub fn resume_metered(&self, meter: &Meter) -> Result<Session> {
        let graph = match self.graph.get() {
            Some(g) => &**g,
            None => {
                let _phase = meter.phase("reading the model's graph", 0);
                self.graph()?
            }
        };
        let plan = self.plan()?;
        Session::restore(
            plan,
            graph,
            self.coords.as_slice(),
            &self.update,
            &self.gains,
            self.iterations,
            meter,
        )
    }

    /// As [`Model::updated`], handing this model's graph and points to the
    /// new one instead of copying them.
    pub fn into_updated(self, session: &Session, result: &Embedding) -> Result<Model> {
        let graph = Arc::clone(self.shared_graph()?);
        Model::shared_run(&self.embedder, graph, session, result, self.source)
    }

    /// The same model after `session` (from [`Model::resume`]) ran on;
    /// `result` is the session's [`Session::result`].
    ///
    /// The new model shares this one's graph and, for a points model, its
    /// reference points: neither is copied.
    pub fn updated(&self, session: &Session, result: &Embedding) -> Result<Model> {
        Model::shared_run(
            &self.embedder,
            Arc::clone(self.shared_graph()?),
            session,
            result,
            Arc::clone(&self.source),
        )
    }

    /// Places new points (rows of `x`, in the model's input dimensions)
    /// into the embedding; row i of the result is point i. Needs a model of
    /// point input.
    pub fn transform_points(&self, x: &Points, s: &Placement) -> Result<Points> {
        s.validate()?;
        let Source::Points {
            reference,
            pca,
            dims,
            search,
        } = &*self.source
        else {
            return Err(Error::Input(
                "this model was fitted on a graph: place new vertices by their edges (a graph transform)"
                    .into(),
            ));
        };
        if x.d() != *dims {
            return Err(Error::Input(format!(
                "new points have {} dimensions, the model's points {dims}",
                x.d()
            )));
        }
        let projected;
        let q = match pca {
            Some(p) => {
                projected = p.project(x)?;
                &projected
            }
            None => x,
        };
        let k = s.k.min(reference.n());
        let walk = match (s.knn, search.as_ref()) {
            (KnnMethod::Exact, _) => None,
            (KnnMethod::Auto, g) => g.filter(|_| q.n() >= crate::defaults::QUERY_GRAPH_MIN),
            (_, Some(g)) => Some(g),
            (_, None) => {
                return Err(Error::param(
                    "knn",
                    "this model has no search graph (it was saved by an older sgtsne), so its neighbours can only be searched exactly: ask for the exact search, or fit and save the model again",
                ))
            }
        };
        let nn = match walk {
            Some(g) => QueryIndex::new(reference, g, self.embedder.seed)?.query(
                q,
                k,
                &QueryParams::default(),
            ),
            None => knn::exact_query(reference, q, k),
        };
        let mut aff = NewAffinities {
            ptr: (0..=x.n()).map(|i| i * k).collect(),
            idx: nn.idx.clone(),
            p: vec![0.0; nn.idx.len()],
        };
        aff.p
            .par_chunks_exact_mut(k)
            .enumerate()
            .for_each(|(i, out)| {
                knn::calibrate_row(nn.neighbors(i).1, s.perplexity, out);
            });
        self.place(&aff, s)
    }

    /// Places new vertices given by their edges to the model's vertices:
    /// `t` has one row per model vertex and one column per new vertex
    /// (entry (i, j) is the weight of the edge from new vertex j to model
    /// vertex i). Columns are normalised and λ-rescaled as in the fit.
    pub fn transform_graph(&self, t: &Triplets, s: &Placement) -> Result<Points> {
        s.validate()?;
        let Source::Graph { lambda } = *self.source else {
            return Err(Error::Input(
                "this model was fitted on points: place new points by their coordinates (a points transform)"
                    .into(),
            ));
        };
        if t.nrows != self.n() {
            return Err(Error::Input(format!(
                "the new edges have {} rows, the model {} vertices (one row per model vertex)",
                t.nrows,
                self.n()
            )));
        }
        // Every new vertex needs an edge, so more columns than entries is
        // an error; saying so first also keeps a header's claim of a
        // billion columns from sizing an array.
        if t.ncols > t.vals.len() {
            return Err(Error::Input(format!(
                "the new edges name {} new vertices (columns) but hold only {} entr{}: each new vertex needs at least one edge to the model's vertices",
                t.ncols,
                t.vals.len(),
                if t.vals.len() == 1 { "y" } else { "ies" }
            )));
        }
        crate::sparse::check_entries(&t.rows, &t.cols, &t.vals, t.nrows, t.ncols)?;
        let mut cols = columns(t);
        if let Some(j) = (0..cols.n).find(|&j| cols.colptr[j] == cols.colptr[j + 1]) {
            return Err(Error::Input(format!(
                "new vertex {} (column {}) has no edge to the model's vertices",
                j + 1,
                j + 1
            )));
        }
        crate::graph::normalize_columns(&mut cols);
        lambda_rescale(&mut cols, lambda);
        let aff = NewAffinities {
            ptr: cols.colptr,
            idx: cols.rowidx,
            p: cols.vals,
        };
        self.place(&aff, s)
    }

    fn place(&self, aff: &NewAffinities, s: &Placement) -> Result<Points> {
        // The kernel the model was fitted with: new points feel what its
        // points felt.
        let k = crate::kernel::Kernel::try_new(self.embedder.dof)?;
        let h = crate::defaults::grid_h_for(self.dim(), k.dof()) / 2.0;
        let data: Vec<f64> = match self.dim() {
            1 => flat(crate::place::place(self.coords.rows::<1>(), aff, s, h, k)),
            2 => flat(crate::place::place(self.coords.rows::<2>(), aff, s, h, k)),
            _ => flat(crate::place::place(self.coords.rows::<3>(), aff, s, h, k)),
        };
        Points::try_new(aff.len(), self.dim(), data).map_err(|_| Error::Numerical {
            iter: s.max_iter,
            msg: "a placed point's coordinates became non-finite".into(),
            param: Some("eta"),
        })
    }

    /// Writes the model to `path` atomically (a NumPy `.npz`), streamed
    /// from memory (no copy of the file is built first).
    pub fn save(&self, path: &Path) -> Result<()> {
        let npz = self.archive()?;
        crate::io::output::write_atomic(path, |w| npz.finish(w))
    }

    /// The model file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        self.archive()?
            .finish(&mut out)
            .map_err(|e| Error::io("<memory>", e))?;
        Ok(out)
    }

    /// The model file, ready to stream to any writer with
    /// [`NpzWriter::finish`] (what [`Model::save`] writes).
    pub fn archive(&self) -> Result<NpzWriter<'_>> {
        let (n, d) = (self.n(), self.dim());
        let mut z = NpzWriter::new();
        z.bytes("params", self.params().to_string().as_bytes())?;
        z.f64("coords", &[n, d], self.coords.as_slice())?;
        z.f64("update", &[n, d], &self.update)?;
        z.f64("gains", &[n, d], &self.gains)?;
        let g = self.graph()?;
        z.i64_of_usize("p_rowptr", &[n + 1], g.rowptr())?;
        z.i64_of_u32("p_colidx", &[g.colidx().len()], g.colidx())?;
        z.f64("p_vals", &[g.nnz()], g.vals())?;
        if let Source::Points {
            reference,
            pca,
            search,
            ..
        } = &*self.source
        {
            z.f64(
                "reference",
                &[reference.n(), reference.d()],
                reference.as_slice(),
            )?;
            if let Some(p) = pca {
                z.f64("pca_mean", &[p.d], &p.mean)?;
                z.f64("pca_basis", &[p.d, p.k], &p.basis)?;
            }
            if let Some(g) = search {
                if g.n() <= i32::MAX as usize {
                    z.i32_of_u32("search_graph", &[g.n(), g.k()], g.idx())?;
                }
            }
        }
        Ok(z)
    }

    fn params(&self) -> Value {
        let e = &self.embedder;
        let mut v = json!({
            "format": FORMAT,
            "version": VERSION,
            "sgtsne": env!("CARGO_PKG_VERSION"),
            "n": self.n(),
            "dim": e.dim,
            "iterations": self.iterations,
            "kl": self.kl,
            "max_iter": e.max_iter,
            "early_iter": e.early_iter,
            "alpha": e.alpha,
            "exaggeration": e.exaggeration,
            "late_exaggeration": e.late_exaggeration,
            "late_start": e.late_start,
            "dof": e.dof,
            "init": e.init.to_string(),
            "eta": e.eta.to_string(),
            "momentum": e.momentum,
            "final_momentum": e.final_momentum,
            "min_gain": e.min_gain,
            "max_step": e.max_step,
            "seed": e.seed,
            "repulsion": e.repulsion.to_string(),
            "grid_h": e.grid_h,
            "grid_max": e.grid_max,
            "near_split": e.near_split,
            "order": e.order.to_string(),
            "attraction": e.attraction.to_string(),
            "fft": e.fft.to_string(),
            "report_every": e.report_every,
        });
        match &*self.source {
            Source::Graph { lambda } => {
                v["kind"] = json!("graph");
                v["lambda"] = json!(lambda);
            }
            Source::Points { dims, pca, .. } => {
                v["kind"] = json!("points");
                v["dims"] = json!(dims);
                v["pca"] = json!(pca.as_ref().map_or(0, |p| p.k));
            }
        }
        v
    }

    /// Reads a model file written by [`Model::save`]. Only what a
    /// transform needs is read now; the graph P, most of the file, is
    /// read and checked when the run resumes or the model is saved again
    /// (from the file as it was opened).
    pub fn load(path: &Path) -> Result<Model> {
        Model::read(NpzReader::open(path)?)
    }

    /// Reads a model from its file's bytes; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Model> {
        Model::read(NpzReader::from_bytes(Arc::from(bytes), path)?)
    }

    fn read(z: NpzReader) -> Result<Model> {
        let path = z.path().to_path_buf();
        let path = path.as_path();
        let bad = |msg: String| Error::parse(path, 0, msg);
        let params = z
            .array("params")?
            .ok_or_else(|| bad("not an sgtsne model (no params)".into()))?;
        let text: Vec<u8> = params.data.iter().map(|&b| b as u8).collect();
        let p: Value = serde_json::from_slice(&text)
            .map_err(|e| bad(format!("the model's params are not valid JSON: {e}")))?;
        let f = Fields { p: &p, path };
        if p["format"] != FORMAT {
            return Err(bad("not an sgtsne model (wrong format name)".into()));
        }
        let version = f.uint("version")?;
        if version > VERSION {
            return Err(bad(format!(
                "model format version {version} is newer than this sgtsne reads ({VERSION}); upgrade sgtsne"
            )));
        }
        let (n, d) = (f.uint("n")? as usize, f.uint("dim")? as usize);
        let embedder = f.embedder()?;
        for name in ["p_rowptr", "p_colidx", "p_vals"] {
            if !z.has(name) {
                return Err(bad(format!("the model has no '{name}' array")));
            }
        }
        let take = |name: &str, shape: &[usize]| -> Result<Vec<f64>> {
            let arr = z
                .array(name)?
                .ok_or_else(|| bad(format!("the model has no '{name}' array")))?;
            check_shape(&arr, name, shape).map_err(bad)?;
            Ok(arr.data)
        };
        let coords = Points::try_new(n, d, take("coords", &[n, d])?)
            .map_err(|e| bad(format!("coords: {e}")))?;
        let update = take("update", &[n, d])?;
        let gains = take("gains", &[n, d])?;
        if update.iter().chain(&gains).any(|v| !v.is_finite()) {
            return Err(bad("the optimiser state has a non-finite value".into()));
        }
        let source = match p["kind"].as_str() {
            Some("graph") => Source::Graph {
                lambda: f.num("lambda")?,
            },
            Some("points") => {
                let dims = f.uint("dims")? as usize;
                let k = f.uint("pca")? as usize;
                let rd = if k > 0 { k } else { dims };
                let reference = Points::try_new(n, rd, take("reference", &[n, rd])?)
                    .map_err(|e| bad(format!("reference: {e}")))?;
                let pca = if k > 0 {
                    let mean = take("pca_mean", &[dims])?;
                    let basis = take("pca_basis", &[dims, k])?;
                    Some(Pca::try_new(dims, k, mean, basis)?)
                } else {
                    None
                };
                // Absent from files written before graph-guided queries.
                let search = match z.array("search_graph")? {
                    None => None,
                    Some(arr) => {
                        let ks = arr.shape.get(1).copied().unwrap_or(0);
                        check_shape(&arr, "search_graph", &[n, ks]).map_err(bad)?;
                        let idx: Option<Vec<u32>> = arr
                            .data
                            .iter()
                            .map(|&v| {
                                (v >= 0.0 && v < n as f64 && v.fract() == 0.0).then_some(v as u32)
                            })
                            .collect();
                        let idx = idx.ok_or_else(|| {
                            bad("'search_graph' has an entry that is not a point's index".into())
                        })?;
                        Some(SearchGraph::try_new(n, ks, idx).map_err(|e| bad(e.to_string()))?)
                    }
                };
                Source::Points {
                    reference,
                    pca,
                    dims,
                    search,
                }
            }
            _ => {
                return Err(bad(
                    "the model's kind is neither 'graph' nor 'points'".into()
                ))
            }
        };
        plan_for(&embedder, &source, n).map_err(|e| bad(format!("{e}")))?;
        Ok(Model {
            embedder,
            graph: OnceLock::new(),
            saved_p: Some(Arc::new(SavedP(z))),
            coords,
            update,
            gains,
            iterations: f.uint("iterations")? as usize,
            kl: f.num("kl")?,
            source: Arc::new(source),
        })
    }
}

fn plan_for(e: &Embedder, source: &Source, n: usize) -> Result<crate::Plan> {
    match source {
        Source::Points { .. } => e.plan_points(n),
        Source::Graph { .. } => e.plan(n),
    }
}

fn flat<const D: usize>(rows: Vec<[f64; D]>) -> Vec<f64> {
    rows.into_iter().flatten().collect()
}

/// The columns of `t` (new vertices) with sorted rows, duplicates summed
/// and zeros dropped.
fn columns(t: &Triplets) -> Csc {
    let mut e: Vec<(u32, u32, f64)> = (0..t.vals.len())
        .filter(|&k| t.vals[k] != 0.0)
        .map(|k| (t.cols[k], t.rows[k], t.vals[k]))
        .collect();
    e.sort_by_key(|x| (x.0, x.1));
    let mut c = Csc {
        n: t.ncols,
        colptr: vec![0; t.ncols + 1],
        rowidx: Vec::with_capacity(e.len()),
        vals: Vec::with_capacity(e.len()),
    };
    for (k, &(j, i, v)) in e.iter().enumerate() {
        if k > 0 && e[k - 1].0 == j && e[k - 1].1 == i {
            *c.vals.last_mut().expect("a previous entry") += v;
        } else {
            c.rowidx.push(i);
            c.vals.push(v);
            c.colptr[j as usize + 1] += 1;
        }
    }
    for j in 0..t.ncols {
        c.colptr[j + 1] += c.colptr[j];
    }
    c
}

fn check_shape(a: &NpyArray, name: &str, want: &[usize]) -> std::result::Result<(), String> {
    if a.shape != want {
        return Err(format!(
            "'{name}' has shape {:?}, expected {want:?} (truncated or inconsistent model)",
            a.shape
        ));
    }
    Ok(())
}

/// The archive a model was read from, which holds P: decoded and checked
/// when the model resumes or is saved again.
#[derive(Debug)]
struct SavedP(NpzReader);

impl SavedP {
    fn decode(&self, n: usize) -> Result<StochasticGraph> {
        let path = self.0.path();
        let bad = |msg: String| Error::parse(path, 0, format!("the graph: {msg}"));
        let parse = |name: &str| {
            self.0
                .array(name)?
                .ok_or_else(|| bad(format!("the model has no '{name}' array")))
        };
        let rowptr = parse("p_rowptr")?;
        check_shape(&rowptr, "p_rowptr", &[n + 1]).map_err(bad)?;
        let nnz = rowptr.data.last().copied().unwrap_or(0.0);
        if !(nnz >= 0.0 && nnz <= u32::MAX as f64 * 2.0 && nnz.fract() == 0.0) {
            return Err(bad("bad row pointers".into()));
        }
        let nnz = nnz as usize;
        let colidx = parse("p_colidx")?;
        check_shape(&colidx, "p_colidx", &[nnz]).map_err(bad)?;
        let vals = parse("p_vals")?;
        check_shape(&vals, "p_vals", &[nnz]).map_err(bad)?;
        let as_index = |v: f64, lim: f64| (v >= 0.0 && v <= lim && v.fract() == 0.0).then_some(v);
        let rowptr: Option<Vec<usize>> = rowptr
            .data
            .iter()
            .map(|&v| as_index(v, nnz as f64).map(|v| v as usize))
            .collect();
        let colidx: Option<Vec<u32>> = colidx
            .data
            .iter()
            .map(|&v| as_index(v, n as f64).map(|v| v as u32))
            .collect();
        match (rowptr, colidx) {
            (Some(r), Some(c)) => {
                StochasticGraph::try_from_csr(n, r, c, vals.data).map_err(|e| bad(e.to_string()))
            }
            _ => Err(bad("indices out of range".into())),
        }
    }
}

/// Typed reads of the params, each a clear error when missing or wrong.
struct Fields<'a> {
    p: &'a Value,
    path: &'a Path,
}

impl Fields<'_> {
    fn bad(&self, key: &str, want: &str) -> Error {
        Error::parse(
            self.path,
            0,
            format!("the model's '{key}' is missing or not {want}"),
        )
    }
    fn uint(&self, key: &str) -> Result<u64> {
        self.p[key]
            .as_u64()
            .ok_or_else(|| self.bad(key, "a whole number"))
    }
    fn num(&self, key: &str) -> Result<f64> {
        self.p[key]
            .as_f64()
            .ok_or_else(|| self.bad(key, "a number"))
    }
    fn parsed<T: std::str::FromStr>(&self, key: &str) -> Result<T> {
        self.p[key]
            .as_str()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.bad(key, "a known name"))
    }
    fn embedder(&self) -> Result<Embedder> {
        let grid_h = match &self.p["grid_h"] {
            Value::Null => None,
            v => Some(v.as_f64().ok_or_else(|| self.bad("grid_h", "a number"))?),
        };
        // Absent from files written before the grid cap: the default.
        let grid_max = match &self.p["grid_max"] {
            Value::Null => None,
            v => Some(
                v.as_u64()
                    .ok_or_else(|| self.bad("grid_max", "a whole number"))?
                    as usize,
            ),
        };
        // Absent from files written before the near/far split: the default.
        let near_split = match &self.p["near_split"] {
            Value::Null => crate::defaults::NEAR_SPLIT,
            v => v
                .as_bool()
                .ok_or_else(|| self.bad("near_split", "true or false"))?,
        };
        // Absent from files written before these options: the defaults
        // those runs used.
        let opt_num = |key: &str| -> Result<Option<f64>> {
            match &self.p[key] {
                Value::Null => Ok(None),
                v => Ok(Some(v.as_f64().ok_or_else(|| self.bad(key, "a number"))?)),
            }
        };
        let late_start = match &self.p["late_start"] {
            Value::Null => None,
            v => Some(
                v.as_u64()
                    .ok_or_else(|| self.bad("late_start", "a whole number"))?
                    as usize,
            ),
        };
        let init = match &self.p["init"] {
            Value::Null => crate::init::Init::Random,
            _ => self.parsed::<crate::init::Init>("init")?,
        };
        Ok(Embedder::new(self.uint("dim")? as usize)
            .exaggeration(opt_num("exaggeration")?.unwrap_or(crate::defaults::EXAGGERATION))
            .late_exaggeration(opt_num("late_exaggeration")?)
            .late_start(late_start)
            .dof(opt_num("dof")?.unwrap_or(crate::defaults::DOF))
            .init(init)
            .max_iter(self.uint("max_iter")? as usize)
            .early_iter(self.uint("early_iter")? as usize)
            .alpha(self.num("alpha")?)
            .eta(self.parsed::<Eta>("eta")?)
            // null: auto (models from before it store the number).
            .momentum(opt_num("momentum")?)
            .final_momentum(self.num("final_momentum")?)
            .min_gain(self.num("min_gain")?)
            // Models from before the bound ran without it.
            .max_step(opt_num("max_step")?.unwrap_or(0.0))
            .seed(self.uint("seed")?)
            .repulsion(self.parsed::<RepulsionKind>("repulsion")?)
            .grid_h(grid_h)
            .grid_max(grid_max)
            .near_split(near_split)
            .order(self.parsed::<VertexOrder>("order")?)
            .attraction(self.parsed::<AttractionKind>("attraction")?)
            .fft(self.parsed::<FftBackend>("fft")?)
            .report_every(self.uint("report_every")? as usize))
    }
}
