#!/usr/bin/env python3
"""The Python package side by side with the Python peers, in one run.

Fashion-MNIST (70,000 images, pixels/255, PCA to 50 dimensions, computed once
and cached in --work), embedded in 2D by sgtsne.TSNE(2), openTSNE.TSNE() and,
on a seeded 10,000-image subsample (all scikit-learn can do in minutes),
sklearn.manifold.TSNE, with sgtsne and openTSNE run on that subsample too.
Every run gets the same array and `--threads` threads; each is timed as a
whole (neighbours, affinities, optimisation) and scored by 10-NN label
accuracy: the majority label of a point's 10 nearest embedding neighbours.

    bash ../shared/bench/setup.sh                    # once: the peers' venv
    PY=~/.cache/sgtsne-peers/bin/python
    $PY -m pip install ./python                      # this package into it
    $PY python/bench/fashion.py --threads 2

Options: --n (default 70000), --sub (10000), --skip sklearn,opentsne,full.
"""

import argparse
import gzip
import os
import tempfile
import time

import numpy as np

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "fashion-mnist")


def load(n):
    def idx(name, off):
        with gzip.open(os.path.join(DATA, name)) as f:
            return np.frombuffer(f.read(), np.uint8, offset=off)

    X = np.vstack([idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784),
                   idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784)])
    y = np.concatenate([idx("train-labels-idx1-ubyte.gz", 8), idx("t10k-labels-idx1-ubyte.gz", 8)])
    return X[:n] / 255.0, y[:n]


def accuracy(Y, y, k=10):
    from scipy.spatial import cKDTree

    _, nn = cKDTree(Y).query(Y, k=k + 1)
    votes = y[nn[:, 1:]]
    pred = np.array([np.bincount(v, minlength=10).argmax() for v in votes])
    return float((pred == y).mean())


def timed(name, f, y, rows):
    t = time.perf_counter()
    Y = np.asarray(f())
    s = time.perf_counter() - t
    rows.append((name, s, accuracy(Y, y)))
    print(f"{name:<28} {s:9.1f} {rows[-1][2]:7.3f}", flush=True)
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=70000)
    ap.add_argument("--sub", type=int, default=10000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "fmnist"))
    ap.add_argument("--skip", default="")
    a = ap.parse_args()
    skip = set(a.skip.split(","))
    os.environ["OMP_NUM_THREADS"] = str(a.threads)
    os.makedirs(a.work, exist_ok=True)
    cache = os.path.join(a.work, f"PCA50-{a.n}.npy")
    X, y = load(a.n)
    if not os.path.exists(cache):
        from sklearn.decomposition import PCA

        np.save(cache, PCA(50, random_state=0).fit_transform(X).astype(np.float32))
    P = np.load(cache)
    sub = np.sort(np.random.default_rng(0).choice(len(y), size=min(a.sub, len(y)), replace=False))

    import sgtsne

    print(f"Fashion-MNIST PCA-50, n={len(y)} (subsample {len(sub)}), threads={a.threads}, sgtsne {sgtsne.__version__}")
    print(f"{'run':<28} {'seconds':>9} {'acc@10':>7}")
    rows = []
    t = {}
    if "full" not in skip:
        t["ours"] = timed(f"sgtsne.TSNE(2) n={len(y)}", lambda: sgtsne.TSNE(2, n_jobs=a.threads).fit_transform(P), y, rows)
        if "opentsne" not in skip:
            import openTSNE

            t["open"] = timed(f"openTSNE.TSNE() n={len(y)}",
                              lambda: openTSNE.TSNE(n_jobs=a.threads, random_state=0).fit(P), y, rows)
            print(f"ratio sgtsne/openTSNE n={len(y)}: {t['ours'] / t['open']:.3f}")
    Ps, ys = P[sub], y[sub]
    t["ours_s"] = timed(f"sgtsne.TSNE(2) n={len(sub)}", lambda: sgtsne.TSNE(2, n_jobs=a.threads).fit_transform(Ps), ys, rows)
    if "opentsne" not in skip:
        import openTSNE

        t["open_s"] = timed(f"openTSNE.TSNE() n={len(sub)}",
                            lambda: openTSNE.TSNE(n_jobs=a.threads, random_state=0).fit(Ps), ys, rows)
        print(f"ratio sgtsne/openTSNE n={len(sub)}: {t['ours_s'] / t['open_s']:.3f}")
    if "sklearn" not in skip:
        from sklearn.manifold import TSNE

        t["sk_s"] = timed(f"sklearn TSNE n={len(sub)}",
                          lambda: TSNE(2, n_jobs=a.threads, random_state=0).fit_transform(Ps), ys, rows)
        print(f"ratio sgtsne/sklearn n={len(sub)}: {t['ours_s'] / t['sk_s']:.3f}")


if __name__ == "__main__":
    main()
