"""sgtsne.tl on a small AnnData built here (anndata needed; scanpy not)."""

import sys

import numpy as np
import pytest

import sgtsne
from conftest import blobs, knn_graph, need

anndata = need("anndata")


def make_adata(n=500):
    X, labels = blobs(n, d=12, seed=5)
    adata = anndata.AnnData(X.astype(np.float32))
    adata.obs["cluster"] = labels.astype(str)
    adata.obsp["connectivities"] = knn_graph(X, 10)
    return adata


def test_tl_tsne_writes_obsm_and_uns():
    adata = make_adata()
    assert sgtsne.tl.tsne(adata, n_components=3, random_state=4, max_iter=300, early_iter=100) is None
    Y = adata.obsm["X_sgtsne"]
    assert Y.shape == (500, 3)
    ref = sgtsne.embed_graph(adata.obsp["connectivities"], 3, random_state=4, max_iter=300, early_iter=100)
    assert Y.tobytes() == ref.tobytes()
    uns = adata.uns["X_sgtsne"]
    assert uns["params"]["n_components"] == 3 and uns["params"]["graph"] == "connectivities"
    assert np.isfinite(uns["kl_divergence"]) and uns["n_iter"] == 300


def test_tl_tsne_neighbors_key_copy_and_key_added():
    adata = make_adata()
    adata.obsp["pca_nn_connectivities"] = adata.obsp.pop("connectivities")
    adata.uns["pca_nn"] = {"connectivities_key": "pca_nn_connectivities"}
    out = sgtsne.tl.tsne(adata, neighbors_key="pca_nn", key_added="X_mine", copy=True, max_iter=100, early_iter=50)
    assert out is not adata and out.obsm["X_mine"].shape == (500, 2)
    assert "X_mine" not in adata.obsm
    with pytest.raises(KeyError, match="run scanpy.pp.neighbors"):
        sgtsne.tl.tsne(adata)
    with pytest.raises(KeyError, match="adata.uns has no 'other'"):
        sgtsne.tl.tsne(adata, neighbors_key="other")
    with pytest.raises(TypeError, match="AnnData"):
        sgtsne.tl.tsne(np.zeros((3, 3)))


def test_tl_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "anndata", None)
    with pytest.raises(ImportError, match="pip install anndata"):
        sgtsne.tl.tsne(object())
