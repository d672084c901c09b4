"""k-reciprocal re-ranking: shapes, limits and the effect it exists for."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.eval import cosine_distance, evaluate
from reid_engine.eval.rerank import k_reciprocal_rerank


def _clusters(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(6, 16))
    q_pids = np.arange(6)
    g_pids = np.repeat(np.arange(6), 5)
    q = centres + 0.55 * rng.normal(size=(6, 16))
    g = centres[g_pids] + 0.55 * rng.normal(size=(30, 16))
    return q.astype(np.float32), g.astype(np.float32), q_pids, g_pids


def test_lambda_one_without_expansion_keeps_the_original_order() -> None:
    q, g, _, _ = _clusters()
    reranked = k_reciprocal_rerank(q, g, k1=5, k2=1, lambda_value=1.0)
    assert reranked.shape == (6, 30)
    original = cosine_distance(q, g)
    assert np.array_equal(np.argsort(reranked, axis=1, kind="stable"), np.argsort(original, axis=1, kind="stable"))


def test_reranking_raises_map_on_clustered_identities() -> None:
    maps = []
    for seed in range(5):
        q, g, qp, gp = _clusters(seed)
        cams_q, cams_g = np.zeros(6), np.ones(30)
        base = evaluate(cosine_distance(q, g), qp, gp, cams_q, cams_g).mAP
        rr = evaluate(k_reciprocal_rerank(q, g, k1=6, k2=3), qp, gp, cams_q, cams_g).mAP
        maps.append((base, rr))
    base_mean = np.mean([m[0] for m in maps])
    rr_mean = np.mean([m[1] for m in maps])
    assert rr_mean > base_mean


def test_reranking_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="same width"):
        k_reciprocal_rerank(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="k1"):
        k_reciprocal_rerank(np.ones((2, 3)), np.ones((2, 3)), k1=0)
