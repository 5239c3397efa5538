"""Placing new points, side by side with openTSNE, in one run.

Fit Fashion-MNIST's 60,000 training images (PCA-50, perplexity 30, 2D), then
place its 10,000 test images into that embedding, with ours (`sgtsne
--save` + `sgtsne transform`) and with openTSNE (`TSNE.fit` +
`TSNEEmbedding.transform`). Prints each step's wall time and the 10-NN label
accuracy of the placed test images (their 10 nearest training images in the
embedding vote), and the ceiling: the same accuracy when all 70,000 images
are embedded together by us.

    PY=~/.cache/sgtsne-peers/bin/python      # ../shared/bench/setup.sh
    $PY benches/transform_peers.py --threads 2 --sgtsne target/release/sgtsne
"""

import argparse
import gzip
import os
import re
import subprocess
import time

import numpy as np
from scipy.spatial import cKDTree

DATA = os.path.join(os.path.dirname(__file__), "../../shared/data/fashion-mnist")


def idx(name, offset):
    b = gzip.open(os.path.join(DATA, name)).read()
    return np.frombuffer(b, np.uint8, offset=offset)


def load():
    tr = idx("train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    te = idx("t10k-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    return tr, te, idx("train-labels-idx1-ubyte.gz", 8), idx("t10k-labels-idx1-ubyte.gz", 8)


def accuracy(train_y, test_y, train_l, test_l):
    _, nn = cKDTree(train_y).query(test_y, k=10)
    pred = np.array([np.bincount(v, minlength=10).argmax() for v in train_l[nn]])
    return (pred == test_l).mean()


def timed(cmd):
    t = time.time()
    subprocess.run(cmd, check=True)
    return time.time() - t


def transform(cmd):
    """Wall time of our transform, and its own split: reading the model,
    then reading and placing the new points."""
    t = time.time()
    err = subprocess.run(cmd, check=True, capture_output=True, text=True).stderr
    wall = time.time() - t
    m = re.search(r"model read ([0-9.]+) s, reading and placing the new points ([0-9.]+) s", err)
    return wall, float(m.group(1)), float(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sgtsne", default="target/release/sgtsne")
    ap.add_argument("--work", default="/tmp/sgtsne-transform-bench")
    ap.add_argument("--skip-ceiling", action="store_true")
    ap.add_argument("--rounds", type=int, default=3,
                    help="transforms of each, alternating, after both fits (the host is noisy)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    w = lambda f: os.path.join(a.work, f)
    tr, te, ltr, lte = load()
    np.save(w("train.npy"), tr)
    np.save(w("test.npy"), te)
    p = ["-p", str(a.threads), "-q"]

    fit = timed([a.sgtsne, w("train.npy"), "--pca", "50", "--perplexity", "30", "--dim", "2",
                 "-o", w("train2d.npy"), "--save", w("model.npz")] + p)
    size = os.path.getsize(w("model.npz"))
    print(f"ours:     fit {fit:7.2f} s  model {size / 2**20:.1f} MiB", flush=True)

    import openTSNE

    # The same PCA-50 for openTSNE: fitted on the training images, applied to both.
    x = tr.astype(np.float64)
    mean = x.mean(0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    basis = vt[:50].T
    tr50, te50 = (x - mean) @ basis, (te.astype(np.float64) - mean) @ basis
    t = time.time()
    emb = openTSNE.TSNE(perplexity=30, n_jobs=a.threads, random_state=1).fit(tr50)
    ofit = time.time() - t
    print(f"openTSNE: fit {ofit:7.2f} s", flush=True)

    # Transforms alternate, ours then theirs, so a slow spell of the host
    # hits both.
    ratios = []
    for r in range(a.rounds):
        tf, read_model, place = transform(
            [a.sgtsne, "transform", w("model.npz"), w("test.npy"), "-o", w("test2d.npy"), "-p", str(a.threads)]
        )
        t = time.time()
        placed = emb.transform(te50)
        otf = time.time() - t
        ratios.append(tf / otf)
        print(f"round {r + 1}: ours {tf:6.2f} s (model read {read_model:.2f} s, new points read and placed"
              f" {place:.2f} s)  openTSNE {otf:6.2f} s  ratio {tf / otf:.3f} end to end,"
              f" {place / otf:.3f} without reading the model", flush=True)
    ours = accuracy(np.load(w("train2d.npy")), np.load(w("test2d.npy")), ltr, lte)
    theirs = accuracy(np.asarray(emb), np.asarray(placed), ltr, lte)
    print(f"accuracy: ours {ours:.4f}  openTSNE {theirs:.4f}  ({ours - theirs:+.4f})")
    print(f"transform time ratio (ours / openTSNE), median of {a.rounds}: {sorted(ratios)[len(ratios) // 2]:.3f}")

    if not a.skip_ceiling:
        np.save(w("all.npy"), np.concatenate([tr, te]))
        timed([a.sgtsne, w("all.npy"), "--pca", "50", "--perplexity", "30", "--dim", "2",
               "-o", w("all2d.npy")] + p)
        y = np.load(w("all2d.npy"))
        ceil = accuracy(y[:60000], y[60000:], ltr, lte)
        print(f"ceiling (all 70,000 embedded together, ours): accuracy {ceil:.4f}")


if __name__ == "__main__":
    main()
