"""openTSNE's FFT repulsion against the exact sum on a saved 2D embedding.

The counterpart of `sgtsne-bench repulsion-file Y.npy --dim 2 --exact-z`:
openTSNE 1.0's default interpolation (3 points per interval, at least 50
intervals, 1 interval per unit) on the same embedding. Prints Z's ratio to
the exact O(N^2) sum, and on a seeded sample of 2,000 points the relative
error and the bias (least-squares factor from the exact forces to openTSNE's;
1 is unbiased) of the repulsive force sum_j q_ij^2 (y_i - y_j) / Z.

    PY=~/.cache/sgtsne-peers/bin/python
    $PY benches/opentsne_repulsion.py Y.npy
"""
import sys

import numpy as np
from openTSNE import _tsne
from tsne_exact import exact_repulsion

Y = np.ascontiguousarray(np.load(sys.argv[1]).astype(np.float64))
n = len(Y)
g = np.zeros_like(Y)
sum_q = _tsne.estimate_negative_gradient_fft_2d(Y, g, 3, 50, 1, 1.0)
# openTSNE stores the negative term with the gradient's sign: -force.
approx = -g
num, z = exact_repulsion(Y)
rows = np.random.default_rng(0).choice(n, min(n, 2000), replace=False)
exact = num[rows] / z
a = approx[rows]
print(f"N = {n}: Z ratio {sum_q / z:.5f}; force on {len(rows)} sampled rows: "
      f"rel. err {np.linalg.norm(a - exact) / np.linalg.norm(exact):.2e}, "
      f"bias {(a * exact).sum() / (exact * exact).sum():.4f}")
