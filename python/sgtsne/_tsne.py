"""The estimator and the graph function: argument checks, names and
progress display in Python; the work in the Rust engine (``sgtsne._core``)."""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np

from . import _core

_D: Dict[str, Any] = _core.DEFAULTS

Callback = Callable[[int, float], Optional[bool]]
ArrayLike = Any

# scikit-learn's BaseEstimator gives clone(), pipelines and the HTML repr;
# it is used when installed, never required.
if importlib.util.find_spec("sklearn") is not None:
    from sklearn.base import BaseEstimator as _Base
else:

    class _Base:  # type: ignore[no-redef]
        """``get_params``/``set_params`` as scikit-learn defines them."""

        @classmethod
        def _get_param_names(cls) -> list:
            import inspect

            sig = inspect.signature(cls.__init__)
            return sorted(p for p in sig.parameters if p != "self")

        def get_params(self, deep: bool = True) -> Dict[str, Any]:
            return {k: getattr(self, k) for k in self._get_param_names()}

        def set_params(self, **params: Any) -> "_Base":
            valid = self._get_param_names()
            for k, v in params.items():
                if k not in valid:
                    raise ValueError(
                        f"invalid parameter {k!r} for {type(self).__name__}; "
                        f"valid parameters: {', '.join(valid)}"
                    )
                setattr(self, k, v)
            return self

        def __repr__(self) -> str:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
            return f"{type(self).__name__}({args})"


def _seed(random_state: Any) -> int:
    """The engine's seed: the library default for None, an int as given,
    one number drawn from a numpy RandomState or Generator."""
    if random_state is None:
        return int(_D["seed"])
    if isinstance(random_state, (bool, np.bool_)):
        raise TypeError("invalid random_state: expected an int, got a bool")
    if isinstance(random_state, (int, np.integer)):
        if not 0 <= int(random_state) < 2**64:
            raise ValueError(f"invalid random_state: must be in [0, 2**64), got {random_state}")
        return int(random_state)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    raise TypeError(
        "invalid random_state: expected None, an int, a numpy RandomState or Generator, "
        f"got {type(random_state).__name__}"
    )


def _n_jobs(n_jobs: Optional[int]) -> int:
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, (int, np.integer)):
        raise TypeError(f"invalid n_jobs: expected an int, got {type(n_jobs).__name__}")
    return int(n_jobs)


def _as_float_matrix(X: ArrayLike, name: str) -> np.ndarray:
    """A C-contiguous float64 copy (or view) of a 2-D numeric array; bool
    and integer arrays are converted, sparse input is refused."""
    if _is_sparse(X):
        raise TypeError(
            f"{name} is a sparse matrix: TSNE takes points as a dense array; "
            "for a graph use sgtsne.embed_graph, or pass X.toarray()"
        )
    a = np.asarray(X)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must be numeric, got an array of dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (n_samples, n_features), got shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column, got shape {a.shape}")
    return np.ascontiguousarray(a, dtype=np.float64)


def _is_sparse(X: Any) -> bool:
    if "scipy.sparse" not in sys.modules and "scipy" not in sys.modules:
        return False
    import scipy.sparse

    return scipy.sparse.issparse(X)


