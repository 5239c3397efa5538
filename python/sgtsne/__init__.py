"""sgtsne: embed large sparse graphs and point data in 1, 2 or 3 dimensions.

The engine is SG-t-SNE-Pi-style t-SNE written in Rust: a kNN graph of the
points (or any sparse non-negative graph you give), attraction along its
edges, and grid-interpolated repulsion. Results are the same bytes for any
number of threads, and the same as the ``sgtsne`` command line's.

>>> import numpy as np, sgtsne
>>> X = np.random.default_rng(0).normal(size=(500, 10))
>>> Y = sgtsne.TSNE(n_components=2, random_state=7).fit_transform(X)
>>> Y.shape
(500, 2)

See Also
--------
TSNE : scikit-learn-style estimator for point data (fit, transform, resume).
embed_graph : embed a precomputed sparse graph (scipy.sparse or dense).
tl.tsne : scanpy-style ``tl`` function for an AnnData's neighbour graph.
"""

from . import tl
from ._core import __version__
from ._tsne import TSNE, embed_graph

__all__ = ["TSNE", "embed_graph", "tl", "__version__"]
