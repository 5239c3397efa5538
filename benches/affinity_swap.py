"""Issue 17: is openTSNE's higher global score on Fashion-MNIST in its
affinities? Builds openTSNE's conditional affinities (its Annoy search and
its exact search, its Gaussian calibration) as Matrix Market graphs, and
runs our optimiser on each and on our own kNN graph from one PCA start;
prints KL and the global score (Spearman correlation of the 10 class
centroids' pairwise distances, input against embedding) of each.

    PY=~/.cache/sgtsne-peers/bin/python
    $PY benches/affinity_swap.py --work /tmp/p17 [--fmnist /tmp/fmnist]

--fmnist holds PCA50.npy and labels.txt (benches/global_structure.py makes them).
"""
import argparse, os, time, json, subprocess, numpy as np
from openTSNE import affinity
from global_structure import centroid_distances, global_score
from tsne_exact import conditional_graph
ap = argparse.ArgumentParser()
ap.add_argument("--work", default="/tmp/p17")
ap.add_argument("--fmnist", default="/tmp/fmnist")
a = ap.parse_args()
os.makedirs(a.work, exist_ok=True)
W = a.work
X = np.load(os.path.join(a.fmnist, "PCA50.npy")); y = np.loadtxt(os.path.join(a.fmnist, "labels.txt"), dtype=int)
n = len(X)
BIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "target", "release", "sgtsne")
D_IN = centroid_distances(X, y)
# start: PCA top-2 of X, sign fixed, std 1e-4
Xc = X - X.mean(0); U, S, Vt = np.linalg.svd(Xc[:, :], full_matrices=False)
Z = Xc @ Vt[:2].T
for c in range(2):
    if Z[np.argmax(np.abs(Z[:, c])), c] < 0: Z[:, c] *= -1
Z = Z / Z[:, 0].std() * 1e-4
np.save(W + "/start.npy", Z)

for method in ["annoy", "exact"]:
    t = time.time()
    aff = affinity.PerplexityBasedNN(X, perplexity=30, method=method, n_jobs=2, random_state=1, verbose=False)
    nbr, dist = aff._PerplexityBasedNN__neighbors, aff._PerplexityBasedNN__distances
    print(method, "knn", round(time.time() - t, 1), "s", nbr.shape, flush=True)
    np.save(f"{W}/{method}_nbr.npy", nbr)
    conditional_graph(nbr, dist, f"{W}/{method}.mtx")
subprocess.run([BIN, "graph", os.path.join(a.fmnist, "PCA50.npy"), "-q", "-o", W + "/ours.mtx"], check=True)
ex = np.load(W + "/exact_nbr.npy"); an = np.load(W + "/annoy_nbr.npy")
rec = np.mean([len(set(p) & set(q)) / len(p) for p, q in zip(an, ex)])
print("annoy recall@90 vs exact", round(rec, 4), flush=True)
for g in ["ours", "annoy", "exact"]:
    out = f"{W}/{g}.txt"
    subprocess.run([BIN, f"{W}/{g}.mtx", "--init", W + "/start.npy", "-q", "-o", out, "--report", f"{W}/{g}.json"], check=True)
    Y = np.loadtxt(out); r = json.load(open(f"{W}/{g}.json"))
    print(g, "KL", round(r["kl"], 4), "global", round(global_score(D_IN, y, Y), 4), flush=True)
