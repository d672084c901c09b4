"""The FAISS structures behind a vector index, one per kind, behind one small interface.

Every structure stores the caller's int64 ids itself (IVF natively, flat and HNSW through
``IndexIDMap2``) and can give back each stored vector: IVF-Flat from its codes through a hash-table
direct map, flat and HNSW from their storage, IVF-PQ from a float16 copy kept beside the PQ codes
(the codes alone are too lossy to re-score with). Memory per vector, excluding the ids' hash maps
(about 40 bytes): flat and IVF-Flat 4·dim, HNSW 4·dim + 8·M, IVF-PQ ``pq_m`` + 2·dim.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import faiss
import numpy as np

from reid_engine.index.config import BuiltKind, IndexConfig, nlist_for, pq_m_for

logger = logging.getLogger(__name__)

# From this many lists a flat coarse quantizer dominates the cost of adding (each vector is compared
# with every centroid); an HNSW graph over the centroids made adding 200k x 1280 vectors to 4,096
# lists 3x faster (38 s against 112 s on two cores) at the same recall.
_HNSW_QUANTIZER_MIN_NLIST = 4096
_TRAIN_POINTS_PER_LIST = 32
# From this many lists k-means runs in two levels (√nlist coarse clusters, then each split in
# proportion to its size): 1/30 of the work of one level at 4,096 lists.
_TWO_LEVEL_MIN_NLIST = 1024
# Multiply-adds per k-means iteration below which a run is single-threaded: on a busy two-core
# machine every OpenMP barrier can wait out a time slice, and training 8 PQ codebooks on 6,000
# points took 5.6 s on two threads against 0.35 s on one.
_SMALL_WORK = 2e8
_KMEANS_ITERATIONS = 10


def gpu_count(config: IndexConfig) -> int:
    """GPUs FAISS may use under ``config``: 0 with faiss-cpu, without a GPU, or when disabled."""
    if not config.use_gpu or not hasattr(faiss, "StandardGpuResources"):
        return 0
    return int(faiss.get_num_gpus())


@dataclass
class Structure:
    """One FAISS index of a given kind, with the float16 copy that IVF-PQ re-scores with.

    Attributes:
        kind: which structure this is.
        index: the searchable FAISS index; its labels are the caller's ids.
        raw: for ``ivf_pq``, ``IndexIDMap2`` over float16 vectors; otherwise None.
        trained_size: how many vectors the index was built and trained for.
        refine: for ``ivf_pq``, candidates fetched per wanted hit before exact re-scoring.
    """

    kind: BuiltKind
    index: faiss.Index
    raw: faiss.IndexIDMap2 | None
    trained_size: int
    refine: int = 4

    @property
    def nlist(self) -> int:
        """IVF list count, 0 for the other kinds."""
        return int(faiss.extract_index_ivf(self.index).nlist) if self.kind.startswith("ivf") else 0

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under ids none of which is present."""
        self.index.add_with_ids(vectors, ids)
        if self.raw is not None:
            self.raw.add_with_ids(vectors, ids)

    def remove(self, ids: np.ndarray) -> None:
        """Remove ids that are all present (not for HNSW, which cannot remove)."""
        if self.kind == "hnsw":
            raise ValueError("HNSW cannot remove vectors; rebuild it instead")
        if self.kind.startswith("ivf"):
            # A hash-table direct map only removes through an explicit id array.
            self.index.remove_ids(faiss.IDSelectorArray(ids))
        else:
            self.index.remove_ids(faiss.IDSelectorBatch(ids))
        if self.raw is not None:
            self.raw.remove_ids(faiss.IDSelectorBatch(ids))

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of present ids, float32 (len(ids), dim)."""
        source = self.raw if self.raw is not None else self.index
        if ids.size == 0:
            return np.zeros((0, source.d), np.float32)
        return np.asarray(source.reconstruct_batch(ids), dtype=np.float32)

    def stored_ids(self) -> np.ndarray:
        """Every stored id, int64, unsorted."""
        if isinstance(self.index, faiss.IndexIDMap2):
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        invlists = faiss.extract_index_ivf(self.index).invlists
        parts = [np.zeros(0, np.int64)]
        if invlists is None:
            return parts[0]
        for list_no in range(invlists.nlist):
            size = invlists.list_size(list_no)
            if size:
                parts.append(faiss.rev_swig_ptr(invlists.get_ids(list_no), size).copy())
        return np.concatenate(parts).astype(np.int64)

    def search(
        self, queries: np.ndarray, k: int, selector: faiss.IDSelector | None, effort: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Approximate top ``k`` (exact for flat) among ids the selector admits.

        Args:
            queries: float32 (Q, dim).
            k: results per query; missing ones have id -1.
            selector: ids allowed, or None for all.
            effort: ``nprobe`` for IVF, ``efSearch`` for HNSW; ignored by flat.

        Returns:
            Scores float32 (Q, k) and ids int64 (Q, k), best first.
        """
        params: faiss.SearchParameters
        match self.kind:
            case "flat":
                params = faiss.SearchParameters()
            case "hnsw":
                # The HNSW parameter class is missing from FAISS's type stubs.
                params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
                params.efSearch = max(effort, k)  # type: ignore[attr-defined]
            case "ivf_flat" | "ivf_pq":
                params = self._ivf_params(effort)
        params.sel = selector
        if self.raw is None:
            return self.index.search(queries, k, params=params)
        _, candidates = self.index.search(queries, k * self.refine, params=params)
        return self._rescore(self.raw, queries, candidates, k)

    def scan_all(
        self, queries: np.ndarray, k: int, selector: faiss.IDSelector | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """IVF-Flat only: exact top ``k`` among admitted ids, scanning every list in place.

        No coarse quantizer runs and no vector is copied; only admitted ids are scored.

        Returns:
            Scores float32 (Q, k) and ids int64 (Q, k), best first; missing ones have id -1.
        """
        ivf = faiss.extract_index_ivf(self.index)
        count = queries.shape[0]
        params = faiss.SearchParametersIVF()
        params.nprobe = int(ivf.nlist)
        params.sel = selector
        lists = np.ascontiguousarray(
            np.broadcast_to(np.arange(ivf.nlist, dtype=np.int64), (count, ivf.nlist))
        )
        coarse = np.zeros(lists.shape, np.float32)
        scores = np.empty((count, k), np.float32)
        labels = np.empty((count, k), np.int64)
        # FAISS's Python wrapper of search_preassigned refuses search parameters (so selectors); the
        # raw method, missing from the type stubs, takes them.
        ivf.search_preassigned_c(  # type: ignore[attr-defined]
            count,
            faiss.swig_ptr(np.ascontiguousarray(queries, dtype=np.float32)),
            k,
            faiss.swig_ptr(lists),
            faiss.swig_ptr(coarse),
            faiss.swig_ptr(scores),
            faiss.swig_ptr(labels),
            False,
            params,
        )
        return scores, labels

    def _ivf_params(self, nprobe: int) -> faiss.SearchParametersIVF:
        params = faiss.SearchParametersIVF()
        params.nprobe = min(nprobe, self.nlist)
        ivf = faiss.extract_index_ivf(self.index)
        if isinstance(faiss.downcast_index(ivf.quantizer), faiss.IndexHNSW):
            quantizer_params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
            # The graph must surface at least nprobe centroids, with slack for a good ordering.
            quantizer_params.efSearch = max(64, 2 * params.nprobe)
            params.quantizer_params = quantizer_params
        return params

    @staticmethod
    def _rescore(
        raw: faiss.IndexIDMap2, queries: np.ndarray, candidates: np.ndarray, k: int
    ) -> tuple[np.ndarray, np.ndarray]:
        valid = candidates >= 0
        vectors = np.zeros((*candidates.shape, queries.shape[1]), np.float32)
        vectors[valid] = raw.reconstruct_batch(candidates[valid])
        scores = np.einsum("qcd,qd->qc", vectors, queries)
        scores[~valid] = -np.inf
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        top_ids = np.take_along_axis(candidates, order, axis=1)
        top_scores = np.take_along_axis(scores, order, axis=1).astype(np.float32)
        top_ids[~np.isfinite(top_scores)] = -1
        return top_scores, top_ids

    def memory_bytes(self) -> int:
        """Approximate bytes held: codes, ids and id maps, centroids, graph links."""
        n = int(self.index.ntotal)
        d = int(self.index.d)
        id_maps = 48 * n
        match self.kind:
            case "flat":
                return n * 4 * d + id_maps
            case "hnsw":
                links = 32
                graph = (
                    faiss.downcast_index(self.index.index)
                    if isinstance(self.index, faiss.IndexIDMap2)
                    else None
                )
                if isinstance(graph, faiss.IndexHNSW):
                    links = int(faiss.vector_to_array(graph.hnsw.cum_nneighbor_per_level)[1])
                return n * (4 * d + 4 * links) + id_maps
            case "ivf_flat" | "ivf_pq":
                ivf = faiss.extract_index_ivf(self.index)
                raw = n * (2 * d + 48) if self.raw is not None else 0
                return n * (int(ivf.code_size) + 8) + id_maps + raw + int(ivf.nlist) * 4 * d


def build_structure(
    kind: BuiltKind, dim: int, sample: np.ndarray, size: int, config: IndexConfig
) -> Structure:
    """An empty structure of ``kind``, trained on ``sample`` when the kind needs training.

    Args:
        kind: the structure to build.
        dim: vector dimension.
        sample: float32 (S, dim) training vectors drawn from the data (ignored by flat and HNSW).
        size: how many vectors the structure is built for (sets ``nlist``).
        config: index settings.
    """
    match kind:
        case "flat":
            return Structure(kind, faiss.IndexIDMap2(faiss.IndexFlatIP(dim)), None, size)
        case "hnsw":
            graph = faiss.IndexHNSWFlat(dim, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            graph.hnsw.efConstruction = config.hnsw_ef_construction
            return Structure(kind, faiss.IndexIDMap2(graph), None, size)
        case "ivf_flat" | "ivf_pq":
            return _build_ivf(kind, dim, sample, size, config)


def _build_ivf(kind: BuiltKind, dim: int, sample: np.ndarray, size: int, config: IndexConfig) -> Structure:
    nlist = nlist_for(size, config)
    centroids = train_centroids(sample, nlist, seed=config.seed, gpus=gpu_count(config))
    quantizer: faiss.Index
    if nlist >= _HNSW_QUANTIZER_MIN_NLIST:
        graph = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
        graph.hnsw.efConstruction = 80
        # Adding assigns each vector to its list through this graph: 32 keeps that accurate.
        graph.hnsw.efSearch = 32
        quantizer = graph
    else:
        quantizer = faiss.IndexFlatIP(dim)
    quantizer.add(centroids)
    index: faiss.IndexIVF
    raw: faiss.IndexIDMap2 | None = None
    if kind == "ivf_pq":
        index = faiss.IndexIVFPQ(
            quantizer, dim, nlist, pq_m_for(dim, config), config.pq_nbits, faiss.METRIC_INNER_PRODUCT
        )
        raw = faiss.IndexIDMap2(
            faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
        )
    else:
        index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    # The quantizer already holds the centroids, so this only trains the PQ codebooks (if any).
    with _threads_for(sample.shape[0] * 2**config.pq_nbits * dim if kind == "ivf_pq" else 0):
        index.train(sample)
    # A hash-table direct map gives vectors back by id and keeps removal cheap; its enum is missing
    # from FAISS's type stubs.
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
    return Structure(kind, index, raw, size, refine=config.pq_refine)


def train_sample_size(size: int, config: IndexConfig) -> int:
    """How many vectors to train an IVF structure for ``size`` vectors on."""
    wanted = _TRAIN_POINTS_PER_LIST * nlist_for(size, config)
    # PQ codebooks want about 39 points per code as well.
    return min(size, max(wanted, 39 * 2**config.pq_nbits))


def train_centroids(sample: np.ndarray, nlist: int, *, seed: int, gpus: int) -> np.ndarray:
    """Spherical k-means centroids, float32 (nlist, dim), deterministic for a given seed.

    Args:
        sample: float32 (S, dim) with S >= nlist.
        nlist: centroid count.
        seed: k-means seed.
        gpus: GPUs k-means may use (0 for CPU).
    """
    if nlist < _TWO_LEVEL_MIN_NLIST:
        return _kmeans(sample, nlist, seed=seed, gpus=gpus)
    coarse_count = round(nlist**0.5)
    coarse = _kmeans(sample, coarse_count, seed=seed, gpus=gpus)
    assignment = np.argmax(sample @ coarse.T, axis=1)
    shares = _split(np.bincount(assignment, minlength=coarse_count), nlist)
    parts = []
    for cluster, share in enumerate(shares.tolist()):
        members = sample[assignment == cluster]
        if share == members.shape[0]:
            parts.append(members)
        elif share > 0:
            parts.append(_kmeans(members, share, seed=seed + 1 + cluster, gpus=gpus))
    return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)


def _split(sizes: np.ndarray, total: int) -> np.ndarray:
    """Shares of ``total`` proportional to ``sizes``, none above its size, summing to ``total``."""
    if int(sizes.sum()) < total:
        raise ValueError(f"cannot split {int(sizes.sum())} training points into {total} clusters")
    ideal = sizes / int(sizes.sum()) * total
    shares = np.minimum(np.floor(ideal).astype(np.int64), sizes)
    while (shortfall := total - int(shares.sum())) > 0:
        order = np.argsort(-(ideal - shares), kind="stable")
        order = order[shares[order] < sizes[order]]
        shares[order[:shortfall]] += 1
    return shares


def _kmeans(points: np.ndarray, k: int, *, seed: int, gpus: int) -> np.ndarray:
    kmeans = faiss.Kmeans(
        points.shape[1],
        k,
        niter=_KMEANS_ITERATIONS,
        seed=seed,
        spherical=True,
        gpu=gpus if gpus else False,
        # The sample is sized by the caller: no FAISS sub-sampling, no "too few points" warnings.
        min_points_per_centroid=1,
        max_points_per_centroid=1 << 20,
    )
    with _threads_for(points.shape[0] * k * points.shape[1]):
        kmeans.train(np.ascontiguousarray(points, dtype=np.float32))
    if kmeans.centroids is None:
        raise RuntimeError("k-means returned no centroids")
    return np.asarray(kmeans.centroids, dtype=np.float32)


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run FAISS on one OpenMP thread inside the block (the calling thread's setting)."""
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(threads)


@contextmanager
def _threads_for(work: float) -> Iterator[None]:
    """Run FAISS single-threaded inside the block when ``work`` is small."""
    if work >= _SMALL_WORK:
        yield
        return
    with single_threaded():
        yield
