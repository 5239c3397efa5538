"""The grid cap's cost and benefit on a real run, side by side in one go.

Runs `sgtsne POINTS --dim D --grid-max C` for each cap C (a huge cap = no
cap) and prints, per run: wall time, the 50-iteration times around
iteration 300 and at the end (and their ratio), the final KL, 10-NN
preservation (the share of each point's 10 nearest neighbours in the input
space that are among its 10 nearest in the embedding) and 10-NN label
accuracy.

    PY=~/.cache/sgtsne-peers/bin/python       # ../shared/bench/setup.sh
    $PY benches/grid_cap.py --points /tmp/fmnist/PCA50-70000.npy \
        --labels /tmp/fmnist/labels.txt --dim 3 --caps 1000000,96,72,64 --threads 2
"""

import argparse
import os
import re
import subprocess
import time

import numpy as np
from scipy.spatial import cKDTree


def input_neighbours(X, k, cache):
    if os.path.exists(cache):
        return np.load(cache)
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k + 1, algorithm="brute").fit(X)
    _, idx = nn.kneighbors(X)
    np.save(cache, idx[:, 1:])
    return idx[:, 1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", required=True)
    ap.add_argument("--labels")
    ap.add_argument("--dim", type=int, default=3)
    ap.add_argument("--caps", default="1000000,96,72,64")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sgtsne", default="target/release/sgtsne")
    ap.add_argument("--extra", default="")
    a = ap.parse_args()
    X = np.load(a.points)
    ref = input_neighbours(X, 10, a.points + ".nn10.npy")
    labels = np.loadtxt(a.labels, dtype=int) if a.labels else None
    print(f"{a.points}: n={len(X)}, dim={a.dim}, threads={a.threads}")
    print(f"{'cap':>8} {'seconds':>8} {'t50@300':>8} {'t50@end':>8} {'ratio':>6} {'KL':>7} {'pres@10':>8} {'acc@10':>7}")
    for cap in a.caps.split(","):
        out = f"/tmp/grid_cap_{cap}.npy"
        cmd = [a.sgtsne, a.points, "--dim", str(a.dim), "-p", str(a.threads), "--grid-max", cap, "-o", out]
        cmd += a.extra.split()
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t
        if r.returncode:
            raise SystemExit(r.stderr)
        t50 = {int(m[1]): float(m[2]) for m in re.finditer(r"iteration\s+(\d+): KL [\d.]+ \(([\d.]+) s\)", r.stderr)}
        kl = float(re.search(r"final KL ([\d.]+)", r.stderr)[1])
        Y = np.load(out)
        _, nn = cKDTree(Y).query(Y, k=11)
        nn = nn[:, 1:]
        pres = np.mean([len(set(a_) & set(b_)) / 10 for a_, b_ in zip(nn, ref)])
        acc = ""
        if labels is not None:
            votes = labels[nn]
            pred = np.array([np.bincount(v).argmax() for v in votes])
            acc = f"{(pred == labels).mean():.4f}"
        last = max(t50)
        print(f"{cap:>8} {wall:8.1f} {t50[300]:8.2f} {t50[last]:8.2f} {t50[last] / t50[300]:6.2f} {kl:7.4f} {pres:8.4f} {acc:>7}", flush=True)


if __name__ == "__main__":
    main()
