"""Random against informative starts, side by side in one run (issue 17).

Fashion-MNIST 70k (points, PCA-50): ours from random starts (3 seeds) and
from the default PCA start, and openTSNE with its default PCA start. The
pbmc graph (8,381 vertices): ours from random starts and from the default
spectral start (5 seeds each). For every run: wall seconds, final KL,
10-NN preservation and a global-structure score, the Spearman correlation
between the pairwise distances of cluster centroids in the input and in
the embedding.

Fashion-MNIST: clusters are the 10 classes; input centroids in PCA-50
space; 10-NN preservation against the exact 10 nearest neighbours in
PCA-50 space (computed here, the same way for every run).

pbmc (a graph, no input coordinates): clusters are the connected
components of at least 30 vertices of the graph's mutual 3-heaviest-edge
core (edge i-j kept when each is among the other's 3 largest P entries;
with 5 the core is one component);
the input distance of two clusters is the mean hop distance, on the whole
graph, from the vertices of one to the nearest vertex of the other
(averaged both ways). A second score uses the clusters single-cell tools
draw on such a graph: Louvain communities of P (modularity, the final
level, vertices visited in a seeded order), with the same hop distance.
10-NN preservation against each vertex's 10 heaviest edges.

    PY=~/.cache/sgtsne-peers/bin/python
    $PY benches/global_structure.py --threads 2 [--work /tmp/fmnist] \
        [--pbmc /tmp/pbmc-graph.mtx] [--plots docs/img]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.io
import scipy.sparse as sp
import scipy.sparse.csgraph as csg
from scipy.stats import spearmanr
from sklearn.neighbors import NearestNeighbors

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXTRA = []
BIN = os.environ.get("SGTSNE_BIN", os.path.join(ROOT, "target", "release", "sgtsne"))


def knn_sets(X, k=10):
    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="brute" if X.shape[1] > 3 else "kd_tree")
    idx = nn.fit(X).kneighbors(X, return_distance=False)
    out = []
    for i, row in enumerate(idx):
        row = [j for j in row if j != i][:k]
        out.append(row)
    return np.array(out)


def preservation(ref_sets, Y):
    emb = knn_sets(Y, ref_sets.shape[1])
    return float(np.mean([len(set(a) & set(b)) / len(a) for a, b in zip(ref_sets, emb)]))


def centroid_distances(Y, labels):
    """The distances between the class centroids of `Y` (classes in sorted
    order), as a square matrix."""
    cen = np.array([Y[labels == c].mean(axis=0) for c in sorted(set(labels.tolist()))])
    return np.linalg.norm(cen[:, None, :] - cen[None, :, :], axis=2)


def global_score(dist_in, labels, Y):
    iu = np.triu_indices(len(dist_in), 1)
    return float(spearmanr(dist_in[iu], centroid_distances(Y, labels)[iu]).correlation)


def ours(args, out, report, threads, plot=None, labels=None):
    cmd = [BIN, *args, *EXTRA, "--threads", str(threads), "-q", "-o", out, "--report", report]
    if plot:
        cmd += ["--plot", plot]
    if labels:
        cmd += ["--labels", labels]
    t = time.time()
    subprocess.run(cmd, check=True)
    secs = time.time() - t
    r = json.load(open(report))
    return np.loadtxt(out, ndmin=2), secs, r["kl"]


def row(name, secs, kl, pres, glob, extra=""):
    print(f"{name:<34} {secs:8.1f} {kl:8.4f} {pres:8.4f} {glob:8.4f} {extra}", flush=True)


def fashion(a):
    x50 = os.path.join(a.work, "PCA50.npy")
    lab = os.path.join(a.work, "labels.txt")
    if not os.path.exists(x50):
        sys.path.insert(0, os.path.join(ROOT, "..", "shared", "bench"))
        from points_peers import load_fmnist
        from sklearn.decomposition import PCA

        X, y = load_fmnist(70000)
        np.save(x50, PCA(50, random_state=0).fit_transform(X))
        np.savetxt(lab, y, fmt="%d")
    X = np.load(x50)
    y = np.loadtxt(lab, dtype=int)
    cache = os.path.join(a.work, "PCA50.nn10.npy")
    if os.path.exists(cache):
        ref = np.load(cache)
    else:
        ref = knn_sets(X)
        np.save(cache, ref)
    dist_in = centroid_distances(X, y)
    print(f"\nFashion-MNIST {len(y)} x 50 (PCA), 2D, {a.threads} threads")
    print(f"{'run':<34} {'seconds':>8} {'KL':>8} {'10-NN':>8} {'global':>8}")
    res = {}
    for seed in [] if "ours" in a.skip else a.seeds:
        for init in ["random", "pca"]:
            if init == "pca" and seed != a.seeds[0] and not a.all_seeds:
                continue
            plot = None
            if a.plots and seed == a.seeds[0]:
                plot = os.path.join(a.plots, f"fashion-{init}.png")
            Y, secs, kl = ours(
                [x50, "--init", init, "--seed", str(seed)],
                os.path.join(a.work, "o.txt"),
                os.path.join(a.work, "o.json"),
                a.threads,
                plot,
                lab,
            )
            p, g = preservation(ref, Y), global_score(dist_in, y, Y)
            res.setdefault(init, []).append((secs, kl, p, g))
            row(f"sgtsne --init {init} --seed {seed}", secs, kl, p, g)
    if a.plots and "ours" not in a.skip:
        ours(
            [x50, "--dof", "0.5"],
            os.path.join(a.work, "o.txt"),
            os.path.join(a.work, "o.json"),
            a.threads,
            os.path.join(a.plots, "fashion-dof05.png"),
            lab,
        )
    if "opentsne" not in a.skip:
        from openTSNE import TSNE

        for rs in a.opentsne_seeds:
            t = time.time()
            emb = TSNE(n_components=2, perplexity=30, n_jobs=a.threads, random_state=rs).fit(X)
            secs = time.time() - t
            Y = np.asarray(emb)
            g = global_score(dist_in, y, Y)
            res.setdefault("openTSNE", []).append((secs, float(emb.kl_divergence), preservation(ref, Y), g))
            row(f"openTSNE (default PCA start) random_state {rs}", secs, float(emb.kl_divergence),
                preservation(ref, Y), g, "(KL: openTSNE's own)")
    for k, v in res.items():
        m = np.mean(np.array(v), axis=0)
        sd = np.std(np.array(v)[:, 3], ddof=1) if len(v) > 1 else 0.0
        name = k if k == "openTSNE" else f"sgtsne --init {k}"
        row(f"mean of {name} ({len(v)})", *m, f"(global sd {sd:.3f})")


def pbmc_clusters(P, k=3, min_size=30):
    P = sp.csr_matrix(P)
    n = P.shape[0]
    top = []
    for i in range(n):
        s, e = P.indptr[i], P.indptr[i + 1]
        cols, vals = P.indices[s:e], P.data[s:e]
        order = np.lexsort((cols, -vals))[:k]
        top.append(set(cols[order].tolist()))
    rows, cols = [], []
    for i in range(n):
        for j in top[i]:
            if i in top[j]:
                rows.append(i)
                cols.append(j)
    M = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    _, comp = csg.connected_components(M, directed=False)
    sizes = np.bincount(comp)
    keep = np.where(sizes >= min_size)[0]
    labels = np.full(n, -1)
    for c, k_ in enumerate(keep):
        labels[comp == k_] = c
    return labels, cluster_hops(P, labels)


def cluster_hops(P, labels):
    """Mean hop distance between clusters on the whole graph: from each
    vertex of one to the nearest vertex of the other, averaged both ways
    (vertices labelled -1 belong to no cluster)."""
    A = (P != 0).astype(float)
    nc = labels.max() + 1
    hops = np.zeros((nc, nc))
    for c in range(nc):
        src = np.where(labels == c)[0]
        # Multi-source BFS: a virtual source joined to the cluster.
        d = csg.dijkstra(A, unweighted=True, indices=src, min_only=True)
        for c2 in range(nc):
            hops[c, c2] = d[labels == c2].mean()
    return (hops + hops.T) / 2


def louvain_level(W, rng):
    """One level of Louvain: vertices move, in a random order, to the
    neighbouring community of largest modularity gain until none moves.
    Returns the communities (0..c) and whether any vertex moved."""
    n = W.shape[0]
    k = np.asarray(W.sum(axis=1)).ravel()
    m2 = k.sum()
    comm = np.arange(n)
    tot = k.copy()
    ip, ix, dv = W.indptr, W.indices, W.data
    moved_any, moved = False, True
    while moved:
        moved = False
        for i in rng.permutation(n):
            ci = comm[i]
            links = {}
            for j, w in zip(ix[ip[i]:ip[i + 1]], dv[ip[i]:ip[i + 1]]):
                if j != i:
                    links[comm[j]] = links.get(comm[j], 0.0) + w
            tot[ci] -= k[i]
            best, gain = ci, links.get(ci, 0.0) - tot[ci] * k[i] / m2
            for c, w in links.items():
                g = w - tot[c] * k[i] / m2
                if g > gain + 1e-12:
                    best, gain = c, g
            tot[best] += k[i]
            if best != ci:
                comm[i] = best
                moved = moved_any = True
    return np.unique(comm, return_inverse=True)[1], moved_any


def louvain(P, seed=0):
    """Louvain communities of the symmetric weighted graph P (its final,
    coarsest level)."""
    rng = np.random.default_rng(seed)
    W = sp.csr_matrix(P)
    labels = np.arange(W.shape[0])
    while True:
        comm, moved = louvain_level(W, rng)
        if not moved:
            return labels
        labels = comm[labels]
        nc = comm.max() + 1
        M = sp.csr_matrix((np.ones(len(comm)), (comm, np.arange(len(comm)))), shape=(nc, len(comm)))
        W = (M @ W @ M.T).tocsr()


def graph_sets(P, k=10):
    P = sp.csr_matrix(P)
    out = []
    for i in range(P.shape[0]):
        s, e = P.indptr[i], P.indptr[i + 1]
        cols, vals = P.indices[s:e], P.data[s:e]
        m = cols != i
        cols, vals = cols[m], vals[m]
        out.append(cols[np.lexsort((cols, -vals))[:k]].tolist())
    return out


def pbmc(a):
    path = a.pbmc
    A = scipy.io.mmread(path).tocsc().astype(float)
    # SPEC §1-3: columns stochastic, lambda 10 is applied by the engine; for
    # the clusters and heaviest edges the symmetrised column-stochastic P
    # is enough (lambda-rescaling keeps each column's order).
    cs = np.asarray(A.sum(axis=0)).ravel()
    cs[cs == 0] = 1
    Pc = A @ sp.diags(1 / cs)
    P = (Pc + Pc.T).tocsr()
    labels, hops = pbmc_clusters(P)
    Pz = P.copy()
    Pz.setdiag(0)
    Pz.eliminate_zeros()
    louv = louvain(Pz)
    louv_hops = cluster_hops(P, louv)
    sets = graph_sets(P)
    m = labels >= 0
    print(f"\npbmc graph, {P.shape[0]} vertices, 2D, lambda 10, {a.threads} threads; "
          f"core clusters: {labels.max() + 1} covering {m.sum()} vertices; "
          f"Louvain: {louv.max() + 1} communities of "
          f"{', '.join(map(str, sorted(np.bincount(louv).tolist(), reverse=True)))} vertices")
    print(f"{'run':<34} {'seconds':>8} {'KL':>8} {'10-NN':>8} {'global':>8} {'Louvain':>8}")
    res = {}
    for seed in a.seeds + [s + 100 for s in a.seeds]:
        for init in ["random", "spectral"]:
            Y, secs, kl = ours(
                [path, "--lambda", "10", "--init", init, "--seed", str(seed)],
                os.path.join(a.work, "g.txt"),
                os.path.join(a.work, "g.json"),
                a.threads,
            )
            emb = knn_sets(Y, 10)
            p = float(np.mean([len(set(s) & set(e[: len(s)])) / len(s) for s, e in zip(sets, emb) if s]))
            g = global_score(hops, labels[m], Y[m])
            gl = global_score(louv_hops, louv, Y)
            res.setdefault(init, []).append((secs, kl, p, g, gl))
            row(f"sgtsne --init {init} --seed {seed}", secs, kl, p, g, f"{gl:8.4f}")
    for k, v in res.items():
        v = np.array(v)
        m_ = v.mean(axis=0)
        sd = v.std(axis=0, ddof=1)
        row(f"mean of sgtsne --init {k} ({len(v)})", *m_[:4],
            f"{m_[4]:8.4f} (sd {sd[3]:.3f}, {sd[4]:.3f}; worst {v[:, 3].min():.3f}, {v[:, 4].min():.3f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(), "fmnist"))
    ap.add_argument("--pbmc", default=os.path.join(tempfile.gettempdir(), "pbmc-graph.mtx"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--all-seeds", action="store_true", help="also run the PCA start with every seed")
    ap.add_argument("--plots", help="directory for the README's pictures")
    ap.add_argument("--ours-args", default="", help="more flags for every sgtsne run, e.g. '--momentum 0.8'")
    ap.add_argument("--opentsne-seeds", type=int, nargs="+", default=[1],
                    help="openTSNE's random_state for each of its runs (its Annoy search draws from it)")
    ap.add_argument("--skip", default="", help="comma list: fashion, pbmc, opentsne, ours")
    a = ap.parse_args()
    EXTRA.extend(a.ours_args.split())
    os.makedirs(a.work, exist_ok=True)
    if a.plots:
        os.makedirs(a.plots, exist_ok=True)
    print(f"sgtsne {BIN}")
    if "pbmc" not in a.skip:
        if not os.path.exists(a.pbmc):
            subprocess.run(["tar", "xzf", os.path.join(ROOT, "..", "shared", "data", "sgtsnepi", "pbmc-graph.tar.gz"),
                            "-C", os.path.dirname(a.pbmc)], check=True)
        pbmc(a)
    if "fashion" not in a.skip:
        fashion(a)


if __name__ == "__main__":
    main()
