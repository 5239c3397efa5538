//! `sgtsne._core`: the engine, for the pure-Python layer of the `sgtsne`
//! package (scikit-learn names, array checks and progress display live
//! there). Every call here runs the engine on a thread of its own, in a
//! rayon pool of `n_jobs` threads, with the GIL released; the calling
//! thread waits on it, calls the Python callbacks and checks for signals
//! (Ctrl-C) about ten times a second.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict};

use sgtsne::affinity::Affinities;
use sgtsne::graph::StochasticGraph;
use sgtsne::io::mtx::Triplets;
use sgtsne::model::Source;
use sgtsne::points::Points;
use sgtsne::progress::Meter;
use sgtsne::sparse::Coo;
use sgtsne::{defaults, Embedder, Embedding, Eta, Model, Placement, Progress, Session};

/// The Python name of a library parameter, as the `sgtsne.TSNE`
/// constructor and `transform` spell it.
fn py_name(param: &str) -> &str {
    match param {
        "dim" => "n_components",
        "alpha" => "early_exaggeration",
        "eta" => "learning_rate",
        "seed" => "random_state",
        "lambda" => "lambda_",
        other => other,
    }
}

/// A library error as the Python exception a user expects: bad values are
/// `ValueError`, files `OSError`, a diverged run `RuntimeError`.
fn to_py(e: sgtsne::Error) -> PyErr {
    use sgtsne::Error as E;
    match &e {
        E::Param { name, msg } => {
            PyValueError::new_err(format!("invalid {}: {msg}", py_name(name)))
        }
        E::Io { path, source } => PyOSError::new_err(format!("{}: {source}", path.display())),
        E::Numerical { param: Some(p), .. } => {
            PyRuntimeError::new_err(format!("{e} (see {})", py_name(p)))
        }
        E::Numerical { .. } => PyRuntimeError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// What the engine thread tells the calling thread.
enum Event {
    /// A stage of the points-to-graph path ended (a line for `verbose`).
    Stage(String),
    /// The cost was evaluated; the engine waits for the verdict.
    Report {
        iter: usize,
        max_iter: usize,
        kl: f64,
        /// Where and from what the cost has been rising, if it has.
        rising: Option<(usize, f64)>,
    },
    /// The job has returned.
    Done,
}

/// The engine thread's side of [`drive`].
struct Hooks {
    /// Where the preparation phases count their work (read by [`drive`]).
    meter: Meter,
    events: mpsc::Sender<Event>,
    verdicts: std::sync::Mutex<mpsc::Receiver<bool>>,
    stop: AtomicBool,
}

impl Hooks {
    fn stage(&self, s: impl std::fmt::Display) {
        let _ = self.events.send(Event::Stage(s.to_string()));
    }

    /// The session's progress callback: stops when the caller asked to,
    /// and at each evaluated cost waits for the Python callback's verdict
    /// (so a callback that stops the run stops it at that very iteration,
    /// whatever the timing).
    fn progress(&self, p: &Progress) -> ControlFlow<()> {
        if self.stop.load(Ordering::Relaxed) {
            return ControlFlow::Break(());
        }
        if let Some(kl) = p.kl {
            let sent = self.events.send(Event::Report {
                iter: p.iter,
                max_iter: p.max_iter,
                kl,
                rising: p.rising,
            });
            if sent.is_err()
                || !self
                    .verdicts
                    .lock()
                    .is_ok_and(|v| v.recv().unwrap_or(false))
            {
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    }

    fn run(&self, session: &mut Session, count: usize) -> sgtsne::Result<Embedding> {
        session.run(count, &mut |p| self.progress(p))?;
        session.result()
    }
}

/// Worker threads for `n_jobs`, scikit-learn's way: a positive count as
/// given (at most 4 per core, as the command line), -1 all cores, -2 all
/// but one, and so on.
fn threads(n_jobs: i64) -> PyResult<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    match n_jobs {
        0 => Err(PyValueError::new_err(
            "invalid n_jobs: must be a positive count or negative (-1 = all cores), got 0",
        )),
        n if n > 0 => Ok(n.min(4 * cores) as usize),
        n => Ok((cores + 1 + n).max(1) as usize),
    }
}

/// Runs `job` on an engine thread in a pool of `n_jobs` threads while this
/// thread, GIL released, waits for it: it passes stage lines to
/// `on_stage(line)`, the phase running on the hooks' meter to
/// `on_phase(serial, label, done, total, seconds, line)` about ten times a
/// second (and `on_phase(None, ...)` once it ends), each evaluated cost to
/// `on_report(iteration, max_iter, kl)` (a false result stops the run),
/// and checks for signals between events. A signal or an exception in a
/// callback stops the run at its next iteration and is raised once the
/// engine thread has ended.
fn drive<T: Send>(
    py: Python<'_>,
    n_jobs: i64,
    on_report: Option<&Bound<'_, PyAny>>,
    on_stage: Option<&Bound<'_, PyAny>>,
    on_phase: Option<&Bound<'_, PyAny>>,
    job: impl FnOnce(&Hooks) -> sgtsne::Result<T> + Send,
) -> PyResult<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads(n_jobs)?)
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("could not start the worker threads: {e}")))?;
    let (events_tx, mut events) = mpsc::channel();
    let (verdicts_tx, verdicts) = mpsc::channel();
    let hooks = Hooks {
        meter: Meter::default(),
        events: events_tx,
        verdicts: std::sync::Mutex::new(verdicts),
        stop: AtomicBool::new(false),
    };
    let mut raised: Option<PyErr> = None;
    let mut warned = false;
    // The phase last shown: (serial, units done).
    let mut shown: Option<(u64, u64)> = None;
    let outcome = std::thread::scope(|scope| {
        let hooks = &hooks;
        let engine = scope.spawn(move || {
            let r = pool.install(|| job(hooks));
            let _ = hooks.events.send(Event::Done);
            r
        });
        loop {
            let (rx, event) = py.allow_threads(move || {
                let e = events.recv_timeout(Duration::from_millis(100));
                (events, e)
            });
            events = rx;
            match event {
                Ok(Event::Done) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Ok(Event::Stage(line)) => {
                    if let (Some(f), None) = (on_stage, &raised) {
                        if let Err(e) = f.call1((line,)) {
                            raised = Some(e);
                            hooks.stop.store(true, Ordering::Relaxed);
                        }
                    }
                }
                Ok(Event::Report {
                    iter,
                    max_iter,
                    kl,
                    rising,
                }) => {
                    if let (Some((from, kl0)), false) = (rising, warned) {
                        warned = true;
                        let msg = format!(
                            "the KL has risen since iteration {from} ({kl0:.4} -> {kl:.4}): the optimisation may be diverging; try a smaller {} or {}",
                            py_name("eta"),
                            py_name("max_step")
                        );
                        let category = py.get_type::<pyo3::exceptions::PyRuntimeWarning>();
                        let c = std::ffi::CString::new(msg).unwrap_or_default();
                        if let Err(e) = PyErr::warn(py, &category, &c, 1) {
                            // A filter that turns warnings into errors.
                            raised.get_or_insert(e);
                            hooks.stop.store(true, Ordering::Relaxed);
                        }
                    }
                    let verdict = match (on_report, raised.is_some()) {
                        (_, true) => false,
                        (None, false) => true,
                        (Some(f), false) => {
                            match f.call1((iter, max_iter, kl)).and_then(|r| r.is_truthy()) {
                                Ok(v) => v,
                                Err(e) => {
                                    raised = Some(e);
                                    false
                                }
                            }
                        }
                    };
                    let _ = verdicts_tx.send(verdict);
                }
                // A panicking job never says Done.
                Err(mpsc::RecvTimeoutError::Timeout) if engine.is_finished() => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if let (Some(f), None) = (on_phase, &raised) {
                let r = hooks.meter.read();
                let now = r.as_ref().map(|r| (r.serial, r.done));
                let called = match &r {
                    Some(r) if now != shown || r.total == 0 => Some(f.call1((
                        r.serial,
                        r.label.as_str(),
                        r.done,
                        r.total,
                        r.seconds,
                        r.to_string(),
                    ))),
                    None if shown.is_some() => {
                        Some(f.call1((py.None(), "", 0u64, 0u64, 0.0f64, "")))
                    }
                    _ => None,
                };
                shown = now;
                if let Some(Err(e)) = called {
                    raised = Some(e);
                    hooks.stop.store(true, Ordering::Relaxed);
                }
            }
            // After every event, not only on a quiet 100 ms: a run whose
            // reports come faster than that would never see its Ctrl-C.
            if raised.is_none() {
                if let Err(e) = py.check_signals() {
                    raised = Some(e);
                    hooks.stop.store(true, Ordering::Relaxed);
                }
            }
        }
        py.allow_threads(|| engine.join())
    });
    let outcome = match outcome {
        Ok(r) => r,
        Err(_) => return Err(PyRuntimeError::new_err("the engine thread panicked")),
    };
    if let Some(e) = raised {
        return Err(e);
    }
    outcome.map_err(to_py)
}

