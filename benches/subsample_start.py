"""The subsample start against the default PCA start, side by side in one
run (issue 19): for each start, wall seconds, peak RSS, final KL, 10-NN
preservation and label accuracy (from the run's own report) and the
global-structure score, the Spearman correlation between the pairwise
distances of the label centroids in the input and in the embedding.

    python3 ../shared/bench/gen_mixture.py /tmp/mix13
    PY=~/.cache/sgtsne-peers/bin/python
    $PY benches/subsample_start.py /tmp/mix13 --threads 2 \
        [--inits pca,subsample] [--dim 2] [--work /tmp/subsample-bench]

INPUT is a directory holding points.npy and labels.txt (gen_mixture.py's
output), or a .npy file of points with --labels FILE (one integer per
line), e.g. Fashion-MNIST's PCA-50 from benches/global_structure.py.
"""

import argparse
import json
import os
import subprocess
import time

import numpy as np
from scipy.stats import spearmanr

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.join(os.path.dirname(HERE), "target", "release", "sgtsne")


def centroid_distances(X, labels, classes):
    cen = np.array([np.asarray(X[labels == c], dtype=np.float64).mean(axis=0) for c in classes])
    iu = np.triu_indices(len(classes), 1)
    return np.linalg.norm(cen[:, None, :] - cen[None, :, :], axis=2)[iu]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("--labels")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dim", type=int, default=2)
    ap.add_argument("--inits", default="pca,subsample")
    ap.add_argument("--work", default="/tmp/subsample-bench")
    ap.add_argument("--bin", default=BIN)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    if a.input.endswith(".npy"):
        pts, lab = a.input, a.labels
    else:
        pts, lab = os.path.join(a.input, "points.npy"), os.path.join(a.input, "labels.txt")
    X = np.load(pts, mmap_mode="r")
    y = np.loadtxt(lab, dtype=int)
    classes = np.unique(y)
    d_in = centroid_distances(X, y, classes)
    print(f"{X.shape[0]} x {X.shape[1]}, {len(classes)} labels, {a.dim}D, {a.threads} threads", flush=True)
    print(f"{'start':<18} {'seconds':>8} {'RSS GB':>7} {'KL':>8} {'10-NN':>7} {'labels':>7} {'global':>7}  prepare phases (s)", flush=True)
    for init in a.inits.split(","):
        tag = init.replace(":", "-")
        out = os.path.join(a.work, f"{tag}-{a.dim}d.npy")
        rep = os.path.join(a.work, f"{tag}-{a.dim}d.json")
        log = os.path.join(a.work, f"{tag}-{a.dim}d.log")
        cmd = ["/usr/bin/time", "-f", "%M", a.bin, pts, "--perplexity", "30", "--dim", str(a.dim),
               "--threads", str(a.threads), "--init", init, "--labels", lab, "-o", out, "--report", rep]
        t = time.time()
        with open(log, "w") as f:
            subprocess.run(cmd, check=True, stderr=f)
        secs = time.time() - t
        rss_kib = int(open(log).read().strip().splitlines()[-1])
        r = json.load(open(rep))
        Y = np.load(out)
        g = spearmanr(d_in, centroid_distances(Y, y, classes)).correlation
        q = r["quality"]
        ph = " ".join(f"{k} {v:.1f}" for k, v in r["seconds"]["prepare_phases"].items())
        print(f"{init:<18} {secs:8.1f} {rss_kib * 1024 / 1e9:7.2f} {r['kl']:8.4f} "
              f"{q['preservation_10nn']['value']:7.4f} {q.get('label_accuracy_10nn', float('nan')):7.4f} "
              f"{g:7.4f}  {ph}", flush=True)


if __name__ == "__main__":
    main()
