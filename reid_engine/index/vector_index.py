"""A FAISS inner-product index keyed by the caller's ids, exact while small and approximate past that.

The structure follows :mod:`reid_engine.index.config`: exact below ``flat_max`` vectors, then an IVF
index trained on a seeded sample of the stored vectors (re-trained as it grows), or the kind the
caller fixed. Filters run inside the search, never as "fetch k, then drop":

* an allowed set of at most ``exact_subset_max`` stored items (16,384; a 1% filter at one million)
  is searched exactly: its vectors are gathered and scored while they take at most
  ``gather_max_bytes`` (24 MiB); past that IVF-Flat scans every list in place, scoring only allowed
  ids (10,000 of a million at 1280 dims: 26 ms gathered, 11 ms scanned);
* a larger set goes through the ANN index with an ``IDSelector`` (a bitmap when the ids are dense
  enough, else a hash set), scanning nprobe/p lists for a filter passing a fraction p, so about as
  many permitted vectors are compared as in an unfiltered search;
* if a query still gets fewer than min(k, permitted) hits, the search is repeated with 4x the
  effort up to every list, then exactly over the permitted set: k hits whenever k items match.

Writes (``add``, ``remove``) must not run concurrently with each other or with searches; concurrent
searches are safe.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from typing import Any

import faiss
import numpy as np

from reid_engine.index.config import BuiltKind, IndexConfig, choose_kind
from reid_engine.index.idsets import as_ids, id_selector, member, without
from reid_engine.index.structures import (
    Structure,
    build_structure,
    gpu_count,
    single_threaded,
    train_sample_size,
)
from reid_engine.types import Hit

logger = logging.getLogger(__name__)

# Vectors gathered at a time for exact scoring and for rebuilds: 64k x 1280 float32 is 335 MB.
_CHUNK = 65_536
# Rebuilds only climb: a shrinking index keeps its structure, so it never flaps at a threshold.
_LADDER = {"flat": 0, "hnsw": 1, "ivf_flat": 1, "ivf_pq": 2}
_WIDEN = 4


class VectorIndex:
    """Cosine-similarity search over L2-normalised float32 vectors with int64 ids.

    Args:
        dim: embedding dimension.
        config: structure, thresholds and search effort; the defaults suit up to millions.
    """

    def __init__(self, dim: int, config: IndexConfig | None = None) -> None:
        if dim <= 0:
            raise ValueError(f"dimension must be positive, got {dim}")
        self.dim = dim
        self.config = config if config is not None else IndexConfig()
        self.last_id = 0
        self._structure = build_structure("flat", dim, np.zeros((0, dim), np.float32), 0, self.config)
        self._ids = np.zeros(0, np.int64)

    @classmethod
    def _from_structure(cls, structure: Structure, config: IndexConfig, last_id: int) -> VectorIndex:
        index = cls(int(structure.index.d), config)
        index._structure = structure
        index._ids = np.sort(structure.stored_ids())
        index.last_id = last_id
        return index

    @property
    def kind(self) -> BuiltKind:
        """The structure in use now (``"flat"`` until the index is large enough for its kind)."""
        return self._structure.kind

    def __len__(self) -> int:
        return int(self._ids.size)

    def ids(self) -> np.ndarray:
        """All ids in the index, int64 (N,), ascending."""
        return self._ids.copy()

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids``, float32 (len(ids), dim), in the order given.

        IVF-PQ gives back its float16 copy; every other kind the vectors as added.

        Raises:
            KeyError: when an id is not in the index.
        """
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        absent = ids[~member(self._ids, ids)]
        if absent.size:
            raise KeyError(f"ids not in the index: {absent[:5].tolist()}")
        return self._structure.reconstruct(ids)

    def memory_bytes(self) -> int:
        """Approximate bytes the index holds (vectors or codes, ids, id maps, centroids, links)."""
        return self._structure.memory_bytes() + int(self._ids.nbytes)

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary: kind, size, list count and search effort, memory."""
        return {
            "kind": self.kind,
            "configured_kind": self.config.kind,
            "count": len(self),
            "dim": self.dim,
            "nlist": self._structure.nlist,
            "nprobe": self.config.nprobe if self.kind.startswith("ivf") else None,
            "trained_size": self._structure.trained_size,
            "memory_bytes": self.memory_bytes(),
            "gpus": gpu_count(self.config),
        }

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given ids; an id already present is replaced, never duplicated.

        Crossing a size threshold re-builds the index (see :mod:`reid_engine.index.config`) inside
        this call: at a million vectors of dimension 1280 that takes minutes.

        Args:
            ids: int64 (N,), non-negative; a repeated id keeps its last vector.
            vectors: float32 (N, dim), L2-normalised.

        Raises:
            ValueError: on shapes that do not match or a negative id.
        """
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or vectors.shape[0] != ids.shape[0]:
            raise ValueError(f"expected ({ids.shape[0]}, {self.dim}) vectors, got {vectors.shape}")
        if ids.size == 0:
            return
        if int(ids.min()) < 0:
            raise ValueError("ids must be non-negative")
        # Keep the last occurrence of each id, sorted by id.
        last = ids.size - 1 - np.unique(ids[::-1], return_index=True)[1]
        ids, vectors = ids[last], vectors[last]
        present = ids[member(self._ids, ids)]
        kept = without(self._ids, present)
        total = kept.size + ids.size
        kind = choose_kind(total, self.dim, self.config)
        current = self._structure
        climbs = _LADDER[kind] > _LADDER[current.kind] or (
            _LADDER[kind] == _LADDER[current.kind] and kind != current.kind
        )
        outgrown = (
            current.kind.startswith("ivf") and total >= self.config.retrain_growth * current.trained_size
        )
        if climbs or outgrown or (current.kind == "hnsw" and present.size):
            self._rebuild(kind if climbs else current.kind, kept, ids, vectors)
        else:
            if present.size:
                current.remove(present)
            current.add(ids, vectors)
        # Both runs are sorted, so this stable sort is a linear merge.
        self._ids = np.sort(np.concatenate([kept, ids]), kind="stable")
        self.last_id = max(self.last_id, int(ids[-1]))

    def remove(self, ids: np.ndarray) -> int:
        """Remove the given ids; returns how many were present."""
        ids = np.unique(np.ascontiguousarray(ids, dtype=np.int64).reshape(-1))
        present = ids[member(self._ids, ids)]
        if present.size == 0:
            return 0
        kept = without(self._ids, present)
        if self.kind == "hnsw":
            self._rebuild("hnsw", kept, np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32))
        else:
            self._structure.remove(present)
        self._ids = kept
        return int(present.size)

    def search(
        self,
        query: np.ndarray,
        k: int,
        *,
        exclude: Iterable[int] | np.ndarray | None = None,
        allowed: np.ndarray | None = None,
    ) -> list[Hit]:
        """Return the ``k`` nearest items to one query vector, best first.

        Args:
            query: float32 (dim,), L2-normalised.
            k: how many hits at most.
            exclude: ids never to return (the query's own tracklet, say).
            allowed: int64 (M,) ids permitted (from the caller's filters on cameras, time,
                attributes), or None for all; an empty array permits nothing.

        Returns:
            min(k, number of stored items allowed and not excluded) hits.

        Raises:
            ValueError: when the query does not have the index's dimension.
        """
        query = np.asarray(query, dtype=np.float32).reshape(1, -1)
        # One query gains little from FAISS's threads (only gathers run in parallel) and, on a busy
        # machine, their spinning costs more: a 1% filter at one million x 512 took 23 ms p50 on
        # two threads against 5.9 ms on one.
        with single_threaded():
            return self._search(query, k, allowed=allowed, exclude=exclude)[0]

    def search_batch(
        self, queries: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> list[list[Hit]]:
        """Return the ``k`` nearest items to each query, with one filter for all of them.

        Args:
            queries: float32 (Q, dim), L2-normalised.
            k: how many hits per query at most.
            allowed: int64 (M,) ids permitted, or None for all.

        Returns:
            One list of hits per query, as :meth:`search` returns them.
        """
        queries = np.asarray(queries, dtype=np.float32)
        if queries.ndim != 2:
            raise ValueError(f"expected (Q, {self.dim}) queries, got {queries.shape}")
        return self._search(queries, k, allowed=allowed, exclude=None)

    def _search(
        self,
        queries: np.ndarray,
        k: int,
        *,
        allowed: np.ndarray | None,
        exclude: Iterable[int] | np.ndarray | None,
    ) -> list[list[Hit]]:
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if queries.shape[1] != self.dim:
            raise ValueError(f"query has dimension {queries.shape[1]}, index has {self.dim}")
        excluded = as_ids(exclude)
        excluded = excluded[member(self._ids, excluded)]
        if queries.shape[0] == 0 or k <= 0 or len(self) == 0:
            return [[] for _ in range(queries.shape[0])]
        if allowed is None:
            scores, labels = self._approximate(queries, k, None, excluded)
        else:
            subset = without(as_ids(allowed), excluded)
            if subset.size <= self.config.exact_subset_max:
                scores, labels = self._exact_subset(queries, k, subset[member(self._ids, subset)])
            else:
                scores, labels = self._approximate(queries, k, subset, excluded)
        return [
            [
                Hit(item_id=int(i), score=float(s), rank=r)
                for r, (s, i) in enumerate(zip(row_s, row_i, strict=True))
                if i >= 0
            ]
            for row_s, row_i in zip(scores, labels, strict=True)
        ]

    def _approximate(
        self, queries: np.ndarray, k: int, subset: np.ndarray | None, excluded: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Search the ANN index with widening effort; exact over the permitted items as a last resort.

        ``subset`` (sorted, less ``excluded``) may hold ids that are not stored: checking a large
        allowed set against the index costs more than the search, so its size is taken as the count
        of permitted items until a search comes back short.
        """
        structure = self._structure
        permitted = len(self) - excluded.size if subset is None else min(subset.size, len(self))
        want = min(k, permitted)
        if want <= 0:
            return np.zeros((queries.shape[0], 0), np.float32), np.zeros((queries.shape[0], 0), np.int64)
        selector, keep_alive = id_selector(subset, excluded)
        if structure.kind == "hnsw":
            base = max(self.config.hnsw_ef_search, want)
            most = 16 * base
        else:
            base = self.config.nprobe
            most = structure.nlist
        effort = min(most, math.ceil(base * len(self) / permitted))
        scores, labels = structure.search(queries, want, selector, effort)
        short = np.count_nonzero(labels >= 0, axis=1) < want
        while short.any() and effort < most:
            effort = min(most, effort * _WIDEN)
            scores[short], labels[short] = structure.search(queries[short], want, selector, effort)
            short = np.count_nonzero(labels >= 0, axis=1) < want
        del keep_alive
        if short.any():
            pool = without(self._ids, excluded) if subset is None else subset[member(self._ids, subset)]
            short &= np.count_nonzero(labels >= 0, axis=1) < min(want, pool.size)
        if short.any():
            # The index could not reach enough permitted items: score them all exactly.
            logger.info("%s of %s queries fell back to exact search", int(short.sum()), short.size)
            found_scores, found_labels = self._exact_subset(queries[short], want, pool)
            scores[short] = -np.inf
            labels[short] = -1
            scores[short, : found_labels.shape[1]] = found_scores
            labels[short, : found_labels.shape[1]] = found_labels
        return scores, labels

    def _exact_subset(
        self, queries: np.ndarray, want: int, pool: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``want`` of the stored ids ``pool`` (sorted) by exact inner product, best first."""
        if self.kind == "ivf_flat" and pool.size * self.dim * 4 > self.config.gather_max_bytes:
            selector, _keep_alive = id_selector(pool, np.zeros(0, np.int64))
            return self._structure.scan_all(queries, min(want, pool.size), selector)
        return self._exact(queries, want, pool)

    def _exact(self, queries: np.ndarray, want: int, subset: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Top ``want`` of ``subset`` (sorted ids) by exact inner product, best first."""
        best_scores = np.zeros((queries.shape[0], 0), np.float32)
        best_ids = np.zeros((queries.shape[0], 0), np.int64)
        for start in range(0, subset.size, _CHUNK):
            chunk = subset[start : start + _CHUNK]
            # FAISS's kernel rather than a NumPy product: for one query NumPy's threaded BLAS took
            # 8 ms over 10,000 x 512 vectors on a busy machine, FAISS 0.7 ms.
            scores, rows = faiss.knn(
                queries, self._structure.reconstruct(chunk), min(want, chunk.size), faiss.METRIC_INNER_PRODUCT
            )
            scores = np.concatenate([best_scores, scores], axis=1)
            labels = np.concatenate([best_ids, chunk[rows]], axis=1)
            order = np.lexsort((labels, -scores), axis=1)[:, :want]
            best_scores, best_ids = np.take_along_axis(scores, order, 1), np.take_along_axis(labels, order, 1)
        return best_scores, best_ids

    def _rebuild(
        self, kind: BuiltKind, kept: np.ndarray, new_ids: np.ndarray, new_vectors: np.ndarray
    ) -> None:
        """Build a fresh ``kind`` structure from the kept stored vectors plus new ones, then swap."""
        start = time.perf_counter()
        total = kept.size + new_ids.size
        sample = np.zeros((0, self.dim), np.float32)
        if kind.startswith("ivf"):
            rng = np.random.default_rng(self.config.seed)
            picks = np.sort(rng.choice(total, size=train_sample_size(total, self.config), replace=False))
            old = picks[picks < kept.size]
            sample = np.concatenate(
                [self._structure.reconstruct(kept[old]), new_vectors[picks[picks >= kept.size] - kept.size]]
            )
        fresh = build_structure(kind, self.dim, sample, total, self.config)
        for begin in range(0, kept.size, _CHUNK):
            chunk = kept[begin : begin + _CHUNK]
            fresh.add(chunk, self._structure.reconstruct(chunk))
        fresh.add(new_ids, new_vectors)
        self._structure = fresh
        logger.info(
            "index rebuilt as %s for %s vectors (%s lists) in %.1f s",
            kind,
            total,
            fresh.nlist,
            time.perf_counter() - start,
        )
