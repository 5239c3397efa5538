"""The estimator and embed_graph: results, equality with the CLI, thread
invariance, models, pickling, callbacks and bad input."""

import os
import pickle
import re
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import scipy.io
import scipy.sparse as sp

import sgtsne
from conftest import blobs, knn_graph, need, run_cli

FAST = dict(max_iter=300, early_iter=100)


def same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def label_agreement(Y: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """How often a point's k nearest embedding neighbours share its label."""
    d2 = ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    nn = np.argsort(d2, axis=1)[:, :k]
    return float((labels[nn] == labels[:, None]).mean())


def test_version():
    assert sgtsne.__version__.count(".") == 2


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_fit_transform_separates_clusters(dim):
    X, labels = blobs()
    est = sgtsne.TSNE(n_components=dim, random_state=3, **FAST)
    Y = est.fit_transform(X)
    assert Y.shape == (600, dim) and Y.dtype == np.float64
    assert np.isfinite(Y).all()
    assert est.embedding_ is Y
    assert est.n_iter_ == 300 and est.n_features_in_ == 8
    assert np.isfinite(est.kl_divergence_) and est.kl_divergence_ > 0
    assert est.learning_rate_ == 200.0
    assert label_agreement(Y, labels) > 0.95


def test_dtypes_and_layouts_give_the_same_bytes():
    X, _ = blobs(300)
    X32 = X.astype(np.float32)
    ref = sgtsne.TSNE(random_state=5, **FAST).fit_transform(X32.astype(np.float64))
    for variant in (X32, np.asfortranarray(X32), X32[::1, :], list(map(list, X32))):
        assert same_bytes(sgtsne.TSNE(random_state=5, **FAST).fit_transform(variant), ref)
    Xi = np.rint(X * 10).astype(np.int32)
    a = sgtsne.TSNE(random_state=5, **FAST).fit_transform(Xi)
    b = sgtsne.TSNE(random_state=5, **FAST).fit_transform(Xi.astype(np.float64))
    assert same_bytes(a, b)
    Xb = X > 0
    assert sgtsne.TSNE(random_state=5, **FAST).fit_transform(Xb).shape == (300, 2)


def test_seed_changes_the_result_and_repeats():
    X, _ = blobs(300)
    a = sgtsne.TSNE(random_state=1, init="random", **FAST).fit_transform(X)
    b = sgtsne.TSNE(random_state=1, init="random", **FAST).fit_transform(X)
    c = sgtsne.TSNE(random_state=2, init="random", **FAST).fit_transform(X)
    assert same_bytes(a, b) and not same_bytes(a, c)
    # The default PCA start does not draw from the seed (exact neighbours).
    d = sgtsne.TSNE(random_state=1, **FAST).fit_transform(X)
    e = sgtsne.TSNE(random_state=2, **FAST).fit_transform(X)
    assert same_bytes(d, e)
    # None is the library's fixed default seed, so a run repeats.
    assert same_bytes(sgtsne.TSNE(**FAST).fit_transform(X), sgtsne.TSNE(random_state=1, **FAST).fit_transform(X))


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_thread_count_does_not_change_the_bytes(dim):
    X, _ = blobs(1500, seed=dim)
    runs = [sgtsne.TSNE(dim, random_state=4, n_jobs=j, **FAST).fit_transform(X) for j in (1, 2, -1)]
    assert same_bytes(runs[0], runs[1]) and same_bytes(runs[0], runs[2])
    P = knn_graph(X)
    g = [sgtsne.embed_graph(P, dim, lambda_=10, n_jobs=j, **FAST) for j in (1, 2)]
    assert same_bytes(g[0], g[1])


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_points_match_the_cli_bytes(cli, tmp_path, dim):
    X, _ = blobs(1200, d=20, seed=dim)
    X = X.astype(np.float32)
    np.save(tmp_path / "x.npy", X)
    out = tmp_path / "y.npy"
    run_cli(cli, str(tmp_path / "x.npy"), "--dim", str(dim), "--seed", "7", "--pca", "10",
            "-m", "300", "-e", "100", "--perplexity", "20", "--lambda", "2",
            "-o", str(out), "--quiet", "--max-memory", "2GB")
    Y = sgtsne.TSNE(dim, random_state=7, pca=10, perplexity=20, lambda_=2, **FAST).fit_transform(X)
    assert same_bytes(Y, np.load(out))


@pytest.mark.parametrize("dim", [2, 3])
def test_graph_matches_the_cli_bytes(cli, tmp_path, dim):
    rng = np.random.default_rng(dim)
    X, _ = blobs(1000, seed=dim)
    P = knn_graph(X, 8)
    P.data = rng.integers(1, 4, size=P.nnz).astype(np.float64)  # exact in text
    scipy.io.mmwrite(str(tmp_path / "g.mtx"), P)
    out = tmp_path / "y.npy"
    run_cli(cli, str(tmp_path / "g.mtx"), "--dim", str(dim), "--seed", "11", "--lambda", "10",
            "-m", "300", "-e", "100", "-o", str(out), "--quiet", "--max-memory", "2GB")
    Y = sgtsne.embed_graph(P, dim, lambda_=10, random_state=11, **FAST)
    assert same_bytes(Y, np.load(out))


class NoDense(sp.csr_matrix):
    """A CSR matrix that refuses to be densified."""

    def toarray(self, *a, **k):
        raise AssertionError("densified")

    todense = toarray


def test_graph_formats_give_the_same_bytes_without_densifying():
    X, _ = blobs(400)
    P = knn_graph(X, 6)
    ref = sgtsne.embed_graph(P, 2, random_state=2, **FAST)
    for fmt in ("csc", "coo", "lil", "dok", "bsr"):
        assert same_bytes(sgtsne.embed_graph(P.asformat(fmt), 2, random_state=2, **FAST), ref), fmt
    assert same_bytes(sgtsne.embed_graph(P.toarray(), 2, random_state=2, **FAST), ref)
    assert same_bytes(sgtsne.embed_graph(sp.csr_array(P), 2, random_state=2, **FAST), ref)
    assert same_bytes(sgtsne.embed_graph(NoDense(P), 2, random_state=2, **FAST), ref)
    # integer and bool weights are converted
    assert same_bytes(sgtsne.embed_graph(P.astype(np.int64), 2, random_state=2, **FAST), ref)
    assert same_bytes(sgtsne.embed_graph(P.astype(bool), 2, random_state=2, **FAST), ref)


def test_graph_embedding_keeps_clusters():
    X, labels = blobs(800, seed=9)
    Y = sgtsne.embed_graph(knn_graph(X), n_components=3, lambda_=10, random_state=1)
    assert Y.shape == (800, 3)
    assert label_agreement(Y, labels) > 0.95


# ---- models: transform, resume, save/load, pickle ----


def test_transform_is_batch_and_thread_invariant_and_lands_near_the_fit():
    X, labels = blobs(1200, seed=2)
    est = sgtsne.TSNE(random_state=3, n_jobs=2).fit(X[:1000])
    new = X[1000:]
    whole = est.transform(new)
    assert whole.shape == (200, 2) and np.isfinite(whole).all()
    part = est.transform(new[:37])
    assert same_bytes(part, whole[:37])
    est.set_params(n_jobs=1)
    assert same_bytes(est.transform(new), whole)
    # The walk over the fitted points' graph: invariant too, and close to
    # the exact search (200 new points: auto searched exactly).
    walked = est.transform(new, knn="approx")
    assert same_bytes(est.transform(new, knn="exact"), whole)
    est.set_params(n_jobs=2)
    assert same_bytes(est.transform(new[:37], knn="approx"), walked[:37])
    assert np.median(np.linalg.norm(walked - whole, axis=1)) < 1e-3 * np.ptp(whole, axis=0).max()
    # New points land among the fitted points of their cluster.
    E = est.embedding_
    d2 = ((whole[:, None, :] - E[None, :, :]) ** 2).sum(-1)
    votes = labels[:1000][np.argsort(d2, axis=1)[:, :10]]
    assert (votes == labels[1000:, None]).mean() > 0.95
    # The fitted points themselves land near their own positions.
    own = est.transform(X[:200])
    spread = np.ptp(E, axis=0).max()
    assert np.median(np.linalg.norm(own - E[:200], axis=1)) < 0.02 * spread


def test_transform_settings_are_checked():
    X, _ = blobs(300)
    est = sgtsne.TSNE(**FAST).fit(X)
    with pytest.raises(ValueError, match="invalid learning_rate: must be a positive number, got -1"):
        est.transform(X[:5], learning_rate=-1.0)
    with pytest.raises(ValueError, match="invalid k: must be at least 1"):
        est.transform(X[:5], k=0)
    with pytest.raises(ValueError, match="unknown kNN method 'annoy'"):
        est.transform(X[:5], knn="annoy")
    with pytest.raises(ValueError, match="new points have 3 dimensions, the model's points 8"):
        est.transform(X[:5, :3])
    with pytest.raises(ValueError, match=r"X: point 2 coordinate 1 is NaN"):
        bad = X[:5].copy()
        bad[1, 0] = np.nan
        est.transform(bad)
    with pytest.raises(ValueError, match="fitted on points"):
        est.transform_graph(sp.eye(300, 2, format="csr"))


def test_unfitted_estimator_refuses_transform():
    with pytest.raises((AttributeError, ValueError), match="not fitted"):
        sgtsne.TSNE().transform(np.zeros((3, 2)))


def test_graph_model_places_new_vertices():
    X, labels = blobs(900, seed=4)
    full = knn_graph(X, 10).tolil()
    est = sgtsne.TSNE(3, lambda_=10, random_state=2).fit_graph(full[:800, :800].tocsr())
    E = full[:800, 800:].tocsc()  # new vertices' edges to the fitted ones
    keep = np.asarray(E.sum(axis=0)).ravel() > 0
    placed = est.transform_graph(E[:, keep])
    assert placed.shape == (int(keep.sum()), 3)
    d2 = ((placed[:, None, :] - est.embedding_[None, :, :]) ** 2).sum(-1)
    votes = labels[:800][np.argsort(d2, axis=1)[:, :10]]
    assert (votes == labels[800:][keep][:, None]).mean() > 0.9
    lonely = sp.hstack([E[:, keep][:, :3], sp.csc_matrix((800, 1))]).tocsc()
    with pytest.raises(ValueError, match=r"new vertex 4 \(column 4\) has no edge to the model's vertices"):
        est.transform_graph(lonely)
    with pytest.raises(ValueError, match="the new edges have 5 rows, the model 800 vertices"):
        est.transform_graph(sp.csc_matrix((5, 2)))
    with pytest.raises(ValueError, match="fitted on a graph"):
        est.transform(X[:3])


def test_resume_equals_the_uninterrupted_run():
    X, _ = blobs(700)
    once = sgtsne.TSNE(random_state=6, max_iter=600, early_iter=100).fit(X)
    part = sgtsne.TSNE(random_state=6, max_iter=350, early_iter=100).fit(X)
    assert part.n_iter_ == 350
    part.resume(250)
    assert part.n_iter_ == 600
    assert same_bytes(part.embedding_, once.embedding_)
    assert part.kl_divergence_ == once.kl_divergence_


def test_pickle_round_trip_keeps_the_model():
    X, _ = blobs(500)
    est = sgtsne.TSNE(random_state=8, **FAST).fit(X[:400])
    again = pickle.loads(pickle.dumps(est))
    assert same_bytes(again.embedding_, est.embedding_)
    assert again.get_params() == est.get_params()
    assert same_bytes(again.transform(X[400:]), est.transform(X[400:]))
    core = pickle.loads(pickle.dumps(est._model))
    assert (core.n, core.dim, core.kind, core.iterations) == (400, 2, "points", 300)
    # An unfitted estimator pickles too.
    assert pickle.loads(pickle.dumps(sgtsne.TSNE(3))).n_components == 3


def test_saved_model_is_the_clis(cli, tmp_path):
    X, _ = blobs(600)
    est = sgtsne.TSNE(random_state=9, **FAST).fit(X[:500])
    est.save(tmp_path / "m.npz")
    np.save(tmp_path / "new.npy", X[500:])
    run_cli(cli, "transform", str(tmp_path / "m.npz"), str(tmp_path / "new.npy"),
            "-o", str(tmp_path / "t.npy"), "--quiet")
    assert same_bytes(np.load(tmp_path / "t.npy"), est.transform(X[500:]))
    run_cli(cli, "resume", str(tmp_path / "m.npz"), "-m", "100", "-o", str(tmp_path / "r.npy"), "--quiet")
    loaded = sgtsne.TSNE.load(tmp_path / "m.npz", n_jobs=1)
    assert loaded.n_jobs == 1 and loaded.random_state == 9 and loaded.n_iter_ == 300
    assert same_bytes(loaded.embedding_, est.embedding_)
    assert same_bytes(loaded.resume(100).embedding_, np.load(tmp_path / "r.npy"))
    # A model the CLI saved loads in Python.
    np.save(tmp_path / "x.npy", X[:500])
    run_cli(cli, str(tmp_path / "x.npy"), "--seed", "9", "-m", "300", "-e", "100",
            "--save", str(tmp_path / "c.npz"), "-o", str(tmp_path / "c.npy"), "--quiet")
    from_cli = sgtsne.TSNE.load(tmp_path / "c.npz")
    assert same_bytes(from_cli.embedding_, np.load(tmp_path / "c.npy"))
    assert same_bytes(from_cli.transform(X[500:]), est.transform(X[500:]))


def test_bad_model_files(tmp_path):
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="junk.npz"):
        sgtsne.TSNE.load(tmp_path / "junk.npz")
    with pytest.raises(OSError, match="missing.npz"):
        sgtsne.TSNE.load(tmp_path / "missing.npz")
    X, _ = blobs(200)
    good = sgtsne.TSNE(**FAST).fit(X)._model.to_bytes()
    with pytest.raises(ValueError):
        sgtsne._core.Model.from_bytes(good[: len(good) // 2])


# ---- progress, callbacks, interruption ----


def test_callback_sees_the_cost_and_can_stop_the_run():
    X, _ = blobs(400)
    seen = []

    def cb(it, kl):
        seen.append((it, kl))
        return it < 100

    est = sgtsne.TSNE(random_state=1, callback=cb, **FAST).fit(X)
    assert [it for it, _ in seen] == [1, 50, 100]
    assert all(np.isfinite(kl) and kl > 0 for _, kl in seen)
    assert est.n_iter_ == 100
    # Stopping is deterministic: the same as a run of 100 iterations.
    ref = sgtsne.TSNE(random_state=1, max_iter=100, early_iter=100).fit(X)
    assert same_bytes(est.embedding_, ref.embedding_)


def test_callback_exception_propagates():
    X, _ = blobs(300)

    def cb(it, kl):
        raise ZeroDivisionError("from the callback")

    with pytest.raises(ZeroDivisionError, match="from the callback"):
        sgtsne.TSNE(callback=cb, **FAST).fit(X)


def test_a_rising_cost_warns_once():
    # The shipped example with 20 times the automatic step and no step
    # bound: the cost climbs after the early phase (the engine's own test
    # measures where); the default settings do not warn.
    import gzip

    here = os.path.dirname(os.path.abspath(__file__))
    with gzip.open(os.path.join(here, "..", "..", "data", "example-knn.mtx.gz")) as f:
        P = sp.csr_matrix(scipy.io.mmread(f))
    wild = dict(max_iter=460, init="random", repulsion="exact", random_state=0)
    with pytest.warns(RuntimeWarning, match="risen since iteration") as caught:
        sgtsne.TSNE(learning_rate=40_000, max_step=0, **wild).fit_graph(P)
    msgs = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(msgs) == 1 and "learning_rate" in msgs[0] and "max_step" in msgs[0], msgs
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sgtsne.TSNE(**wild).fit_graph(P)


def test_verbose_prints_progress(capsys, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "tqdm" else real(n, *a))
    X, _ = blobs(300)
    sgtsne.TSNE(verbose=True, **FAST).fit(X)
    err = capsys.readouterr().err
    assert "nearest neighbours" in err
    assert "iteration 300/300, KL" in err
    sgtsne.TSNE(**FAST).fit(X)
    assert capsys.readouterr().err == ""


def test_verbose_shows_how_far_each_preparation_phase_has_got(capsys, monkeypatch):
    # Without tqdm, a phase still running prints its share done and the
    # time left every SGTSNE_PROGRESS_EVERY seconds (30 by default).
    monkeypatch.setattr(sgtsne._tsne, "_has_tqdm", lambda: False)
    monkeypatch.setenv("SGTSNE_PROGRESS_EVERY", "0")
    rng = np.random.default_rng(4)
    X = rng.normal(size=(20000, 10))
    est = sgtsne.TSNE(verbose=True, knn="approx", max_iter=20, early_iter=10, n_jobs=2)
    est.fit(X)
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if re.match(r"^  neighbour search: sweep \d+: \d+% after ", ln)]
    assert lines, err
    for ln in lines:
        share = int(re.search(r": (\d+)% after", ln).group(1))
        assert 0 <= share <= 100, ln
    # At the default interval a run this short prints no phase lines.
    monkeypatch.delenv("SGTSNE_PROGRESS_EVERY")
    est.fit(X)
    err = capsys.readouterr().err
    assert "nearest neighbours" in err
    assert not re.search(r"% after ", err), err


def test_ctrl_c_stops_a_run_with_keyboard_interrupt():
    # No callback: Python code running on the main thread would raise the
    # KeyboardInterrupt itself; here only the engine's signal check can.
    script = textwrap.dedent(
        """
        import signal, sys, numpy as np, sgtsne
        # As in a terminal: a job started in the background by a
        # non-interactive shell inherits SIGINT ignored, and Python then
        # never turns it into KeyboardInterrupt.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        X = np.random.default_rng(0).normal(size=(3000, 10))
        print("starting", flush=True)
        try:
            sgtsne.TSNE(max_iter=5_000_000, n_jobs=1).fit(X)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
            sys.exit(7)
        """
    )
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "starting"
    time.sleep(1.0)  # well inside the engine by then
    p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=120)
    finally:
        p.kill()
    assert p.returncode == 7, out
    assert "interrupted" in out