fn get<'py, T: FromPyObject<'py>>(d: &Bound<'py, PyDict>, key: &str) -> PyResult<Option<T>> {
    match d.get_item(key)? {
        None => Ok(None),
        Some(v) if v.is_none() => Ok(None),
        Some(v) => v.extract().map(Some).map_err(|e| {
            PyTypeError::new_err(format!("invalid {}: {}", py_name(key), e.value(d.py())))
        }),
    }
}

fn parsed<T: std::str::FromStr<Err = String>>(
    d: &Bound<'_, PyDict>,
    key: &str,
) -> PyResult<Option<T>> {
    match get::<String>(d, key)? {
        None => Ok(None),
        Some(s) => s
            .parse()
            .map(Some)
            .map_err(|m: String| PyValueError::new_err(format!("invalid {}: {m}", py_name(key)))),
    }
}

/// The run settings in `p` (library names; absent or None = default),
/// checked.
fn embedder(p: &Bound<'_, PyDict>) -> PyResult<Embedder> {
    let mut e = Embedder::default();
    macro_rules! set {
        ($($key:ident),*) => {$(
            if let Some(v) = get(p, stringify!($key))? { e = e.$key(v); }
        )*};
    }
    set!(
        dim,
        max_iter,
        early_iter,
        alpha,
        seed,
        final_momentum,
        min_gain,
        max_step,
        report_every,
        exaggeration,
        dof
    );
    if let Some(v) = get::<f64>(p, "momentum")? {
        e = e.momentum(Some(v));
    }
    if let Some(v) = get::<f64>(p, "late_exaggeration")? {
        e = e.late_exaggeration(Some(v));
    }
    if let Some(v) = get::<usize>(p, "late_start")? {
        e = e.late_start(Some(v));
    }
    if let Some(v) = parsed::<sgtsne::Init>(p, "init")? {
        e = e.init(v);
    }
    if let Some(v) = get::<f64>(p, "grid_h")? {
        e = e.grid_h(Some(v));
    }
    if let Some(v) = get::<usize>(p, "grid_max")? {
        e = e.grid_max(Some(v));
    }
    if let Some(v) = get::<bool>(p, "near_split")? {
        e = e.near_split(v);
    }
    match p.get_item("eta")? {
        Some(v) if v.extract::<String>().is_ok() => {
            e = e.eta(parsed::<Eta>(p, "eta")?.unwrap_or(Eta::Auto))
        }
        _ => {
            if let Some(v) = get::<f64>(p, "eta")? {
                e = e.eta(Eta::Fixed(v));
            }
        }
    }
    if let Some(v) = parsed(p, "repulsion")? {
        e = e.repulsion(v);
    }
    if let Some(v) = parsed(p, "order")? {
        e = e.order(v);
    }
    if let Some(v) = parsed(p, "attraction")? {
        e = e.attraction(v);
    }
    e.validate().map_err(to_py)?;
    Ok(e)
}

