"""Placing held-out vertices of a graph by their edges.

Fit the graph without a seeded random 10% of its vertices (`--save`), place
those vertices by their edges to the others (`sgtsne transform`), and report
how many of each placed vertex's 10 nearest embedding neighbours (among the
fitted vertices) are its graph neighbours; the same for the same vertices in
a fit of the whole graph, as the reference.

    PY=~/.cache/sgtsne-peers/bin/python      # ../shared/bench/setup.sh
    $PY benches/transform_graph.py pbmc-graph.mtx --sgtsne target/release/sgtsne
"""

import argparse
import os
import subprocess
import time

import numpy as np
import scipy.io
import scipy.sparse as sp
from scipy.spatial import cKDTree


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("graph")
    ap.add_argument("--sgtsne", default="target/release/sgtsne")
    ap.add_argument("--dim", default="2")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--work", default="/tmp/sgtsne-transform-graph")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    w = lambda f: os.path.join(a.work, f)
    g = sp.csc_matrix(scipy.io.mmread(a.graph))
    n = g.shape[0]
    rng = np.random.default_rng(2026)
    held = np.sort(rng.choice(n, n // 10, replace=False))
    keep = np.setdiff1d(np.arange(n), held)
    scipy.io.mmwrite(w("fit.mtx"), g[keep][:, keep])
    # Column j: held-out vertex j's out-weights to the fitted vertices.
    scipy.io.mmwrite(w("new.mtx"), g[keep][:, held])
    p = ["-d", a.dim, "-p", a.threads, "-q"]
    subprocess.run([a.sgtsne, w("fit.mtx"), "--save", w("m.npz"), "-o", w("fit.txt")] + p, check=True)
    t = time.time()
    subprocess.run([a.sgtsne, "transform", w("m.npz"), w("new.mtx"), "-o", w("new.txt")] + p[2:], check=True)
    tf = time.time() - t
    subprocess.run([a.sgtsne, a.graph, "-o", w("full.txt")] + p, check=True)

    sym = (g + g.T).tocsr()
    pos = {v: i for i, v in enumerate(keep)}

    def score(ref_y, held_y):
        _, nn = cKDTree(ref_y).query(held_y, k=10)
        hits = 0
        for r, v in enumerate(held):
            nbrs = {pos[u] for u in sym[v].indices if u in pos}
            hits += sum(1 for u in nn[r] if u in nbrs)
        return hits / (10 * len(held))

    fit, new, full = (np.loadtxt(w(f)).reshape(-1, int(a.dim)) for f in ("fit.txt", "new.txt", "full.txt"))
    placed = score(fit, new)
    whole = score(full[keep], full[held])
    print(f"{len(held)} of {n} vertices held out; transform {tf:.2f} s")
    print(f"placed by their edges: {placed:.4f} of their 10 embedding neighbours are graph neighbours")
    print(f"same vertices in a full fit: {whole:.4f}")


if __name__ == "__main__":
    main()
