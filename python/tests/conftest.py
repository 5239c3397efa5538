import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]


def need(module: str):
    """Imports an optional test dependency: skipped when missing, except
    under CI, where a test that cannot run its check must fail."""
    if os.environ.get("CI"):
        return __import__(module)
    return pytest.importorskip(module)


@pytest.fixture(scope="session")
def cli() -> Path:
    """The sgtsne binary of this checkout, built by `cargo test --release`
    (or named by SGTSNE_BIN). Missing, the tests that compare with it fail:
    they cannot be checked any other way."""
    env = os.environ.get("SGTSNE_BIN")
    path = Path(env) if env else REPO / "target" / "release" / "sgtsne"
    if not path.exists():
        found = shutil.which("sgtsne")
        if found is None:
            pytest.fail(f"no sgtsne binary at {path}: run `cargo build --release` first or set SGTSNE_BIN")
        path = Path(found)
    return path


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def run_cli(cli: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    """Runs the binary in a process limited to 4 GiB of address space;
    with `ok`, it must succeed."""
    r = subprocess.run(
        [str(cli), *args],
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=_limit_memory,
    )
    if ok:
        assert r.returncode == 0, r.stderr
    return r


def blobs(n: int = 600, d: int = 8, k: int = 4, seed: int = 0) -> tuple:
    """Points in `k` well-separated Gaussian clusters, and their labels."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=8.0, size=(k, d))
    labels = rng.integers(0, k, size=n)
    return centres[labels] + rng.normal(size=(n, d)), labels


def knn_graph(X: np.ndarray, k: int = 10):
    """A symmetric 0/1 kNN graph (scipy CSR) by brute force."""
    import scipy.sparse as sp

    d2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    nn = np.argsort(d2, axis=1)[:, :k]
    n = X.shape[0]
    g = sp.csr_matrix((np.ones(n * k), (np.repeat(np.arange(n), k), nn.ravel())), shape=(n, n))
    return ((g + g.T) > 0).astype(np.float64).tocsr()