fn affinities(p: &Bound<'_, PyDict>, seed: u64) -> PyResult<Affinities> {
    let mut a = Affinities::default().seed(seed);
    if let Some(v) = get(p, "perplexity")? {
        a = a.perplexity(v);
    }
    if let Some(v) = get(p, "pca")? {
        a = a.pca(v);
    }
    if let Some(v) = parsed(p, "knn")? {
        a = a.knn(v);
    }
    a.validate().map_err(to_py)?;
    Ok(a)
}

fn placement(p: &Bound<'_, PyDict>) -> PyResult<Placement> {
    let mut s = Placement::default();
    macro_rules! set {
        ($($key:ident),*) => {$(
            if let Some(v) = get(p, stringify!($key))? { s = s.$key(v); }
        )*};
    }
    set!(
        perplexity,
        k,
        max_iter,
        eta,
        exaggeration,
        momentum,
        max_grad_norm
    );
    if let Some(v) = get::<f64>(p, "grid_h")? {
        s = s.grid_h(Some(v));
    }
    if let Some(v) = parsed(p, "knn")? {
        s = s.knn(v);
    }
    s.validate().map_err(to_py)?;
    Ok(s)
}

/// A C-contiguous float64 matrix as checked points (NaN and infinities
/// are refused with their row and column).
fn points(py: Python<'_>, x: &PyBuffer<f64>, what: &str) -> PyResult<Points> {
    let shape = x.shape();
    if shape.len() != 2 {
        return Err(PyValueError::new_err(format!(
            "{what} must be a 2-D array, got {} dimensions",
            shape.len()
        )));
    }
    Points::try_new(shape[0], shape[1], x.to_vec(py)?)
        .map_err(|e| PyValueError::new_err(format!("{what}: {e}")))
}

