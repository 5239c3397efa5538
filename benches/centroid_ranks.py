"""Issue 17: where two embeddings' global scores part, pair by pair.

The global score is the Spearman correlation between the 10 Fashion-MNIST
class centroids' 45 pairwise distances in the input (PCA-50) and in an
embedding. Given embeddings in pairs (A1 B1 A2 B2 ...), typically openTSNE's
and ours from the same start and P, this prints for each pair of
embeddings their scores, how far their centroid distances (each divided by
its mean) differ, and every class pair whose rank differs between them.

    PY=~/.cache/sgtsne-peers/bin/python
    $PY benches/centroid_ranks.py [--fmnist /tmp/fmnist] A1.npy B1.npy [A2.npy B2.npy ...]
"""
import argparse
import os

import numpy as np
from scipy.stats import rankdata

from global_structure import centroid_distances, global_score

CLASSES = ["T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("--fmnist", default="/tmp/fmnist")
ap.add_argument("embeddings", nargs="+")
a = ap.parse_args()
if len(a.embeddings) % 2:
    ap.error("give the embeddings in pairs")
X = np.load(os.path.join(a.fmnist, "PCA50.npy"))
y = np.loadtxt(os.path.join(a.fmnist, "labels.txt"), dtype=int)
iu = np.triu_indices(10, 1)
D_IN = centroid_distances(X, y)
r_in = rankdata(D_IN[iu])
for fa, fb in zip(a.embeddings[::2], a.embeddings[1::2]):
    ya, yb = np.load(fa), np.load(fb)
    da, db = centroid_distances(ya, y)[iu], centroid_distances(yb, y)[iu]
    da, db = da / da.mean(), db / db.mean()
    ra, rb = rankdata(da), rankdata(db)
    rel = np.abs(da - db) / da
    print(f"{fa} {global_score(D_IN, y, ya):.4f} against {fb} {global_score(D_IN, y, yb):.4f}: "
          f"centroid distances differ by {rel.mean():.2%} on average, at most {rel.max():.1%}; "
          f"sum of squared rank differences from the input {((ra - r_in) ** 2).sum():.0f} against "
          f"{((rb - r_in) ** 2).sum():.0f}; {int((ra != rb).sum())} of 45 pairs ranked differently")
    for k in np.flatnonzero(ra != rb):
        i, j = iu[0][k], iu[1][k]
        print(f"  {CLASSES[i] + '-' + CLASSES[j]:<18} input rank {r_in[k]:4.0f}   rank {ra[k]:4.1f} against {rb[k]:4.1f}"
              f"   distance {da[k]:.3f} against {db[k]:.3f}")