# ---- bad input: the CLI's wording, Python's exception types ----


def cli_message(cli, tmp_path, *flags):
    np.save(tmp_path / "x.npy", np.random.default_rng(0).normal(size=(50, 3)))
    r = run_cli(cli, str(tmp_path / "x.npy"), *flags, "-o", str(tmp_path / "o.txt"), ok=False)
    assert r.returncode == 2
    prefix = "sgtsne: error: "
    assert r.stderr.startswith(prefix), r.stderr
    return r.stderr[len(prefix):].strip()


@pytest.mark.parametrize(
    "kwargs, flags, name",
    [
        ({"n_components": 4}, ["--dim", "4"], "n_components"),
        ({"perplexity": -1.0}, ["--perplexity", "-1"], "perplexity"),
        ({"perplexity": 0.2}, ["--perplexity", "0.2"], "perplexity"),
        ({"early_exaggeration": 0.0}, ["--alpha", "0"], "early_exaggeration"),
        ({"learning_rate": -5.0}, ["--eta", "-5"], "learning_rate"),
        ({"grid_h": 20.0}, ["--grid-h", "20"], "grid_h"),
        ({"lambda_": 0.0}, ["--lambda", "0"], "lambda_"),
        ({"dof": 0.0}, ["--dof", "0"], "dof"),
        ({"exaggeration": -1.0}, ["--exaggeration", "-1"], "exaggeration"),
    ],
)
def test_bad_parameters_say_what_the_cli_says(cli, tmp_path, kwargs, flags, name):
    msg = cli_message(cli, tmp_path, *flags)
    assert msg.startswith(f"invalid {flags[0]}: "), msg
    detail = msg.split(": ", 1)[1]
    with pytest.raises(ValueError) as e:
        sgtsne.TSNE(**kwargs).fit(np.random.default_rng(0).normal(size=(50, 3)))
    assert str(e.value) == f"invalid {name}: {detail}"