/// Coordinates as a bytearray of native float64 (numpy.frombuffer views
/// it writable without a copy).
fn coords_bytes<'py>(py: Python<'py>, c: &[f64]) -> Bound<'py, PyByteArray> {
    let mut b = Vec::with_capacity(c.len() * 8);
    for v in c {
        b.extend_from_slice(&v.to_ne_bytes());
    }
    PyByteArray::new(py, &b)
}

type Fit<'py> = (Bound<'py, PyByteArray>, f64, usize, Option<PyModel>);

/// Runs `e` on `graph` to its end; with `source`, also makes the model
/// (which keeps `graph` itself, not a copy).
fn fit(
    e: &Embedder,
    graph: StochasticGraph,
    init: Option<&Points>,
    source: Source,
    keep_model: bool,
    hooks: &Hooks,
) -> sgtsne::Result<(Embedding, Option<Model>)> {
    // Points start from the principal components of the points the
    // neighbours were searched in (SPEC §10), graphs from their spectrum.
    let mut session = match &source {
        Source::Points { reference, .. } => {
            e.session_points(&graph, reference, init.map(Points::as_slice))?
        }
        _ => e.session(&graph, init.map(Points::as_slice))?,
    };
    let count = session.plan().max_iter;
    let result = hooks.run(&mut session, count)?;
    let model = match keep_model {
        true => Some(Model::from_run(e, graph, &session, &result, source)?),
        false => None,
    };
    Ok((result, model))
}

