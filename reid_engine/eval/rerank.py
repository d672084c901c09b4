"""k-reciprocal re-ranking (Zhong et al., "Re-ranking Person Re-identification with k-reciprocal
Encoding", CVPR 2017).

Two items are likely the same person when each is among the other's k nearest neighbours; the
re-ranked distance mixes the original distance with a Jaccard distance between the items'
(expanded, locally query-expanded) k-reciprocal neighbour sets.
"""

from __future__ import annotations

import numpy as np


def k_reciprocal_rerank(
    query: np.ndarray, gallery: np.ndarray, *, k1: int = 20, k2: int = 6, lambda_value: float = 0.3
) -> np.ndarray:
    """Re-ranked query × gallery distances, float32 (Q, G); smaller is closer.

    Args:
        query: float (Q, D) embeddings; gallery: float (G, D). Rows are L2-normalised here.
        k1: size of the k-reciprocal neighbourhood.
        k2: neighbours averaged in the local query expansion (1 turns it off).
        lambda_value: weight of the original distance in the final mix (the paper's λ).

    Raises:
        ValueError: on empty inputs, mismatched dimensions or bad parameters.
    """
    q = np.asarray(query, dtype=np.float32)
    g = np.asarray(gallery, dtype=np.float32)
    if q.ndim != 2 or g.ndim != 2 or q.shape[1] != g.shape[1] or not len(q) or not len(g):
        raise ValueError("query and gallery must be non-empty 2-D arrays of the same width")
    if k1 < 1 or k2 < 1 or not 0 <= lambda_value <= 1:
        raise ValueError("k1, k2 must be ≥ 1 and lambda_value in [0, 1]")
    feats = np.concatenate([q, g])
    feats /= np.maximum(np.linalg.norm(feats, axis=1, keepdims=True), 1e-12)
    nq, n = len(q), len(feats)
    k1 = min(k1, n - 1) if n > 1 else 1
    dist = np.maximum(2.0 - 2.0 * feats @ feats.T, 0.0).astype(np.float32)
    # Each item's distances are scaled by its largest one (the reference implementation's
    # normalisation), so exp(-d) weights are comparable across items and row order is unchanged.
    dist = (dist / np.maximum(dist.max(axis=1, keepdims=True), 1e-12)).astype(np.float32)
    rank = np.argsort(dist, axis=1, kind="stable")

    def reciprocal(i: int, k: int) -> np.ndarray:
        forward = rank[i, : k + 1]
        backward = rank[forward, : k + 1]
        return forward[np.any(backward == i, axis=1)]

    weights = np.zeros((n, n), dtype=np.float32)
    half = int(np.around(k1 / 2))
    for i in range(n):
        neighbours = reciprocal(i, k1)
        expansion = [neighbours]
        for c in neighbours:
            candidate = reciprocal(int(c), half)
            if len(np.intersect1d(candidate, neighbours)) > 2.0 / 3.0 * len(candidate):
                expansion.append(candidate)
        members = np.unique(np.concatenate(expansion))
        w = np.exp(-dist[i, members])
        weights[i, members] = w / w.sum()
    if k2 > 1:
        weights = np.stack([weights[rank[i, :k2]].mean(axis=0) for i in range(n)]).astype(np.float32)

    # Jaccard distance through the inverted index: only items sharing a neighbour contribute.
    holders = [np.flatnonzero(weights[:, j]) for j in range(n)]
    jaccard = np.ones((nq, n), dtype=np.float32)
    for i in range(nq):
        overlap = np.zeros(n, dtype=np.float32)
        for j in np.flatnonzero(weights[i]):
            rows = holders[j]
            overlap[rows] += np.minimum(weights[i, j], weights[rows, j])
        jaccard[i] = 1.0 - overlap / (2.0 - overlap)
    final = (1 - lambda_value) * jaccard + lambda_value * dist[:nq]
    return np.asarray(final[:, nq:], dtype=np.float32)
