"""``reid bench index``: build time, memory, query latency with and without filters, and recall against
exact search computed in the same run, on seeded synthetic embeddings shaped like real ones.

The data are generated in chunks that are added to the index and, in the same pass, scored exactly
against every query (a matrix product per chunk, top k kept), so the reference never needs a second
copy of the vectors. Filters are random id subsets passing 1% and 10% of the items (ten of each;
query i uses subset i mod 10), which is how a camera or time-range filter looks to the embedding
space: unrelated to it.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from collections.abc import Callable
from typing import Any

import faiss
import numpy as np

from reid_engine.index.config import IndexConfig, Kind
from reid_engine.index.vector_index import VectorIndex
from reid_engine.types import Hit

logger = logging.getLogger(__name__)

LATENT_DIM = 64
DATA_DESCRIPTION = (
    "synthetic, seeded: n/20 identities (items drawn with tight noise around each) inside n/2000"
    f" appearance groups of a {LATENT_DIM}-d latent space, 10% one-off background items, randomly"
    " projected to dim with isotropic noise, L2-normalised; queries are fresh draws, not stored items"
)
FILTERS = {"filter_10pct": 0.10, "filter_1pct": 0.01}
_FILTER_SETS = 10
_CHUNK = 100_000
_WARMUP = 5


class SyntheticEmbeddings:
    """Seeded L2-normalised vectors with identity and appearance-group structure.

    The items from ``start`` on are drawn from a generator seeded with ``(seed, start)``, so a chunk
    is the same whatever else is drawn; ids run from 1.

    Args:
        n: item count.
        dim: vector dimension.
        seed: seed of everything drawn.
    """

    def __init__(self, n: int, dim: int, *, seed: int = 0) -> None:
        self.n, self.dim, self.seed = n, dim, seed
        rng = np.random.default_rng([seed, 0])
        groups = rng.standard_normal((max(16, n // 2000), LATENT_DIM), dtype=np.float32)
        identities = max(1, n // 20)
        self._centres = groups[rng.integers(0, groups.shape[0], identities)]
        self._centres += 0.6 * rng.standard_normal((identities, LATENT_DIM), dtype=np.float32)
        self._projection = rng.standard_normal((LATENT_DIM, dim), dtype=np.float32) / np.float32(
            np.sqrt(LATENT_DIM)
        )

    def chunk(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Items ``start`` to ``stop`` (0-based, ``start`` a multiple of the chunk size): ids, vectors."""
        rng = np.random.default_rng([self.seed, 1, start])
        return np.arange(start + 1, stop + 1, dtype=np.int64), self._draw(rng, stop - start)

    def all(self) -> tuple[np.ndarray, np.ndarray]:
        """Every item: ids int64 (n,), vectors float32 (n, dim)."""
        parts = [self.chunk(s, min(self.n, s + _CHUNK)) for s in range(0, self.n, _CHUNK)]
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def queries(self, count: int) -> np.ndarray:
        """Fresh draws from the same distribution, float32 (count, dim)."""
        return self._draw(np.random.default_rng([self.seed, 2]), count)

    def _draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        latent = self._centres[rng.integers(0, self._centres.shape[0], count)]
        latent += 0.3 * rng.standard_normal((count, LATENT_DIM), dtype=np.float32)
        background = rng.random(count) < 0.1
        latent[background] = 1.2 * rng.standard_normal((int(background.sum()), LATENT_DIM), dtype=np.float32)
        vectors = latent @ self._projection
        scale = np.linalg.norm(vectors, axis=1, keepdims=True) / np.float32(np.sqrt(self.dim))
        vectors += 0.5 * scale * rng.standard_normal((count, self.dim), dtype=np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors


class _TopK:
    """Running exact top k per query over chunks of scores; unfilled places hold id -1."""

    def __init__(self, queries: int, k: int) -> None:
        self.k = k
        self.scores = np.full((queries, k), -np.inf, np.float32)
        self.ids = np.full((queries, k), -1, np.int64)

    def update(self, rows: np.ndarray, scores: np.ndarray, ids: np.ndarray) -> None:
        merged_scores = np.concatenate([self.scores[rows], scores], axis=1)
        merged_ids = np.concatenate([self.ids[rows], np.broadcast_to(ids, scores.shape)], axis=1)
        top = np.argpartition(-merged_scores, self.k - 1, axis=1)[:, : self.k]
        top_scores = np.take_along_axis(merged_scores, top, 1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        self.scores[rows] = np.take_along_axis(top_scores, order, 1)
        self.ids[rows] = np.take_along_axis(np.take_along_axis(merged_ids, top, 1), order, 1)


def run_index_bench(
    *,
    n: int,
    dim: int,
    k: int = 100,
    queries: int = 200,
    kind: Kind = "auto",
    seed: int = 0,
    threads: int | None = None,
) -> dict[str, Any]:
    """Build an index of ``n`` synthetic vectors and measure it against exact search.

    Args:
        n: vectors to index.
        dim: their dimension.
        k: hits per query (recall is reported at 10 and at k).
        queries: timed queries per mode.
        kind: index kind (see :class:`~reid_engine.index.IndexConfig`).
        seed: seed of the data, the filters and the index's training.
        threads: FAISS threads, or None for FAISS's default.

    Returns:
        A JSON-ready report.
    """
    if threads is not None:
        faiss.omp_set_num_threads(threads)
    load_before = os.getloadavg()
    data = SyntheticEmbeddings(n, dim, seed=seed)
    query_vectors = data.queries(queries)
    rng = np.random.default_rng([seed, 3])
    masks = {name: rng.random((_FILTER_SETS, n)) < fraction for name, fraction in FILTERS.items()}
    allowed = {name: [np.flatnonzero(m).astype(np.int64) + 1 for m in mask] for name, mask in masks.items()}
    set_of_query = np.arange(queries) % _FILTER_SETS
    truth = {"unfiltered": _TopK(queries, k)} | {name: _TopK(queries, k) for name in FILTERS}
    every_row = np.arange(queries)

    index = VectorIndex(dim, IndexConfig(kind=kind, seed=seed))
    rss_before = _rss_bytes()
    build_s = exact_s = 0.0
    for start in range(0, n, _CHUNK):
        ids, vectors = data.chunk(start, min(n, start + _CHUNK))
        began = time.perf_counter()
        index.add(ids, vectors)
        build_s += time.perf_counter() - began
        began = time.perf_counter()
        scores = query_vectors @ vectors.T
        truth["unfiltered"].update(every_row, scores, ids)
        for name in FILTERS:
            for which in range(_FILTER_SETS):
                rows = np.flatnonzero(set_of_query == which)
                keep = masks[name][which, start : start + ids.size]
                truth[name].update(rows, scores[rows][:, keep], ids[keep])
        exact_s += time.perf_counter() - began
        logger.info("indexed %s of %s vectors", start + ids.size, n)
    rss_after = _rss_bytes()

    def unfiltered(i: int) -> list[Hit]:
        return index.search(query_vectors[i], k)

    def filtered(name: str) -> Callable[[int], list[Hit]]:
        return lambda i: index.search(query_vectors[i], k, allowed=allowed[name][set_of_query[i]])

    search = {"unfiltered": _measure(unfiltered, queries, truth["unfiltered"], k)}
    for name, fraction in FILTERS.items():
        search[name] = {"allowed_fraction": fraction} | _measure(filtered(name), queries, truth[name], k)
    began = time.perf_counter()
    index.search_batch(query_vectors, k)
    batch_ms = 1000 * (time.perf_counter() - began) / queries

    unfiltered_result, one_percent = search["unfiltered"], search["filter_1pct"]
    return {
        "n": n,
        "dim": dim,
        "k": k,
        "queries": queries,
        "seed": seed,
        "data": DATA_DESCRIPTION,
        "index": index.describe(),
        "faiss_threads": faiss.omp_get_max_threads(),
        "threads_per_query": 1,
        "cpu_count": os.cpu_count(),
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "build_s": round(build_s, 2),
        "memory": {
            "rss_growth_mb": None
            if rss_before is None or rss_after is None
            else round((rss_after - rss_before) / 2**20),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "index_estimate_mb": round(index.memory_bytes() / 2**20),
        },
        "search": search,
        "batch_ms_per_query": round(batch_ms, 3),
        "exact_reference_ms_per_query": round(1000 * exact_s / queries, 3),
        "targets": {
            "p50_le_10ms": unfiltered_result["p50_ms"] <= 10.0,
            f"recall@{k}_ge_0.95": unfiltered_result[f"recall@{k}"] >= 0.95,
            "filter_1pct_full_k": one_percent["short_queries"] == 0,
            "filter_1pct_p50_le_20ms": one_percent["p50_ms"] <= 20.0,
        },
    }


def _measure(search: Callable[[int], list[Hit]], queries: int, truth: _TopK, k: int) -> dict[str, Any]:
    for i in range(min(_WARMUP, queries)):
        search(i)
    latencies = np.zeros(queries)
    recall_10, recall_k, short = [], [], 0
    for i in range(queries):
        began = time.perf_counter()
        hits = search(i)
        latencies[i] = time.perf_counter() - began
        found = [h.item_id for h in hits]
        expected = truth.ids[i][truth.ids[i] >= 0]
        short += len(found) < min(k, expected.size)
        if expected.size:
            top = min(10, expected.size)
            recall_10.append(len(set(found[:10]) & set(expected[:10].tolist())) / top)
            recall_k.append(len(set(found) & set(expected.tolist())) / expected.size)
    return {
        "p50_ms": round(1000 * float(np.percentile(latencies, 50)), 3),
        "p99_ms": round(1000 * float(np.percentile(latencies, 99)), 3),
        "mean_ms": round(1000 * float(latencies.mean()), 3),
        "recall@10": round(float(np.mean(recall_10)), 4) if recall_10 else None,
        f"recall@{k}": round(float(np.mean(recall_k)), 4) if recall_k else None,
        "short_queries": short,
    }


def _rss_bytes() -> int | None:
    """Resident set size now, where the platform reports it."""
    try:
        with open("/proc/self/statm") as fh:  # noqa: PTH123 - a kernel file, not a path of ours
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None