fn finish(py: Python<'_>, result: Embedding, model: Option<Model>) -> Fit<'_> {
    (
        coords_bytes(py, result.coords.as_slice()),
        result.kl,
        result.iterations,
        model.map(|inner| PyModel { inner }),
    )
}

fn init_points(py: Python<'_>, init: Option<PyBuffer<f64>>) -> PyResult<Option<Points>> {
    init.map(|b| points(py, &b, "init")).transpose()
}

/// Embeds points (a C-contiguous float64 array, n × d) through their kNN
/// graph. Returns the coordinates (bytes, n × dim), the final KL, the
/// iterations run and, with `keep_model`, the model.
#[pyfunction]
#[pyo3(signature = (x, params, init=None, n_jobs=-1, on_report=None, on_stage=None, on_phase=None, keep_model=false))]
#[allow(clippy::too_many_arguments)]
fn fit_points<'py>(
    py: Python<'py>,
    x: PyBuffer<f64>,
    params: &Bound<'py, PyDict>,
    init: Option<PyBuffer<f64>>,
    n_jobs: i64,
    on_report: Option<&Bound<'py, PyAny>>,
    on_stage: Option<&Bound<'py, PyAny>>,
    on_phase: Option<&Bound<'py, PyAny>>,
    keep_model: bool,
) -> PyResult<Fit<'py>> {
    let e = embedder(params)?;
    let lambda = get::<f64>(params, "lambda")?.unwrap_or(defaults::LAMBDA);
    sgtsne::graph::check_lambda(lambda).map_err(to_py)?;
    let aff = affinities(params, get(params, "seed")?.unwrap_or(defaults::SEED))?;
    let x = points(py, &x, "X")?;
    let init = init_points(py, init)?;
    let (result, model) = drive(py, n_jobs, on_report, on_stage, on_phase, |hooks| {
        let aff = aff.progress(hooks.meter.clone());
        let e = e.progress(hooks.meter.clone());
        let mut g = aff.graph(&x, &mut |s| hooks.stage(s))?;
        let (graph, _) = StochasticGraph::from_coo_owned_metered(
            std::mem::take(&mut g.coo),
            lambda,
            &hooks.meter,
        )?;
        let source = Source::from_points(x, &mut g);
        let plan = e.plan_points(graph.n())?;
        let start = match (&init, plan.init, &source) {
            // The large-data recipe: a start from an embedded sample.
            (None, sgtsne::Init::Subsample(_), Source::Points { reference, .. }) => {
                let y0 = e.subsample_start(reference, &aff, &mut |s| hooks.stage(s))?;
                Some(Points::try_new(plan.n, plan.dim, y0)?)
            }
            _ => None,
        };
        fit(
            &e,
            graph,
            start.as_ref().or(init.as_ref()),
            source,
            keep_model,
            hooks,
        )
    })?;
    Ok(finish(py, result, model))
}

/// Embeds the graph of n vertices whose entry (rows[k], cols[k]) has
/// weight vals[k] (column j = the out-weights of vertex j; duplicates
/// add up). Returns as [`fit_points`].
#[pyfunction]
#[pyo3(signature = (n, rows, cols, vals, params, init=None, n_jobs=-1, on_report=None, on_phase=None, keep_model=false))]
#[allow(clippy::too_many_arguments)]
fn fit_graph<'py>(
    py: Python<'py>,
    n: usize,
    rows: PyBuffer<u32>,
    cols: PyBuffer<u32>,
    vals: PyBuffer<f64>,
    params: &Bound<'py, PyDict>,
    init: Option<PyBuffer<f64>>,
    n_jobs: i64,
    on_report: Option<&Bound<'py, PyAny>>,
    on_phase: Option<&Bound<'py, PyAny>>,
    keep_model: bool,
) -> PyResult<Fit<'py>> {
    let e = embedder(params)?;
    let lambda = get::<f64>(params, "lambda")?.unwrap_or(defaults::LAMBDA);
    let coo = Coo {
        n,
        rows: rows.to_vec(py)?,
        cols: cols.to_vec(py)?,
        vals: vals.to_vec(py)?,
    };
    if coo.rows.len() != coo.vals.len() || coo.cols.len() != coo.vals.len() {
        return Err(PyValueError::new_err(
            "rows, cols and vals differ in length",
        ));
    }
    let init = init_points(py, init)?;
    let (result, model) = drive(py, n_jobs, on_report, None, on_phase, |hooks| {
        let e = e.progress(hooks.meter.clone());
        let (graph, _) = StochasticGraph::from_coo_owned_metered(coo, lambda, &hooks.meter)?;
        fit(
            &e,
            graph,
            init.as_ref(),
            Source::Graph { lambda },
            keep_model,
            hooks,
        )
    })?;
    Ok(finish(py, result, model))
}

