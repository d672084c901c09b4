"""The second pass of a search: query expansion and k-reciprocal re-ranking of the candidates."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.index.refine import RefineConfig, expand_query, refine_ranking


def _unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_expansion_adds_neighbours_weighted_by_similarity_to_the_power_alpha() -> None:
    q = _unit(1, 0)
    n = _unit(0.8, 0.6)
    # q + 0.8 * n = (1.64, 0.48), normalised.
    assert expand_query(q, n[None, :], alpha=1.0) == pytest.approx(_unit(1.64, 0.48), abs=1e-6)
    # alpha 3: weight 0.512.
    assert expand_query(q, n[None, :], alpha=3.0) == pytest.approx(_unit(1 + 0.512 * 0.8, 0.512 * 0.6), abs=1e-6)
    # A neighbour pointing away gets no weight; no neighbours leaves the query as it was.
    assert expand_query(q, _unit(-1, 0.1)[None, :], alpha=1.0) == pytest.approx(q, abs=1e-6)
    assert expand_query(q, np.zeros((0, 2), np.float32), alpha=1.0) == pytest.approx(q, abs=1e-6)


def test_expansion_brings_up_a_view_of_the_person_unlike_the_query() -> None:
    q = _unit(1, 0, 0)
    near_view = _unit(0.95, 0.31, 0)  # the same person, close to the query
    far_view = _unit(0.55, 0.83, 0)  # the same person seen differently: close to near_view only
    stranger = _unit(0.6, 0, 0.8)  # a little closer to the query than far_view
    ids = np.array([10, 30, 20])  # first-pass order: near_view, stranger, far_view
    vectors = np.stack([near_view, stranger, far_view])
    assert float(stranger @ q) > float(far_view @ q)

    plain, _ = refine_ranking(q, ids, vectors, 3, RefineConfig(expand_top=0, rerank=False))
    assert plain.tolist() == [10, 30, 20]
    expanded, scores = refine_ranking(q, ids, vectors, 3, RefineConfig(expand_top=1, alpha=1.0, rerank=False))
    assert expanded.tolist() == [10, 20, 30]
    # Scores stay the similarity to the query itself; only the order changed.
    assert scores == pytest.approx([near_view @ q, far_view @ q, stranger @ q], abs=1e-6)


def test_reranking_keeps_k_of_the_candidates_with_their_query_similarity() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    q = vectors[0] + 0.1 * rng.normal(size=16).astype(np.float32)
    ids = np.arange(100, 140)
    kept, scores = refine_ranking(q, ids, vectors, 12, RefineConfig(k1=5, k2=3))
    assert len(kept) == 12
    assert len(set(kept.tolist())) == 12
    assert set(kept.tolist()) <= set(ids.tolist())
    assert kept[0] == 100  # the obvious match stays first
    qn = q / np.linalg.norm(q)
    assert scores == pytest.approx(vectors[kept - 100] @ qn, abs=1e-5)
    # Fewer candidates than k: all of them; none at all: nothing.
    assert len(refine_ranking(q, ids[:5], vectors[:5], 12, RefineConfig())[0]) == 5
    assert len(refine_ranking(q, ids[:0], vectors[:0], 12, RefineConfig())[0]) == 0


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="candidates"):
        RefineConfig(candidates=0)
    with pytest.raises(ValueError, match="lambda_value"):
        RefineConfig(lambda_value=2.0)


def test_evaluation_orders_the_gallery_as_the_refined_search_does() -> None:
    from reid_engine.eval.extract import refined_distances

    rng = np.random.default_rng(1)
    gallery = rng.normal(size=(30, 8)).astype(np.float32)
    gallery /= np.linalg.norm(gallery, axis=1, keepdims=True)
    query = gallery[:4] + 0.3 * rng.normal(size=(4, 8)).astype(np.float32)
    config = RefineConfig(candidates=10, k1=4, k2=2)
    dist = refined_distances(query, gallery, config)
    cosine = 1.0 - (query / np.linalg.norm(query, axis=1, keepdims=True)) @ gallery.T
    for i in range(4):
        top = np.argsort(cosine[i], kind="stable")[:10]
        want, _ = refine_ranking(query[i], top, gallery[top], 10, config)
        order = np.argsort(dist[i], kind="stable")
        # The refined candidates first, in the search's order, then the rest by cosine.
        assert order[:10].tolist() == want.tolist()
        assert order[10:].tolist() == np.argsort(cosine[i], kind="stable")[10:].tolist()
