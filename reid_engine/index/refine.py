"""Second-pass ranking of a search's candidates: query expansion and k-reciprocal re-ranking.

The first pass (the index) ranks by cosine similarity to the query alone. The second looks at the
candidates together: α-weighted query expansion (Radenović, Tolias and Chum, 2018) adds the query's
nearest candidates to it, so that views of the person unlike the query itself come closer, and
k-reciprocal re-ranking (Zhong et al., 2017, :mod:`reid_engine.eval.rerank`) moves up the candidates
that are also near the query's neighbours. Both run on a short candidate list (a few hundred at most),
so they cost milliseconds whatever the size of the index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reid_engine.eval.rerank import k_reciprocal_rerank


@dataclass(frozen=True, kw_only=True)
class RefineConfig:
    """How the second pass works.

    Attributes:
        candidates: how many first-pass hits are re-ranked (at least the ``k`` asked for).
        expand_top: nearest candidates added to the query (0 turns query expansion off).
        alpha: exponent of the expansion weights (similarity ** alpha): high values trust only
            close neighbours.
        rerank: apply k-reciprocal re-ranking after the expansion.
        k1, k2, lambda_value: the re-ranking's parameters (see :func:`k_reciprocal_rerank`).
    """

    candidates: int = 100
    expand_top: int = 2
    alpha: float = 3.0
    rerank: bool = True
    k1: int = 20
    k2: int = 6
    lambda_value: float = 0.3

    def __post_init__(self) -> None:
        if self.candidates < 1 or self.expand_top < 0 or self.alpha < 0:
            raise ValueError("refine.candidates must be >= 1, expand_top and alpha >= 0")
        if self.k1 < 1 or self.k2 < 1 or not 0 <= self.lambda_value <= 1:
            raise ValueError("refine.k1 and k2 must be >= 1 and lambda_value in [0, 1]")


def _normalised(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / max(float(np.linalg.norm(v)), 1e-12)


def expand_query(query: np.ndarray, neighbours: np.ndarray, *, alpha: float) -> np.ndarray:
    """α-weighted query expansion: ``normalise(q + Σ max(q·n_i, 0)^α n_i)``.

    Args:
        query: float (D,), the query embedding.
        neighbours: float (N, D), its nearest items, best first (N may be 0).
        alpha: exponent of the weights.

    Returns:
        float32 (D,), L2-normalised.
    """
    q = _normalised(query)
    n = np.asarray(neighbours, dtype=np.float32).reshape(-1, q.shape[0])
    if not len(n):
        return q
    n = n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    weights = np.maximum(n @ q, 0.0) ** alpha
    return _normalised(q + weights @ n)


def refine_ranking(
    query: np.ndarray, ids: np.ndarray, vectors: np.ndarray, k: int, config: RefineConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Re-rank candidates and keep the best ``k``.

    Args:
        query: float (D,), the query embedding.
        ids: int64 (N,), the candidates' ids, in first-pass order (best first).
        vectors: float (N, D), their embeddings.
        k: how many to keep.
        config: the second pass's settings.

    Returns:
        ``(ids, scores)`` of the kept candidates, best first; a score is the cosine similarity to
        the original query (what the hit card shows), the order is the refined one. Ties keep
        first-pass order.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if not len(ids):
        return ids, np.zeros(0, np.float32)
    g = np.asarray(vectors, dtype=np.float32)
    g = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
    q = _normalised(query)
    scores = g @ q
    probe = expand_query(q, g[: config.expand_top], alpha=config.alpha) if config.expand_top else q
    if config.rerank and len(ids) > 1:
        distance = k_reciprocal_rerank(
            probe[None, :], g, k1=config.k1, k2=config.k2, lambda_value=config.lambda_value
        )[0]
    else:
        distance = 1.0 - g @ probe
    order = np.argsort(distance, kind="stable")[:k]
    return ids[order], scores[order]