/// A finished run: its coordinates, settings and optimiser state, and what
/// placing new points needs. Pickles through its file's bytes.
#[pyclass(name = "Model", module = "sgtsne._core", frozen)]
struct PyModel {
    inner: Model,
}

#[pymethods]
impl PyModel {
    /// Reads a model file written by `save` or by `sgtsne --save`.
    #[staticmethod]
    fn load(py: Python<'_>, path: std::path::PathBuf) -> PyResult<PyModel> {
        let inner = py.allow_threads(|| Model::load(&path)).map_err(to_py)?;
        Ok(PyModel { inner })
    }

    /// A model from the bytes of a model file.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<PyModel> {
        let inner = Model::from_bytes(data, Path::new("<model bytes>")).map_err(to_py)?;
        Ok(PyModel { inner })
    }

    /// Writes the model file (atomically; `sgtsne transform` and `sgtsne
    /// resume` read it).
    fn save(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        py.allow_threads(|| self.inner.save(&path)).map_err(to_py)
    }

    /// The model file's bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        let b = py.allow_threads(|| self.inner.to_bytes()).map_err(to_py)?;
        Ok(PyBytes::new(py, &b))
    }

    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyBytes>,))> {
        let py = slf.py();
        let from = py.get_type::<PyModel>().getattr("from_bytes")?;
        Ok((from, (slf.get().to_bytes(py)?,)))
    }

    /// Vertices (or reference points).
    #[getter]
    fn n(&self) -> usize {
        self.inner.n()
    }
    /// Embedding dimension.
    #[getter]
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    /// Iterations run so far.
    #[getter]
    fn iterations(&self) -> usize {
        self.inner.iterations()
    }
    /// KL(P||Q) of the coordinates.
    #[getter]
    fn kl(&self) -> f64 {
        self.inner.kl()
    }
    /// "points" or "graph": what the model was fitted on.
    #[getter]
    fn kind(&self) -> &'static str {
        match self.inner.source() {
            Source::Points { .. } => "points",
            _ => "graph",
        }
    }
    /// Input dimensions of a points model (None for a graph model).
    #[getter]
    fn n_features(&self) -> Option<usize> {
        match self.inner.source() {
            Source::Points { dims, .. } => Some(*dims),
            _ => None,
        }
    }
    /// The settings of the run, with every `auto` resolved, by library name.
    fn plan<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let p = self.inner.plan().map_err(to_py)?;
        let d = PyDict::new(py);
        d.set_item("dim", p.dim)?;
        d.set_item("max_iter", p.max_iter)?;
        d.set_item("early_iter", p.early_iter)?;
        d.set_item("alpha", p.alpha)?;
        d.set_item("exaggeration", p.exaggeration)?;
        d.set_item("late_exaggeration", p.late.map(|l| l.0))?;
        d.set_item("late_start", p.late.map(|l| l.1))?;
        d.set_item("dof", p.dof)?;
        d.set_item("eta", p.eta)?;
        d.set_item("momentum", p.momentum)?;
        d.set_item("final_momentum", p.final_momentum)?;
        d.set_item("max_step", p.max_step)?;
        d.set_item("seed", p.seed)?;
        d.set_item("grid_h", p.grid_h)?;
        d.set_item("grid_max", p.grid_max)?;
        d.set_item("near_split", p.near_split)?;
        if let Source::Graph { lambda } = self.inner.source() {
            d.set_item("lambda", *lambda)?;
        }
        Ok(d)
    }
    /// The coordinates (bytes, n × dim).
    fn embedding<'py>(&self, py: Python<'py>) -> Bound<'py, PyByteArray> {
        coords_bytes(py, self.inner.coords().as_slice())
    }

    /// Places new points (C-contiguous float64, m × n_features) into a
    /// points model. Returns bytes, m × dim.
    #[pyo3(signature = (x, params, n_jobs=-1))]
    fn transform_points<'py>(
        &self,
        py: Python<'py>,
        x: PyBuffer<f64>,
        params: &Bound<'py, PyDict>,
        n_jobs: i64,
    ) -> PyResult<Bound<'py, PyByteArray>> {
        let s = placement(params)?;
        let x = points(py, &x, "X")?;
        let placed = drive(py, n_jobs, None, None, None, |_| {
            self.inner.transform_points(&x, &s)
        })?;
        Ok(coords_bytes(py, placed.as_slice()))
    }

    /// Places new vertices into a graph model by their edges: entry
    /// (rows[k], cols[k]) = vals[k] is the weight of the edge from new
    /// vertex cols[k] to model vertex rows[k]; `m` new vertices.
    #[pyo3(signature = (m, rows, cols, vals, params, n_jobs=-1))]
    #[allow(clippy::too_many_arguments)]
    fn transform_graph<'py>(
        &self,
        py: Python<'py>,
        m: usize,
        rows: PyBuffer<u32>,
        cols: PyBuffer<u32>,
        vals: PyBuffer<f64>,
        params: &Bound<'py, PyDict>,
        n_jobs: i64,
    ) -> PyResult<Bound<'py, PyByteArray>> {
        let s = placement(params)?;
        let t = Triplets {
            nrows: self.inner.n(),
            ncols: m,
            rows: rows.to_vec(py)?,
            cols: cols.to_vec(py)?,
            vals: vals.to_vec(py)?,
        };
        let placed = drive(py, n_jobs, None, None, None, |_| {
            self.inner.transform_graph(&t, &s)
        })?;
        Ok(coords_bytes(py, placed.as_slice()))
    }

    /// Runs `count` more iterations from the saved state (bit for bit what
    /// the uninterrupted run would have done). Returns as `fit_points`,
    /// with the updated model.
    #[pyo3(signature = (count, n_jobs=-1, on_report=None))]
    fn resume<'py>(
        &self,
        py: Python<'py>,
        count: usize,
        n_jobs: i64,
        on_report: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Fit<'py>> {
        let (result, model) = drive(py, n_jobs, on_report, None, None, |hooks| {
            let mut session = self.inner.resume()?;
            let result = hooks.run(&mut session, count)?;
            let model = self.inner.updated(&session, &result)?;
            Ok((result, Some(model)))
        })?;
        Ok(finish(py, result, model))
    }
}