def test_bad_points():
    X = np.random.default_rng(0).normal(size=(50, 3))
    bad = X.copy()
    bad[4, 2] = np.nan
    with pytest.raises(ValueError, match="X: point 5 coordinate 3 is NaN"):
        sgtsne.TSNE().fit(bad)
    bad[4, 2] = np.inf
    with pytest.raises(ValueError, match="point 5 coordinate 3 is inf"):
        sgtsne.TSNE().fit(bad)
    with pytest.raises(ValueError, match="2-D array"):
        sgtsne.TSNE().fit(X[0])
    with pytest.raises(ValueError, match="at least one row"):
        sgtsne.TSNE().fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="need at least 2 points"):
        sgtsne.TSNE().fit(X[:1])
    with pytest.raises(TypeError, match="numeric"):
        sgtsne.TSNE().fit(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(TypeError, match="numeric"):
        sgtsne.TSNE().fit(X.astype(np.complex128))
    with pytest.raises(TypeError, match="sparse"):
        sgtsne.TSNE().fit(sp.csr_matrix(X))
    with pytest.raises(ValueError, match=r"invalid init: shape \(50, 3\), but the data need \(50, 2\)"):
        sgtsne.TSNE(init=X).fit(X)
    with pytest.raises(ValueError, match="invalid init"):
        sgtsne.TSNE(init="umap").fit(X)
    with pytest.raises(ValueError, match="invalid knn: unknown kNN method 'fast'"):
        sgtsne.TSNE(knn="fast").fit(X)
    with pytest.raises(TypeError, match="invalid max_iter"):
        sgtsne.TSNE(max_iter=10.5).fit(X)
    with pytest.raises(TypeError, match="invalid random_state"):
        sgtsne.TSNE(random_state="seven").fit(X)
    with pytest.raises(ValueError, match="invalid n_jobs"):
        sgtsne.TSNE(n_jobs=0).fit(X)


def test_given_init_is_the_start():
    X, _ = blobs(300)
    start = np.random.default_rng(1).normal(size=(300, 2))
    a = sgtsne.TSNE(init=start, max_iter=0).fit_transform(X)
    assert same_bytes(a, start)
    b = sgtsne.TSNE(init=start, **FAST).fit_transform(X)
    c = sgtsne.TSNE(init=start.astype(np.float32).astype(np.float64), **FAST).fit_transform(X)
    assert not same_bytes(b, sgtsne.TSNE(**FAST).fit_transform(X))
    assert np.isfinite(c).all()


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_starts_heavy_tails_and_exaggeration_match_the_cli(cli, tmp_path, dim):
    # Points and graphs, each with every start and the new schedule and
    # kernel options: the same bytes as the command line.
    X, _ = blobs(600, d=8, seed=dim)
    np.save(tmp_path / "x.npy", X)
    P = knn_graph(X, 8)
    P.data = np.ones(P.nnz)
    scipy.io.mmwrite(str(tmp_path / "g.mtx"), P)
    flags = ["--dim", str(dim), "-m", "300", "-e", "100", "--seed", "5", "--dof", "0.7",
             "--exaggeration", "1.5", "--late-exaggeration", "3", "--late-start", "250",
             "--repulsion", "grid", "--quiet"]
    kw = dict(random_state=5, dof=0.7, exaggeration=1.5, late_exaggeration=3.0, late_start=250,
              repulsion="grid", **FAST)
    for init in ["auto", "pca", "random"]:
        out = tmp_path / f"p-{init}.npy"
        run_cli(cli, str(tmp_path / "x.npy"), *flags, "--init", init, "-o", str(out))
        Y = sgtsne.TSNE(dim, init=init, **kw).fit_transform(X)
        assert same_bytes(Y, np.load(out)), init
    for init in ["auto", "spectral", "random"]:
        out = tmp_path / f"g-{init}.npy"
        run_cli(cli, str(tmp_path / "g.mtx"), *flags, "--init", init, "-o", str(out))
        Y = sgtsne.embed_graph(P, dim, init=init, **kw)
        assert same_bytes(Y, np.load(out)), init
    est = sgtsne.TSNE(dim, init="pca", **kw).fit(X)
    plan = est._model.plan()
    assert (plan["dof"], plan["exaggeration"], plan["late_exaggeration"], plan["late_start"]) == (0.7, 1.5, 3.0, 250)


def test_subsample_start_matches_the_cli(cli, tmp_path):
    # The large-data recipe: the same bytes as the command line, on any
    # number of threads; its steps show with verbose; graphs refuse it.
    X, _ = blobs(1500, d=8, seed=3)
    np.save(tmp_path / "x.npy", X)
    out = tmp_path / "s.npy"
    run_cli(cli, str(tmp_path / "x.npy"), "-m", "300", "-e", "100", "--seed", "5",
            "--init", "subsample:300", "--quiet", "-o", str(out))
    want = np.load(out)
    for j in (1, 2):
        Y = sgtsne.TSNE(init="subsample:300", random_state=5, n_jobs=j, **FAST).fit_transform(X)
        assert same_bytes(Y, want), j
    assert not same_bytes(want, sgtsne.TSNE(random_state=5, **FAST).fit_transform(X))
    with pytest.raises(ValueError, match="subsample:1500 needs between 100 and 1499"):
        sgtsne.TSNE(init="subsample:1500", **FAST).fit(X)
    with pytest.raises(ValueError, match="invalid init"):
        sgtsne.TSNE(init="subsample:lots").fit(X)
    with pytest.raises(ValueError, match="needs point coordinates"):
        sgtsne.embed_graph(knn_graph(X[:300], 8), init="subsample:100")


def test_unknown_init_is_refused():
    with pytest.raises(ValueError, match="invalid init"):
        sgtsne.TSNE(init="umap").fit(np.random.default_rng(0).normal(size=(50, 3)))


def test_bad_graphs():
    with pytest.raises(ValueError, match=r"matrix is not square \(3 x 4\); a graph needs an N x N matrix"):
        sgtsne.embed_graph(sp.random(3, 4, density=0.5, format="csr"))
    P = sp.csr_matrix(np.array([[0, 1.0, 0], [1.0, 0, -2.0], [0, 1.0, 0]]))
    with pytest.raises(ValueError, match=r"P: entry \(2, 3\): negative value -2.0: edge weights must be non-negative"):
        sgtsne.embed_graph(P)
    P = sp.csr_matrix(np.array([[0, 1.0], [np.nan, 0]]))
    with pytest.raises(ValueError, match="not finite"):
        sgtsne.embed_graph(P)
    with pytest.raises(TypeError, match="real weights|numeric"):
        sgtsne.embed_graph(sp.csr_matrix(np.eye(3, dtype=np.complex128)))
    with pytest.raises(ValueError, match="graph has no vertices"):
        sgtsne.embed_graph(sp.csr_matrix((0, 0)))
    with pytest.raises(ValueError, match="invalid n_components: must be 1, 2 or 3, got 0"):
        sgtsne.embed_graph(sp.eye(5, format="csr"), 0)


def test_get_and_set_params():
    est = sgtsne.TSNE(3, perplexity=12.0, lambda_=10.0)
    p = est.get_params()
    assert p["n_components"] == 3 and p["perplexity"] == 12.0 and p["lambda_"] == 10.0
    assert p["learning_rate"] == "auto" and p["max_iter"] == 1000
    est.set_params(max_iter=50, n_jobs=1)
    assert est.max_iter == 50 and est.n_jobs == 1
    with pytest.raises(ValueError):
        est.set_params(no_such_parameter=1)
    assert "TSNE(" in repr(est)


def test_scikit_learn_clone_and_is_fitted():
    sklearn = need("sklearn")
    from sklearn.base import BaseEstimator, clone
    from sklearn.utils.validation import check_is_fitted

    est = sgtsne.TSNE(3, lambda_=10.0, perplexity=12.0, **FAST)
    assert isinstance(est, BaseEstimator), sklearn.__version__
    c = clone(est)
    assert c.get_params() == est.get_params() and c is not est
    # lambda_ is a parameter, not fitted state.
    with pytest.raises(sklearn.exceptions.NotFittedError):
        check_is_fitted(est)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        est.transform(np.zeros((2, 8)))
    est.fit(blobs(200)[0])
    check_is_fitted(est)


@pytest.mark.filterwarnings("ignore:the KL has risen")  # a 16-node grid, on purpose
def test_grid_cap_and_near_split_match_the_cli(cli, tmp_path):
    # A 3D run wide enough for a 16-node cap to bind: with and without the
    # near/far split, the same bytes as the command line, and the split
    # changes the result (so the option reaches the engine).
    X, _ = blobs(1500, d=8, seed=4)
    np.save(tmp_path / "x.npy", X)
    flags = ["--dim", "3", "-m", "300", "-e", "100", "--repulsion", "grid", "--grid-max", "16", "--quiet"]
    runs = {}
    for near in [True, False]:
        out = tmp_path / f"near-{near}.npy"
        run_cli(cli, str(tmp_path / "x.npy"), *flags, *([] if near else ["--no-near-split"]), "-o", str(out))
        est = sgtsne.TSNE(3, repulsion="grid", grid_max=16, near_split=near, **FAST).fit(X)
        assert same_bytes(est.embedding_, np.load(out)), near
        assert est._model.plan()["near_split"] is near
        runs[near] = est.embedding_
    assert not same_bytes(runs[True], runs[False])