def _graph_triplets(P: ArrayLike, name: str, shape: Optional[Tuple[int, int]] = None):
    """(rows, cols, vals) of a sparse or dense matrix, uint32 and float64,
    checked: square (or of `shape`), finite, non-negative. Sparse input
    of any format is read as COO; it is never densified."""
    if _is_sparse(P):
        coo = P.tocoo()
        rows, cols, vals = coo.row, coo.col, coo.data
        n_rows, n_cols = coo.shape
    else:
        a = np.asarray(P)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{name} must be a numeric matrix, got dtype {a.dtype}")
        if a.ndim != 2:
            raise ValueError(f"{name} must be a 2-D matrix, got shape {a.shape}")
        n_rows, n_cols = a.shape
        rows, cols = np.nonzero(a)
        vals = a[rows, cols]
    if shape is None and n_rows != n_cols:
        raise ValueError(
            f"{name}: matrix is not square ({n_rows} x {n_cols}); a graph needs an N x N matrix"
        )
    if shape is not None and n_rows != shape[0]:
        raise ValueError(
            f"{name}: the new edges have {n_rows} rows, the model {shape[0]} vertices "
            "(one row per model vertex)"
        )
    if max(n_rows, n_cols) >= 2**32:
        raise ValueError(f"{name}: at most 2**32 - 1 vertices, got {max(n_rows, n_cols)}")
    vals = np.asarray(vals)
    if vals.dtype.kind not in "biuf":
        raise TypeError(f"{name} must have real weights, got dtype {vals.dtype}")
    vals = np.ascontiguousarray(vals, dtype=np.float64)
    bad = ~np.isfinite(vals)
    if bad.any():
        k = int(np.argmax(bad))
        raise ValueError(
            f"{name}: entry ({rows[k] + 1}, {cols[k] + 1}): value {vals[k]} is not finite"
        )
    neg = vals < 0
    if neg.any():
        k = int(np.argmax(neg))
        raise ValueError(
            f"{name}: entry ({rows[k] + 1}, {cols[k] + 1}): negative value {vals[k]}: "
            "edge weights must be non-negative"
        )
    return (
        n_rows,
        n_cols,
        np.ascontiguousarray(rows, dtype=np.uint32),
        np.ascontiguousarray(cols, dtype=np.uint32),
        vals,
    )


def _coords(buf: bytearray, dim: int) -> np.ndarray:
    return np.frombuffer(buf, dtype=np.float64).reshape(-1, dim)


def _has_tqdm() -> bool:
    return importlib.util.find_spec("tqdm") is not None


def _progress_every() -> float:
    """Seconds between the progress lines of a long phase when tqdm is not
    installed: ``SGTSNE_PROGRESS_EVERY`` (as for the command line), else 30."""
    try:
        every = float(os.environ.get("SGTSNE_PROGRESS_EVERY", "30"))
    except ValueError:
        return 30.0
    return every if every >= 0 and every != float("inf") else 30.0


class _Progress:
    """The engine's report hook: tqdm bars (when installed and verbose),
    else plain lines on stderr, and the user's callback, which may stop
    the run by returning False.

    The preparation phases (neighbour search, calibration, graph, setup)
    show as a bar of their own with tqdm, or, without it, as a line every
    30 seconds while one runs: its share done and the time left."""

    def __init__(self, verbose: Union[bool, int], callback: Optional[Callback], what: str):
        self.callback = callback
        self.bar = None
        self.tqdm: Any = None
        self.verbose = bool(verbose)
        self.what = what
        # The phase on show: its serial, bar (tqdm) and when its last line
        # was printed (seconds into the phase).
        self.phase_serial: Optional[int] = None
        self.phase_bar: Any = None
        self.phase_said = 0.0
        # A phase whose end a stage line has already announced.
        self.phase_over: Optional[int] = None
        self.every = _progress_every()
        if self.verbose and _has_tqdm():
            from tqdm.auto import tqdm

            self.tqdm = tqdm

    def stage(self, line: str) -> None:
        if not self.verbose:
            return
        if self.tqdm is not None:
            # A stage line ends the phase on show; printed above the bars
            # on show, without tearing them.
            self._end_phase()
            self.phase_over = self.phase_serial
            self.tqdm.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def phase(
        self, serial: Optional[int], label: str, done: int, total: int, seconds: float, line: str
    ) -> None:
        """The phase running now (``serial`` None: it has ended)."""
        if serial != self.phase_serial:
            self._end_phase()
            self.phase_serial = serial
            # A line is due once the phase has run ``every`` seconds.
            self.phase_said = 0.0
        if serial is None:
            return
        if self.tqdm is not None:
            if serial == self.phase_over:
                return
            if self.phase_bar is None:
                self.phase_bar = self.tqdm(
                    desc=label, total=total or None, unit="", file=sys.stderr, leave=False
                )
            self.phase_bar.update(done - self.phase_bar.n)
        elif seconds - self.phase_said >= self.every:
            print(f"  {line}", file=sys.stderr, flush=True)
            self.phase_said = seconds

    def _end_phase(self) -> None:
        if self.phase_bar is not None:
            self.phase_bar.close()
            self.phase_bar = None

    def report(self, iteration: int, max_iter: int, kl: float) -> bool:
        if self.bar is None and self.tqdm is not None:
            self._end_phase()
            self.bar = self.tqdm(desc=self.what, unit="it", file=sys.stderr)
        if self.bar is not None:
            self.bar.total = max_iter
            self.bar.update(iteration - self.bar.n)
            self.bar.set_postfix(KL=f"{kl:.4f}", refresh=False)
        elif self.verbose:
            print(f"{self.what}: iteration {iteration}/{max_iter}, KL {kl:.4f}", file=sys.stderr, flush=True)
        if self.callback is not None:
            return self.callback(iteration, kl) is not False
        return True

    def hooks(self) -> Dict[str, Any]:
        active = self.verbose or self.callback is not None
        return {
            "on_report": self.report if active else None,
            "on_stage": self.stage if self.verbose else None,
            "on_phase": self.phase if self.verbose else None,
        }

    def close(self) -> None:
        self._end_phase()
        if self.bar is not None:
            self.bar.close()


