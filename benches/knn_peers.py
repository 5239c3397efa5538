"""Approximate k-nearest neighbours: sgtsne's NN-descent against PyNNDescent.

Both run on the same points with the same thread count, one after the
other in one invocation, each in a fresh process (PyNNDescent's time
includes numba's compilation, which its users pay on every fresh run).
Recall is measured the same way for both on the same 1,000 seeded query
points: the share of each point's k reported neighbours that are no
farther than its true k-th nearest neighbour (exact, in float64).

    python3 -m venv /tmp/pynn && /tmp/pynn/bin/pip install pynndescent
    /tmp/pynn/bin/python benches/knn_peers.py POINTS.npy --threads 2 \
        --bench target/release/sgtsne-bench
"""

import argparse
import os
import re
import subprocess
import sys
import time

import numpy as np


def exact_kth(x, rows, k):
    """Distance of each sampled row to its k-th nearest other point."""
    out = np.empty(len(rows))
    sq = np.einsum("ij,ij->i", x, x)
    for s in range(0, len(rows), 50):
        r = rows[s : s + 50]
        d2 = sq[r][:, None] + sq[None, :] - 2.0 * x[r] @ x.T
        d2[np.arange(len(r)), r] = np.inf
        out[s : s + 50] = np.sqrt(np.maximum(np.partition(d2, k - 1, axis=1)[:, k - 1], 0.0))
    return out


def recall(x, rows, found, kth):
    hits = 0
    for q, i in enumerate(rows):
        nb = found[q]
        d = np.sqrt(((x[nb] - x[i]) ** 2).sum(axis=1))
        hits += int((d <= kth[q] * (1 + 1e-12)).sum())
    return hits / (len(rows) * found.shape[1])


def child(a):
    # Runs in a fresh process so numba's threads and compile cache start cold.
    import pynndescent

    x = np.load(a.points).astype(np.float32)
    t = time.time()
    index = pynndescent.NNDescent(
        x, n_neighbors=a.k + 1, random_state=1, n_jobs=a.threads, low_memory=True
    )
    nn, _ = index.neighbor_graph
    secs = time.time() - t
    np.save(a.out, nn)
    print(f"seconds {secs:.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("points")
    ap.add_argument("--k", type=int, default=90)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bench", default="target/release/sgtsne-bench")
    ap.add_argument("--sample", type=int, default=1000)
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--out", default="/tmp/pynndescent-nn.npy")
    a = ap.parse_args()
    if a.child:
        return child(a)
    env = dict(os.environ, RAYON_NUM_THREADS=str(a.threads), NUMBA_NUM_THREADS=str(a.threads))

    t = time.time()
    ours = subprocess.run(
        [a.bench, "knn", a.points, "--k", str(a.k), "--skip-exact"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    ours_wall = time.time() - t
    ours_secs = float(re.search(r"nn-descent ([0-9.]+) s", ours).group(1))
    ours_recall = float(re.search(r"sampled points ([0-9.]+)", ours).group(1))

    t = time.time()
    theirs = subprocess.run(
        [sys.executable, __file__, a.points, "--child", "--k", str(a.k),
         "--threads", str(a.threads), "--out", a.out],
        env=env, capture_output=True, text=True, check=True,
    ).stdout
    theirs_wall = time.time() - t
    theirs_secs = float(re.search(r"seconds ([0-9.]+)", theirs).group(1))

    x = np.load(a.points).astype(np.float64)
    rng = np.random.default_rng(1)
    rows = rng.choice(x.shape[0], min(a.sample, x.shape[0]), replace=False)
    kth = exact_kth(x, rows, a.k)
    nn = np.load(a.out)
    # PyNNDescent lists the point itself first; drop it (or the farthest
    # entry when a duplicate point took its place).
    found = np.array([[j for j in nn[i] if j != i][: a.k] for i in rows])
    theirs_recall = recall(x, rows, found, kth)

    print(f"{x.shape[0]} points x {x.shape[1]} dims, k = {a.k}, {a.threads} threads")
    print(f"{'':<14} {'search s':>9} {'process s':>10} {'recall':>7}")
    print(f"{'sgtsne':<14} {ours_secs:>9.1f} {ours_wall:>10.1f} {ours_recall:>7.4f}")
    print(f"{'PyNNDescent':<14} {theirs_secs:>9.1f} {theirs_wall:>10.1f} {theirs_recall:>7.4f}")
    print(f"ratio (sgtsne / PyNNDescent, search): {ours_secs / theirs_secs:.2f}")


if __name__ == "__main__":
    main()
