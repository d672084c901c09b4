"""Every index kind and filter path against brute force: k hits whenever k items match, filters inside
the search, the automatic switch from exact to IVF, removal, and snapshots of every kind."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path

import faiss
import numpy as np
import pytest

from reid_engine.config import config_from_dict
from reid_engine.errors import ConfigError
from reid_engine.index import IndexConfig, VectorIndex, load_snapshot, save_snapshot
from reid_engine.index.bench import SyntheticEmbeddings

DIM = 32
N = 6000
KINDS = ["flat", "ivf_flat", "ivf_pq", "hnsw"]
# IVF-Flat once more with exact searches scanning every list in place instead of gathering vectors.
VARIANTS = [*KINDS, "ivf_flat_scan"]


@cache
def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    data = SyntheticEmbeddings(N, DIM, seed=7)
    ids, vectors = data.all()
    # Sparse ids, as a database's primary keys are after deletions.
    return ids * 3 + 5, vectors, data.queries(20)


def _config(kind: str, **overrides: object) -> IndexConfig:
    settings: dict[str, object] = {
        "kind": kind,
        "flat_max": 1000,
        "exact_subset_max": 300,
        "pq_m": 8,
        "pq_nbits": 6,
    }
    return IndexConfig(**(settings | overrides))  # type: ignore[arg-type]


@cache
def _index(variant: str) -> VectorIndex:
    ids, vectors, _ = _data()
    if variant == "ivf_flat_scan":
        index = VectorIndex(DIM, _config("ivf_flat", gather_max_bytes=0))
    else:
        index = VectorIndex(DIM, _config(variant))
    index.add(ids, vectors)
    return index


def _brute_force(query: np.ndarray, k: int, pool: np.ndarray) -> list[int]:
    ids, vectors, _ = _data()
    rows = np.flatnonzero(np.isin(ids, pool))
    scores = vectors[rows] @ query
    return ids[rows[np.lexsort((ids[rows], -scores))[:k]]].tolist()


def _recall(found: list[int], expected: list[int]) -> float:
    return len(set(found) & set(expected)) / max(1, len(expected))


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_builds_its_structure_past_flat_max(kind: str) -> None:
    assert _index(kind).kind == kind
    assert len(_index(kind)) == N


@pytest.mark.parametrize("kind", VARIANTS)
@pytest.mark.parametrize("fraction", [0.03, 0.3])
def test_filtered_search_returns_k_allowed_hits_close_to_brute_force(kind: str, fraction: float) -> None:
    # 3% of 6000 is 180 ids (the exact path); 30% is 1800 (the ANN index with a selector).
    ids, vectors, queries = _data()
    allowed = np.sort(np.random.default_rng(1).choice(ids, int(fraction * N), replace=False))
    index = _index(kind)
    recalls = []
    for query in queries:
        hits = index.search(query, 50, allowed=allowed)
        found = [h.item_id for h in hits]
        assert len(found) == 50
        assert set(found) <= set(allowed.tolist())
        stored = vectors[np.searchsorted(ids, found)]
        np.testing.assert_allclose([h.score for h in hits], stored @ query, atol=2e-3)
        expected = _brute_force(query, 50, allowed)
        # IVF-PQ scores with float16 copies, which can swap near-ties.
        if allowed.size <= index.config.exact_subset_max and kind != "ivf_pq":
            assert found == expected
        recalls.append(_recall(found, expected))
    assert np.mean(recalls) >= 0.9


@pytest.mark.parametrize("kind", VARIANTS)
def test_allowed_and_excluded_together_match_brute_force_over_the_difference(kind: str) -> None:
    ids, _, queries = _data()
    allowed = ids[::40]
    excluded = set(allowed[::3].tolist()) | {int(ids[1])}
    hits = _index(kind).search(queries[0], 20, allowed=allowed, exclude=excluded)
    pool = np.array(sorted(set(allowed.tolist()) - excluded))
    found = [h.item_id for h in hits]
    assert not set(found) & excluded
    if kind == "ivf_pq":
        assert _recall(found, _brute_force(queries[0], 20, pool)) >= 0.95
    else:
        assert found == _brute_force(queries[0], 20, pool)


@pytest.mark.parametrize("kind", VARIANTS)
def test_an_allowed_set_smaller_than_k_returns_all_of_its_stored_items(kind: str) -> None:
    ids, _, queries = _data()
    allowed = np.array([ids[10], ids[500], ids[4000], 10**9, -3], dtype=np.int64)  # two unknown ids
    hits = _index(kind).search(queries[1], 10, allowed=allowed)
    assert sorted(h.item_id for h in hits) == sorted(ids[[10, 500, 4000]].tolist())
    assert [h.rank for h in hits] == [0, 1, 2]


@pytest.mark.parametrize("kind", VARIANTS)
def test_an_empty_allowed_set_returns_no_hits(kind: str) -> None:
    _, _, queries = _data()
    assert _index(kind).search(queries[0], 10, allowed=np.zeros(0, np.int64)) == []
    assert _index(kind).search_batch(queries[:3], 10, allowed=np.array([10**9])) == [[], [], []]


@pytest.mark.parametrize("kind", ["ivf_flat", "ivf_pq", "hnsw"])
def test_a_one_percent_filter_through_the_ann_index_still_returns_full_k(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    # exact_subset_max=0 forces the ANN path even for 60 allowed ids, starting from nprobe 1 or
    # efSearch 1, so the widening (IVF) and the exact fallback (HNSW) are what deliver the k hits.
    ids, vectors, queries = _data()
    index = VectorIndex(DIM, _config(kind, exact_subset_max=0, nprobe=1, hnsw_ef_search=1))
    index.add(ids, vectors)
    allowed = np.sort(np.random.default_rng(2).choice(ids, N // 100, replace=False))
    with caplog.at_level("INFO", logger="reid_engine.index.vector_index"):
        for query in queries[:5]:
            found = [h.item_id for h in index.search(query, 50, allowed=allowed)]
            assert len(found) == 50
            assert _recall(found, _brute_force(query, 50, allowed)) >= 0.95
    if kind == "hnsw":
        assert "fell back to exact search" in caplog.text


@pytest.mark.parametrize("kind", ["ivf_flat", "hnsw"])
def test_a_large_allowed_set_of_mostly_unknown_ids_returns_every_stored_one(kind: str) -> None:
    ids, _, queries = _data()
    allowed = np.concatenate([ids[100:120], np.arange(10**8, 10**8 + 50_000)])
    hits = _index(kind).search(queries[0], 50, allowed=allowed)
    assert sorted(h.item_id for h in hits) == ids[100:120].tolist()


def test_auto_switches_from_exact_to_ivf_and_keeps_results_close_to_exact() -> None:
    ids, vectors, queries = _data()
    index = VectorIndex(DIM, IndexConfig(flat_max=2000, retrain_growth=2.0))
    trained = []
    for start in range(0, N, 1500):
        index.add(ids[start : start + 1500], vectors[start : start + 1500])
        trained.append((index.kind, index.describe()["trained_size"]))
    # Exact below 2000, IVF trained at 3000, re-trained once it had doubled.
    assert trained == [("flat", 0), ("ivf_flat", 3000), ("ivf_flat", 3000), ("ivf_flat", 6000)]
    recalls = [_recall([h.item_id for h in index.search(q, 20)], _brute_force(q, 20, ids)) for q in queries]
    assert np.mean(recalls) >= 0.95


def test_search_batch_matches_one_query_at_a_time() -> None:
    ids, _, queries = _data()
    index = _index("ivf_flat")
    allowed = ids[::7]
    batch = index.search_batch(queries[:4], 15, allowed=allowed)
    assert batch == [index.search(q, 15, allowed=allowed) for q in queries[:4]]


@pytest.mark.parametrize("kind", ["ivf_flat", "ivf_pq", "hnsw"])
def test_remove_then_re_add_on_an_ann_index(kind: str) -> None:
    ids, vectors, queries = _data()
    index = VectorIndex(DIM, _config(kind))
    index.add(ids, vectors)
    top = [h.item_id for h in index.search(queries[0], 5)]
    assert index.remove(np.array(top[:3] + [10**9])) == 3
    assert len(index) == N - 3
    assert not set(top[:3]) & {h.item_id for h in index.search(queries[0], 50)}
    # Re-added under a vector equal to the query, the first one must come back first.
    index.add(np.array(top[:1]), queries[:1])
    index.add(np.array(top[1:2]), vectors[np.searchsorted(ids, top[1:2])])
    assert len(index) == N - 1
    hits = index.search(queries[0], 5)
    assert hits[0].item_id == top[0]
    assert hits[0].score == pytest.approx(1.0, abs=1e-2)
    assert sorted(index.ids().tolist()) == sorted(set(ids.tolist()) - {top[2]})


@pytest.mark.parametrize("kind", KINDS)
def test_a_removal_leaves_the_ids_and_vectors_of_an_index_built_from_the_rest(kind: str, tmp_path: Path) -> None:
    ids, vectors, queries = _data()
    index = VectorIndex(DIM, _config(kind))
    index.add(ids, vectors)
    gone = ids[::97]
    assert index.remove(gone) == gone.size
    save_snapshot(index, tmp_path / "ix.snap")
    loaded = load_snapshot(tmp_path / "ix.snap")
    kept = ids[~np.isin(ids, gone)]
    fresh = VectorIndex(DIM, _config(kind))
    fresh.add(kept, vectors[~np.isin(ids, gone)])
    assert np.array_equal(loaded.ids(), kept)
    assert np.array_equal(loaded.vectors(kept), fresh.vectors(kept))
    assert not {h.item_id for h in loaded.search(queries[0], 200)} & set(gone.tolist())
    with pytest.raises(KeyError):
        loaded.vectors(gone[:1])


@pytest.mark.parametrize("kind", KINDS)
def test_snapshot_round_trip_keeps_kind_results_and_settings(kind: str, tmp_path: Path) -> None:
    ids, _, queries = _data()
    index = _index(kind)
    save_snapshot(index, tmp_path / "ix.snap")
    loaded = load_snapshot(tmp_path / "ix.snap")
    assert loaded.kind == kind
    assert loaded.config == index.config
    assert loaded.last_id == int(ids.max())
    assert np.array_equal(loaded.ids(), index.ids())
    for query in queries[:3]:
        assert loaded.search(query, 10) == index.search(query, 10)
        assert loaded.search(query, 10, allowed=ids[::5]) == index.search(query, 10, allowed=ids[::5])


def test_a_loaded_index_keeps_growing_and_removing(tmp_path: Path) -> None:
    ids, vectors, queries = _data()
    index = VectorIndex(DIM, _config("ivf_flat"))
    index.add(ids[:3000], vectors[:3000])
    save_snapshot(index, tmp_path / "ix.snap")
    loaded = load_snapshot(tmp_path / "ix.snap", config=_config("ivf_flat", nprobe=64))
    loaded.add(ids[3000:], vectors[3000:])
    assert loaded.remove(ids[:10]) == 10
    assert len(loaded) == N - 10
    assert loaded.config.nprobe == 64
    assert loaded.search(queries[0], 5)


def test_index_settings_load_as_typed_config_and_reject_bad_values() -> None:
    config = config_from_dict(IndexConfig, {"kind": "hnsw", "nprobe": 8, "use_gpu": False})
    assert config == IndexConfig(kind="hnsw", nprobe=8, use_gpu=False)
    with pytest.raises(ConfigError, match="kind"):
        config_from_dict(IndexConfig, {"kind": "lsh"})
    with pytest.raises(ConfigError, match="unknown config key"):
        config_from_dict(IndexConfig, {"probes": 8})
    with pytest.raises(ConfigError, match="nprobe"):
        config_from_dict(IndexConfig, {"nprobe": 0})


def test_negative_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        VectorIndex(4).add(np.array([-1]), np.ones((1, 4), np.float32) / 2)


def test_a_format_1_snapshot_still_loads_as_an_exact_index(tmp_path: Path) -> None:
    ids, vectors, queries = _data()
    legacy = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
    legacy.add_with_ids(vectors[:100], ids[:100])
    blob = faiss.serialize_index(legacy).tobytes()
    header = json.dumps(
        {"format": 1, "dim": DIM, "count": 100, "last_id": 99, "sha256": hashlib.sha256(blob).hexdigest()}
    ).encode()
    path = tmp_path / "old.faiss"
    path.write_bytes(b"LVINDEX1" + len(header).to_bytes(4, "little") + header + blob)
    loaded = load_snapshot(path)
    assert loaded.kind == "flat"
    assert loaded.last_id == 99
    assert loaded.config == IndexConfig()
    assert [h.item_id for h in loaded.search(queries[0], 5)] == _brute_force(queries[0], 5, ids[:100])
