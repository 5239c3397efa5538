"""scanpy-style tools: functions that take an AnnData and write into it.

anndata and scanpy are optional; nothing here imports them. The graph is
read from ``adata.obsp``, as ``scanpy.pp.neighbors`` leaves it.
"""

from __future__ import annotations

from typing import Any, Optional

from ._tsne import TSNE


def tsne(
    adata: Any,
    n_components: int = 2,
    *,
    neighbors_key: Optional[str] = None,
    key_added: str = "X_sgtsne",
    copy: bool = False,
    **params: Any,
) -> Optional[Any]:
    """Embeds an AnnData's neighbour graph with sgtsne (SG-t-SNE).

    Reads the connectivities that ``scanpy.pp.neighbors`` computed (or any
    sparse non-negative cells x cells graph stored in ``adata.obsp``) and
    writes the embedding to ``adata.obsm[key_added]`` and the run's
    settings and final KL to ``adata.uns[key_added]``.

    Parameters
    ----------
    adata : anndata.AnnData
        The annotated data matrix; needs a cells x cells graph in ``obsp``.
    n_components : int, default=2
        1, 2 or 3.
    neighbors_key : str, optional
        Where ``scanpy.pp.neighbors(key_added=...)`` put its results: the
        graph is ``adata.obsp[adata.uns[neighbors_key]["connectivities_key"]]``.
        By default ``adata.obsp["connectivities"]``.
    key_added : str, default="X_sgtsne"
        The ``obsm`` (and ``uns``) key of the result.
    copy : bool, default=False
        Work on a copy of ``adata`` and return it.
    **params
        Any :class:`sgtsne.TSNE` parameter (``lambda_``, ``max_iter``,
        ``random_state``, ``n_jobs``, ``verbose``...).

    Returns
    -------
    AnnData or None
        The copy when ``copy=True``, else None (``adata`` is updated).

    Examples
    --------
    >>> import scanpy as sc, sgtsne                     # doctest: +SKIP
    >>> sc.pp.neighbors(adata)                           # doctest: +SKIP
    >>> sgtsne.tl.tsne(adata, n_components=3)            # doctest: +SKIP
    >>> adata.obsm["X_sgtsne"].shape                     # doctest: +SKIP
    (n_cells, 3)
    """
    try:
        import anndata
    except ImportError as e:
        raise ImportError(
            "sgtsne.tl needs anndata: pip install anndata (or scanpy, which includes it)"
        ) from e
    if not isinstance(adata, anndata.AnnData):
        raise TypeError(f"adata must be an anndata.AnnData, got {type(adata).__name__}")
    if copy:
        adata = adata.copy()
    if neighbors_key is None:
        key = "connectivities"
        where = "adata.obsp['connectivities']"
    else:
        if neighbors_key not in adata.uns:
            raise KeyError(
                f"adata.uns has no {neighbors_key!r}: run scanpy.pp.neighbors(adata, key_added={neighbors_key!r}) first"
            )
        key = adata.uns[neighbors_key].get("connectivities_key", f"{neighbors_key}_connectivities")
        where = f"adata.obsp[{key!r}] (from adata.uns[{neighbors_key!r}])"
    if key not in adata.obsp:
        raise KeyError(
            f"{where} is missing: run scanpy.pp.neighbors(adata) first, or pass neighbors_key"
        )
    est = TSNE(n_components, **params).fit_graph(adata.obsp[key])
    adata.obsm[key_added] = est.embedding_
    settings = {
        k: v
        for k, v in est.get_params().items()
        if isinstance(v, (bool, int, float, str))
    }
    adata.uns[key_added] = {
        "params": {**settings, "graph": key},
        "kl_divergence": est.kl_divergence_,
        "n_iter": est.n_iter_,
    }
    return adata if copy else None
