"""The whole t-SNE gradient at one embedding: ours and openTSNE's against the exact one.

Takes a graph our pipeline reads as P (`benches/optimiser_swap.py` writes
openTSNE's exact affinities as `exact.mtx`, which symmetrises to openTSNE's
P) and a 2D embedding. Computes the exact gradient of KL / 4 (sparse
attraction minus the O(N^2) repulsion over Z), openTSNE 1.0's FFT gradient
(`kl_divergence_fft`, its defaults), and ours: one iteration of our binary
from that embedding with momentum 0, step 1 and no step clip, whose move is
1.2 times the gradient (the first iteration's gains). Prints, for each,
the relative error against the exact gradient, the projection on it (1 is
unbiased; below 1 the optimiser moves slower than the exact gradient says)
and the outward (expanding) component.

    PY=~/.cache/sgtsne-peers/bin/python
    $PY benches/gradient_check.py /tmp/p17/exact.mtx Y.npy [--h 0.7 0.35]
"""
import argparse
import os
import subprocess
import tempfile

import numpy as np
import scipy.io
from openTSNE.tsne import kl_divergence_fft
from tsne_exact import exact_repulsion

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("graph")
ap.add_argument("embedding")
ap.add_argument("--h", type=float, nargs="+", default=[0.7, 0.35], help="our grid spacings to check")
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()
BIN = os.environ.get("SGTSNE_BIN", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                "target", "release", "sgtsne"))

M = scipy.io.mmread(a.graph).tocsc()
n = M.shape[0]
# Our pipeline's P for a column-stochastic graph at lambda = 1 (SPEC sections 1-3).
P = ((M + M.T) / (2 * n)).tocsr()
Y = np.ascontiguousarray(np.load(a.embedding).astype(np.float64))
r = Y - Y.mean(0)


def centred(g):
    return g - g.mean(0)


rep, z = exact_repulsion(Y)
C = P.tocoo()
d = Y[C.row] - Y[C.col]
att = np.zeros_like(Y)
np.add.at(att, C.row, (C.data / (1 + (d ** 2).sum(1)))[:, None] * d)
exact = centred(att - rep / z)

runs = []
_, g = kl_divergence_fft(Y.copy(), P, dof=1, bh_params={},
                         fft_params=dict(n_interpolation_points=3, min_num_intervals=50, ints_in_interval=1),
                         n_jobs=a.threads, should_eval_error=False)
runs.append(("openTSNE 1.0 FFT", centred(np.asarray(g))))
with tempfile.TemporaryDirectory() as tmp:
    for h in a.h:
        out = os.path.join(tmp, "y1.npy")
        subprocess.run([BIN, a.graph, "--init", a.embedding, "--early-iter", "0", "--max-iter", "1",
                        "--momentum", "0", "--final-momentum", "0", "--eta", "1", "--max-step", "0",
                        "--grid-h", str(h), "--threads", str(a.threads), "-q", "-o", out], check=True)
        y1 = np.load(out)
        # Both runs re-centre, so compare centred moves; gains are 1.2 on the first step.
        runs.append((f"sgtsne --grid-h {h}", (r - (y1 - y1.mean(0))) / 1.2))

print(f"N = {n}; exact gradient: norm {np.linalg.norm(exact):.4e}, outward component {-(exact * r).sum():.5f}")
print(f"{'gradient':<22} {'rel. error':>10} {'projection':>10} {'outward':>9}")
for name, v in runs:
    print(f"{name:<22} {np.linalg.norm(v - exact) / np.linalg.norm(exact):>10.3f} "
          f"{(v * exact).sum() / (exact * exact).sum():>10.4f} {-(v * r).sum():>9.5f}")
