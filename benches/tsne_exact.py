"""Shared by the issue-17 scripts (imported, not run): exact t-SNE sums and
openTSNE's affinities written as a graph our pipeline reads.
"""
import numpy as np
import scipy.io
import scipy.sparse as sp


def exact_repulsion(Y, forces=True, chunk=1000):
    """Z = sum over i != j of 1 / (1 + |y_i - y_j|^2), and with `forces` the
    repulsion numerators sum_j q_ij^2 (y_i - y_j) (divide by Z for the force).
    O(N^2) time, O(chunk * N) memory."""
    Y = np.asarray(Y, dtype=np.float64)
    n = len(Y)
    sq = (Y ** 2).sum(1)
    num = np.zeros_like(Y) if forces else None
    z = 0.0
    for s in range(0, n, chunk):
        d2 = np.maximum(sq[s:s + chunk, None] + sq[None, :] - 2 * Y[s:s + chunk] @ Y.T, 0)
        q = 1.0 / (1.0 + d2)
        q[np.arange(len(q)), np.arange(s, s + len(q))] = 0
        z += q.sum()
        if forces:
            q2 = q * q
            num[s:s + chunk] = Y[s:s + chunk] * q2.sum(1)[:, None] - q2 @ Y
    return num, z


def conditional_graph(nbr, dist, path, perplexity=30.0, threads=2):
    """openTSNE's Gaussian calibration of the kNN distances, written as a
    Matrix Market graph whose column i holds p(j|i): our pipeline (lambda = 1)
    symmetrises it to openTSNE's P, (M + M^T) / 2N. Returns M (CSC)."""
    from openTSNE import _tsne

    n, k = nbr.shape
    c = np.asarray(_tsne.compute_gaussian_perplexity(np.array(dist, dtype=float), np.array([perplexity]),
                                                     num_threads=threads))
    m = sp.csc_matrix((c.ravel(), nbr.ravel(), np.arange(0, n * k + 1, k)), shape=(n, n))
    scipy.io.mmwrite(path, m.tocoo())
    return m