/// The library's defaults, by library name: the Python constructors'
/// defaults come from here, so the CLI and Python cannot differ.
fn defaults_dict(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("dim", defaults::DIM)?;
    d.set_item("lambda", defaults::LAMBDA)?;
    d.set_item("max_iter", defaults::MAX_ITER)?;
    d.set_item("early_iter", defaults::EARLY_ITER)?;
    d.set_item("alpha", defaults::ALPHA)?;
    d.set_item("exaggeration", defaults::EXAGGERATION)?;
    d.set_item("dof", defaults::DOF)?;
    d.set_item("near_split", defaults::NEAR_SPLIT)?;
    d.set_item("seed", defaults::SEED)?;
    // None: auto (0.8 for points, 0.5 for graphs).
    d.set_item("momentum", py.None())?;
    d.set_item("final_momentum", defaults::FINAL_MOMENTUM)?;
    d.set_item("max_step", defaults::MAX_STEP)?;
    d.set_item("report_every", defaults::REPORT_EVERY)?;
    d.set_item("perplexity", defaults::PERPLEXITY)?;
    d.set_item("pca", defaults::PCA)?;
    d.set_item("place_perplexity", defaults::PLACE_PERPLEXITY)?;
    d.set_item("place_k", defaults::PLACE_K)?;
    d.set_item("place_iter", defaults::PLACE_ITER)?;
    d.set_item("place_eta", defaults::PLACE_ETA)?;
    d.set_item("place_exaggeration", defaults::PLACE_EXAGGERATION)?;
    Ok(d)
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULTS", defaults_dict(m.py())?)?;
    m.add_function(wrap_pyfunction!(fit_points, m)?)?;
    m.add_function(wrap_pyfunction!(fit_graph, m)?)?;
    m.add_class::<PyModel>()?;
    Ok(())
}
