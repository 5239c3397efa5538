"""Issue 17: openTSNE's optimiser and ours on one P, from the same starts.

Builds openTSNE's exact-search affinities of Fashion-MNIST (PCA-50,
perplexity 30) once, writes their conditional form as a Matrix Market graph
(our pipeline symmetrises it to the same P, checked below), and makes
openTSNE's jittered PCA starts (`initialization.pca(X, random_state=s)`).
From each start it runs openTSNE's optimiser (250 iterations at
exaggeration 12, then exaggeration 1, momentum 0.8 throughout, its FFT
gradient) and ours (`--momentum 0.8`, the points default), and prints,
after each requested total iteration count, the global score (Spearman
correlation of the 10 class centroids' pairwise distances, input against
embedding), the exact KL on that P (O(N^2), numpy) and the embedding's
spread (standard deviation of the first coordinate).

    PY=~/.cache/sgtsne-peers/bin/python
    $PY benches/optimiser_swap.py [--fmnist /tmp/fmnist] [--work /tmp/p17] \
        [--starts 1 2 3 4] [--iters 750 1000 1250] [--affinities exact|annoy] [--no-kl]

--affinities annoy uses openTSNE's default search instead (Annoy, seeded with
the start's number, as `TSNE(random_state=s)` does), so P changes with the
start and openTSNE's run is its default run; --no-kl skips the O(N^2) KL.
Both optimisers' embeddings stay in --work (opentsne[annoy]S_I.npy,
ours[annoy]S_I.npy) for benches/centroid_ranks.py.

--fmnist holds PCA50.npy and labels.txt (benches/global_structure.py makes them).
"""
import argparse
import os
import subprocess

import numpy as np
from openTSNE import TSNEEmbedding, affinity, initialization

from global_structure import centroid_distances, global_score
from tsne_exact import conditional_graph, exact_repulsion

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--fmnist", default="/tmp/fmnist")
ap.add_argument("--work", default="/tmp/p17")
ap.add_argument("--starts", type=int, nargs="+", default=[1, 2, 3, 4])
ap.add_argument("--iters", type=int, nargs="+", default=[750, 1000, 1250])
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--affinities", choices=["exact", "annoy"], default="exact")
ap.add_argument("--no-kl", action="store_true")
a = ap.parse_args()
os.makedirs(a.work, exist_ok=True)
W = a.work
BIN = os.environ.get("SGTSNE_BIN", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                "target", "release", "sgtsne"))
X = np.load(os.path.join(a.fmnist, "PCA50.npy"))
y = np.loadtxt(os.path.join(a.fmnist, "labels.txt"), dtype=int)
n = len(X)
D_IN = centroid_distances(X, y)
TAG = "" if a.affinities == "exact" else "annoy"


def affinities(seed):
    """openTSNE's affinities, written as a graph our pipeline symmetrises to
    the same P (asserted); returns the affinity object, the graph's path and
    P (COO)."""
    aff = affinity.PerplexityBasedNN(X, perplexity=30, method=a.affinities, n_jobs=a.threads, random_state=seed,
                                     verbose=False)
    nbr, dist = aff._PerplexityBasedNN__neighbors, aff._PerplexityBasedNN__distances
    graph = os.path.join(W, "exact.mtx" if a.affinities == "exact" else f"annoy{seed}.mtx")
    M = conditional_graph(nbr, dist, graph, threads=a.threads)
    P = ((M + M.T) / (2 * n)).tocoo()
    assert abs(P.tocsr() - aff.P.tocsr()).max() < 1e-15, "our symmetrisation differs from openTSNE's P"
    return aff, graph, P


def exact_kl(P, Y):
    if a.no_kl:
        return float("nan")
    _, z = exact_repulsion(Y, forces=False)
    d2 = ((Y[P.row] - Y[P.col]) ** 2).sum(1)
    return float((P.data * np.log(P.data)).sum()) + float((P.data * np.log1p(d2)).sum()) + np.log(z)


def row(who, s, it, Y, P):
    g = global_score(D_IN, y, Y)
    print(f"{who:<9} {s:>5} {it:>6} {g:>8.4f} {exact_kl(P, Y):>9.4f} {Y[:, 0].std():>7.2f}", flush=True)
    return g


print(f"{'optimiser':<9} {'start':>5} {'iters':>6} {'global':>8} {'exact KL':>9} {'spread':>7}")
scores = {}
shared = affinities(1) if a.affinities == "exact" else None
for s in a.starts:
    aff, graph, P = shared or affinities(s)
    init = np.asarray(initialization.pca(X, random_state=s))
    start = os.path.join(W, f"start{s}.npy")
    np.save(start, init)
    emb = TSNEEmbedding(init.copy(), aff, n_jobs=a.threads, random_state=s)
    emb = emb.optimize(250, exaggeration=12, momentum=0.8)
    # In pieces: the optimiser's velocities and gains carry over, so this is one run.
    snaps, done = {}, 250
    for it in sorted(a.iters):
        emb = emb.optimize(it - done, momentum=0.8)
        snaps[it], done = np.array(emb), it
        np.save(os.path.join(W, f"opentsne{TAG}{s}_{it}.npy"), snaps[it])
    for it in a.iters:
        scores.setdefault(("openTSNE", it), []).append(row("openTSNE", s, it, snaps[it], P))
    for it in a.iters:
        out = os.path.join(W, f"ours{TAG}{s}_{it}.npy")
        subprocess.run([BIN, graph, "--init", start, "--momentum", "0.8", "--max-iter", str(it),
                        "--threads", str(a.threads), "-q", "-o", out], check=True)
        scores.setdefault(("sgtsne", it), []).append(row("sgtsne", s, it, np.load(out), P))
print()
for (who, it), v in sorted(scores.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    sd = np.std(v, ddof=1) if len(v) > 1 else 0.0
    print(f"{who:<9} {it:>6} iterations: global {np.mean(v):.4f} +- {sd:.4f} over {len(v)} starts")