class TSNE(_Base):
    """t-SNE of point data (or of a precomputed graph) in 1, 2 or 3 dimensions.

    The points' ``k = 3 * perplexity`` nearest neighbours make a sparse
    graph of perplexity-calibrated affinities; the embedding minimises
    KL(P || Q) by gradient descent with attraction along the graph's edges
    and grid-interpolated (FFT) repulsion. Parameters with scikit-learn's
    names mean what they mean there; the others keep the ``sgtsne``
    command line's names. The same data, parameters and ``random_state``
    give the same bytes whatever ``n_jobs`` is, and the same bytes as the
    command line.

    Parameters
    ----------
    n_components : int, default=2
        Embedding dimension: 1, 2 or 3.
    perplexity : float, default=30.0
        Effective number of neighbours; ``k = min(n - 1, floor(3 * perplexity))``
        neighbours per point.
    early_exaggeration : float, default=12.0
        Factor on the attraction during the first ``early_iter`` iterations.
    learning_rate : float or "auto", default="auto"
        Step size; "auto" is ``max(200, n / exaggeration in force)``:
        ``early_exaggeration`` early, then ``exaggeration`` (openTSNE's rule).
    max_iter : int, default=1000
        Gradient-descent iterations.
    early_iter : int, default=250
        Iterations with early exaggeration (and momentum ``momentum``).
    init : {"auto", "pca", "spectral", "random", "subsample", "subsample:K"} or ndarray of shape (n_samples, n_components), default="auto"
        The start: "pca" (the points' top principal components; what
        "auto" means for points), "spectral" (Laplacian eigenmaps of the
        affinity graph; what "auto" means for ``fit_graph``), "random"
        (N(0, 1e-4^2)), "subsample:K" (points only; the large-data recipe
        of openTSNE's tutorial: embed a seeded random sample of K points,
        25,000 for plain "subsample", place every other point at its
        nearest sample points and start from there), or given
        coordinates. Informative starts are scaled so the first
        coordinate's standard deviation is 1e-4.
    exaggeration : float, default=1.0
        Exaggeration after the early phase, to the end; 2-4 tightens
        clusters and shows more global structure on large data sets.
    late_exaggeration : float or None, default=None
        Exaggeration from iteration ``late_start`` to the end (FIt-SNE's
        late exaggeration).
    late_start : int or None, default=None
        First iteration of ``late_exaggeration`` (None: right after the
        early phase).
    dof : float, default=1.0
        Degrees of freedom nu of the kernel ``(1 + d^2/nu)^-nu``: 1 is
        standard t-SNE, below 1 heavier tails split clusters finer.
    random_state : int, RandomState, Generator or None, default=None
        Seed of the random start and of the approximate neighbour search.
        None uses the library's fixed default seed (1), so runs repeat.
    n_jobs : int or None, default=-1
        Worker threads: -1 all cores, -2 all but one, None one. Results do
        not depend on it.
    verbose : bool, default=False
        Show progress: a tqdm bar when tqdm is installed, else lines on
        stderr.
    callback : callable (iteration, kl) -> bool or None, optional
        Called each time the cost is evaluated (iteration 1, every 50, the
        last); returning False stops the run there.
    lambda_ : float, default=1.0
        Lambda-rescaling target of each point's affinities (SG-t-SNE); 1 is
        off.
    knn : {"auto", "exact", "approx"}, default="auto"
        Neighbour search: brute force, NN-descent, or exact up to about
        220,000 points of 50 dimensions.
    pca : int, default=0
        Project the points on this many principal components first (0 = off).
    repulsion : {"auto", "exact", "grid"}, default="auto"
        Repulsion engine. "auto": the exact O(n^2) sum up to 1,000 points;
        above, the grid, except in iterations where the embedding has spread
        so wide that the exact sum is the cheaper.
    grid_h : float or None, default=None
        Grid spacing of the repulsion, in (0, 10]; None = 0.5 / 0.7 / 1.2
        for 1 / 2 / 3 dimensions.
    grid_max : int or None, default=None
        Cap on the grid's nodes per side (at least 16); None = 65536 / 2048
        / 3 n^(1/3) within [48, 192] for 1 / 2 / 3 dimensions (in 3D the
        grid starts capped at 1.07 n^(1/3) and grows toward this only where
        points crowd the exact near sums). A wider embedding gets a coarser
        grid, so time and memory per iteration stay bounded.
    near_split : bool, default=True
        Where the grid is capped, sum pairs closer than 2 (3D) or 3 grid spacings
        exactly and put only the smooth rest of the kernel on the coarse
        grid. False puts every pair on the coarse grid: cheaper per
        iteration, much less accurate.
    momentum : float or None, default=None
        Momentum during early exaggeration. None: 0.8 for point data
        (openTSNE's; it keeps more of the global structure) and 0.5 for a
        precomputed graph (SG-t-SNE-Pi's).
    final_momentum : float, default=0.8
        Momentum after early exaggeration.
    max_step : float, default=5.0
        Longest step a point may take in one iteration (the norm of its
        update, as FIt-SNE's ``max_step_norm``); keeps graphs with a few
        heavy edges or a hub from oscillating apart. 0 means no bound.
    order : {"auto", "metis", "rcm", "none"}, default="auto"
        Vertex ordering of the sparse attraction (speed only): "auto" is
        METIS up to 50,000 vertices and RCM above.

    Attributes
    ----------
    embedding_ : ndarray of shape (n_samples, n_components)
        The coordinates, float64.
    kl_divergence_ : float
        KL(P || Q) at the end.
    n_iter_ : int
        Iterations run (including any resumed).
    n_features_in_ : int
        Input dimensions (points only).
    learning_rate_ : float
        The step size used ("auto" resolved).

    Examples
    --------
    >>> import numpy as np, sgtsne
    >>> X = np.random.default_rng(0).normal(size=(300, 5))
    >>> est = sgtsne.TSNE(n_components=2, random_state=7).fit(X[:250])
    >>> est.embedding_.shape, est.transform(X[250:]).shape
    ((250, 2), (50, 2))
    """

    def __init__(
        self,
        n_components: int = _D["dim"],
        *,
        perplexity: float = _D["perplexity"],
        early_exaggeration: float = _D["alpha"],
        learning_rate: Union[float, str] = "auto",
        max_iter: int = _D["max_iter"],
        early_iter: int = _D["early_iter"],
        init: Union[str, ArrayLike] = "auto",
        exaggeration: float = _D["exaggeration"],
        late_exaggeration: Optional[float] = None,
        late_start: Optional[int] = None,
        dof: float = _D["dof"],
        random_state: Any = None,
        n_jobs: Optional[int] = -1,
        verbose: Union[bool, int] = False,
        callback: Optional[Callback] = None,
        lambda_: float = _D["lambda"],
        knn: str = "auto",
        pca: int = _D["pca"],
        repulsion: str = "auto",
        grid_h: Optional[float] = None,
        grid_max: Optional[int] = None,
        near_split: bool = _D["near_split"],
        momentum: Optional[float] = _D["momentum"],
        final_momentum: float = _D["final_momentum"],
        order: str = "auto",
        max_step: float = _D["max_step"],
    ) -> None:
        self.n_components = n_components
        self.perplexity = perplexity
        self.early_exaggeration = early_exaggeration
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.early_iter = early_iter
        self.init = init
        self.exaggeration = exaggeration
        self.late_exaggeration = late_exaggeration
        self.late_start = late_start
        self.dof = dof
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.callback = callback
        self.lambda_ = lambda_
        self.knn = knn
        self.pca = pca
        self.repulsion = repulsion
        self.grid_h = grid_h
        self.grid_max = grid_max
        self.near_split = near_split
        self.momentum = momentum
        self.final_momentum = final_momentum
        self.order = order
        self.max_step = max_step

    # scikit-learn takes attributes ending in "_" for fitted state; lambda_
    # is a parameter (the command line's name), so say what fitted means.
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "_model")

    def _params(self) -> Dict[str, Any]:
        """The settings by the engine's names (None = the engine's default)."""
        for name in ("n_components", "max_iter", "early_iter", "pca"):
            v = getattr(self, name)
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"invalid {name}: expected an int, got {v!r}")
            if v < 0:
                raise ValueError(f"invalid {name}: must be a non-negative integer, got {v}")
        lr = self.learning_rate
        if isinstance(lr, str) and lr != "auto":
            raise ValueError(f"invalid learning_rate: expected a positive number or 'auto', got {lr!r}")
        return {
            "dim": int(self.n_components),
            "perplexity": self.perplexity,
            "alpha": self.early_exaggeration,
            "exaggeration": self.exaggeration,
            "late_exaggeration": self.late_exaggeration,
            "late_start": None if self.late_start is None else int(self.late_start),
            "dof": self.dof,
            "init": self.init if isinstance(self.init, str) else None,
            "eta": lr,
            "max_iter": int(self.max_iter),
            "early_iter": int(self.early_iter),
            "seed": _seed(self.random_state),
            "lambda": self.lambda_,
            "knn": self.knn,
            "pca": int(self.pca),
            "repulsion": self.repulsion,
            "grid_h": self.grid_h,
            "grid_max": self.grid_max,
            "near_split": bool(self.near_split),
            "momentum": self.momentum,
            "final_momentum": self.final_momentum,
            "order": self.order,
            "max_step": self.max_step,
        }

    def _init(self, n: int) -> Optional[np.ndarray]:
        init = self.init
        if isinstance(init, str):
            if init in ("auto", "pca", "spectral", "random", "subsample"):
                return None
            size = init[len("subsample:"):] if init.startswith("subsample:") else ""
            if size.isdigit():
                return None
            raise ValueError(
                "invalid init: expected 'auto', 'pca', 'spectral', 'random', 'subsample', "
                "'subsample:K' (K a whole number) or an array of shape "
                f"(n_samples, n_components), got {init!r}"
            )
        a = _as_float_matrix(init, "init")
        if a.shape != (n, self.n_components):
            raise ValueError(
                f"invalid init: shape {a.shape}, but the data need ({n}, {self.n_components})"
            )
        return a

    def _store(self, out: tuple, n_features: Optional[int]) -> "TSNE":
        buf, kl, n_iter, model = out
        self._model = model
        self.embedding_ = _coords(buf, model.dim)
        self.kl_divergence_ = float(kl)
        self.n_iter_ = int(n_iter)
        self.learning_rate_ = float(model.plan()["eta"])
        if n_features is not None:
            self.n_features_in_ = n_features
        return self

    def fit(self, X: ArrayLike, y: Any = None) -> "TSNE":
        """Embeds the points X and keeps the run, so that new points can be
        placed (:meth:`transform`) and the run continued (:meth:`resume`).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The points: float32/float64 (any order) or integer/bool (converted).
        y : ignored

        Returns
        -------
        self : TSNE
        """
        params = self._params()
        X = _as_float_matrix(X, "X")
        init = self._init(X.shape[0])
        progress = _Progress(self.verbose, self.callback, "sgtsne")
        try:
            out = _core.fit_points(
                X, params, init, _n_jobs(self.n_jobs), keep_model=True, **progress.hooks()
            )
        finally:
            progress.close()
        return self._store(out, X.shape[1])

    def fit_transform(self, X: ArrayLike, y: Any = None) -> np.ndarray:
        """Embeds the points X; returns :attr:`embedding_`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        ndarray of shape (n_samples, n_components)
        """
        return self.fit(X).embedding_

    def fit_graph(self, P: ArrayLike) -> "TSNE":
        """Embeds a precomputed graph and keeps the run (see :func:`embed_graph`).

        Parameters
        ----------
        P : scipy.sparse matrix or array of shape (n, n)
            Non-negative weights; column j holds the out-weights of vertex j.
            Columns are normalised, lambda-rescaled (``lambda_``) and the
            result symmetrised. Any sparse format; never densified.

        Returns
        -------
        self : TSNE
        """
        params = self._params()
        n, _, rows, cols, vals = _graph_triplets(P, "P")
        init = self._init(n)
        progress = _Progress(self.verbose, self.callback, "sgtsne")
        try:
            out = _core.fit_graph(
                n, rows, cols, vals, params, init, _n_jobs(self.n_jobs),
                on_report=progress.hooks()["on_report"],
                on_phase=progress.hooks()["on_phase"], keep_model=True,
            )
        finally:
            progress.close()
        return self._store(out, None)

    def _fitted(self) -> Any:
        model = getattr(self, "_model", None)
        if model is None:
            raise _not_fitted(type(self).__name__)
        return model

    @staticmethod
    def _placement(perplexity, k, max_iter, learning_rate, exaggeration, knn="auto") -> Dict[str, Any]:
        return {
            "perplexity": perplexity,
            "k": k,
            "max_iter": max_iter,
            "eta": learning_rate,
            "exaggeration": exaggeration,
            "knn": knn,
        }

    def transform(
        self,
        X: ArrayLike,
        *,
        perplexity: float = _D["place_perplexity"],
        k: int = _D["place_k"],
        max_iter: int = _D["place_iter"],
        learning_rate: float = _D["place_eta"],
        exaggeration: float = _D["place_exaggeration"],
        knn: str = "auto",
    ) -> np.ndarray:
        """Places new points into the fitted embedding, which stays fixed.

        Each new point gets its ``k`` nearest neighbours among the fitted
        points (after the fit's PCA), affinities calibrated to
        ``perplexity``, starts at their weighted mean and is optimised
        alone. A point's result depends only on the model and itself: any
        batch, any thread count, the same bytes.

        Parameters
        ----------
        X : array-like of shape (n_new, n_features)
        perplexity, k, max_iter, learning_rate, exaggeration
            The placement's settings (``sgtsne transform``'s flags).
        knn : {"auto", "exact", "approx"}, default="auto"
            How the neighbours are found: ``"exact"`` searches every fitted
            point; ``"approx"`` walks the fitted points' own neighbour graph
            (recall about 0.998 on Fashion-MNIST, a quarter of the time);
            ``"auto"`` walks it from 1,000 new points on.

        Returns
        -------
        ndarray of shape (n_new, n_components)
        """
        model = self._fitted()
        X = _as_float_matrix(X, "X")
        params = self._placement(perplexity, k, max_iter, learning_rate, exaggeration, knn)
        buf = model.transform_points(X, params, _n_jobs(self.n_jobs))
        return _coords(buf, model.dim)

    def transform_graph(
        self,
        E: ArrayLike,
        *,
        perplexity: float = _D["place_perplexity"],
        k: int = _D["place_k"],
        max_iter: int = _D["place_iter"],
        learning_rate: float = _D["place_eta"],
        exaggeration: float = _D["place_exaggeration"],
    ) -> np.ndarray:
        """Places new vertices into an embedding fitted with :meth:`fit_graph`.

        Parameters
        ----------
        E : scipy.sparse matrix or array of shape (n_fitted, n_new)
            Column j holds new vertex j's edge weights to the fitted
            vertices; normalised and lambda-rescaled as in the fit.
        perplexity, k, max_iter, learning_rate, exaggeration
            As in :meth:`transform` (perplexity and k are not used here).

        Returns
        -------
        ndarray of shape (n_new, n_components)
        """
        model = self._fitted()
        _, m, rows, cols, vals = _graph_triplets(E, "E", shape=(model.n, -1))
        params = self._placement(perplexity, k, max_iter, learning_rate, exaggeration)
        buf = model.transform_graph(m, rows, cols, vals, params, _n_jobs(self.n_jobs))
        return _coords(buf, model.dim)

    def resume(self, n_iter: int) -> "TSNE":
        """Runs ``n_iter`` more iterations from where the run stopped (no new
        early exaggeration); fitting 1000 iterations equals fitting 500 and
        resuming 500, bit for bit. Updates :attr:`embedding_`,
        :attr:`kl_divergence_` and :attr:`n_iter_`.

        Parameters
        ----------
        n_iter : int

        Returns
        -------
        self : TSNE
        """
        model = self._fitted()
        if isinstance(n_iter, (bool, np.bool_)) or not isinstance(n_iter, (int, np.integer)) or n_iter < 0:
            raise ValueError(f"invalid n_iter: must be a non-negative integer, got {n_iter!r}")
        progress = _Progress(self.verbose, self.callback, "sgtsne resume")
        try:
            out = model.resume(int(n_iter), _n_jobs(self.n_jobs), progress.hooks()["on_report"])
        finally:
            progress.close()
        return self._store(out, getattr(self, "n_features_in_", None))

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Writes the fitted run to a model file (a NumPy ``.npz``), which
        ``sgtsne transform`` and ``sgtsne resume`` read, and :meth:`load`."""
        self._fitted().save(os.fspath(path))

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"], **params: Any) -> "TSNE":
        """A fitted estimator from a model file (written by :meth:`save` or
        ``sgtsne --save``). Its parameters are the run's; ``params`` (e.g.
        ``n_jobs``, ``verbose``) are set on top.
        """
        model = _core.Model.load(os.fspath(path))
        p = model.plan()
        est = cls(
            n_components=p["dim"],
            early_exaggeration=p["alpha"],
            learning_rate=p["eta"],
            max_iter=p["max_iter"],
            early_iter=p["early_iter"],
            random_state=p["seed"],
            grid_h=p["grid_h"],
            grid_max=p["grid_max"],
            near_split=p.get("near_split", _D["near_split"]),
            momentum=p["momentum"],
            final_momentum=p["final_momentum"],
            max_step=p.get("max_step", 0.0),
            lambda_=p.get("lambda", _D["lambda"]),
        )
        est.set_params(**params)
        est._model = model
        est.embedding_ = _coords(model.embedding(), model.dim)
        est.kl_divergence_ = float(model.kl)
        est.n_iter_ = int(model.iterations)
        est.learning_rate_ = float(p["eta"])
        if model.n_features is not None:
            est.n_features_in_ = model.n_features
        return est

    # Pickling goes through the model file's bytes.
    def __getstate__(self) -> Dict[str, Any]:
        state = self.__dict__.copy()
        if "_model" in state:
            state["_model"] = state["_model"].to_bytes()
        return state

    def __setstate__(self, state: Dict[str, Any]) -> None:
        if isinstance(state.get("_model"), (bytes, bytearray)):
            state["_model"] = _core.Model.from_bytes(bytes(state["_model"]))
        self.__dict__.update(state)


def _not_fitted(name: str) -> Exception:
    msg = f"This {name} instance is not fitted yet: call fit or fit_graph first."
    if importlib.util.find_spec("sklearn") is not None:
        from sklearn.exceptions import NotFittedError

        return NotFittedError(msg)
    return AttributeError(msg)


def embed_graph(
    P: ArrayLike,
    n_components: int = _D["dim"],
    *,
    lambda_: float = _D["lambda"],
    **params: Any,
) -> np.ndarray:
    """Embeds a precomputed sparse graph in 1, 2 or 3 dimensions.

    Parameters
    ----------
    P : scipy.sparse matrix (any format) or array of shape (n, n)
        Non-negative edge weights; column j holds the out-weights of vertex j
        (a symmetric matrix needs no thought). Each column is normalised to
        sum 1 and lambda-rescaled, then P is symmetrised: ``(P + P.T) / 2n``.
        Sparse input is never densified.
    n_components : int, default=2
        1, 2 or 3.
    lambda_ : float, default=1.0
        Lambda-rescaling target (1 = off; about 10 suits kNN graphs).
    **params
        Any other :class:`TSNE` parameter (``max_iter``, ``random_state``,
        ``n_jobs``, ``verbose``, ``callback``, ``grid_h``...).

    Returns
    -------
    ndarray of shape (n, n_components)

    Examples
    --------
    >>> import scipy.sparse as sp, sgtsne
    >>> P = sp.random(200, 200, density=0.05, random_state=0, format="csr")
    >>> sgtsne.embed_graph(P + P.T, n_components=3, lambda_=10).shape
    (200, 3)
    """
    return TSNE(n_components, lambda_=lambda_, **params).fit_graph(P).embedding_
