"""How the vector index is built: the kind of FAISS structure, its size thresholds and search effort.

``kind="auto"`` walks a ladder by size (the thresholds are fields of :class:`IndexConfig`):

* fewer than ``flat_max`` (10,000) vectors: exact search. A query reads every vector (10,000 x 1280
  float32 is 51 MB, a few milliseconds on one core), and IVF cannot be trained well on fewer points
  (FAISS wants about 39 per list).
* from ``flat_max`` up to ``ivf_flat_max_bytes`` of float32 vectors (8 GiB: 1.6 million vectors at
  dimension 1280, 4.2 million at 512): IVF-Flat. It keeps every vector exactly (so exact re-scoring
  and subset search need no second copy), supports removal, and filters inside the scan with an
  ``IDSelector``. ``nlist`` is about 4·√n (4,096 lists at one million) and ``nprobe`` 32.
* past that: IVF-PQ (``pq_m`` bytes per vector) for candidate generation, with a float16 copy of
  every vector (2·dim bytes) to re-score ``pq_refine``·k candidates exactly: half the memory of
  IVF-Flat, and the scan reads ``pq_m`` bytes per vector instead of 4·dim.

HNSW is never chosen by ``auto``: FAISS's HNSW cannot remove vectors (every removal or replacement
rebuilds the graph), its build is the slowest of all (about 22 s for 100k x 512 on two cores), and a
graph walk under a selective filter loses its way. It stays available as ``kind="hnsw"`` for
read-mostly collections that want the lowest unfiltered latency.

An IVF index is re-trained (new centroids on a fresh sample, every vector re-added) when it has grown
``retrain_growth`` times (4x) since its last training, so ``nlist`` keeps up with √n; the rebuilds
cost a constant factor (about 1.33x) over building once at the final size.

Measured with the defaults (``reid bench index --n 1000000``, added 100,000 at a time, on two
shared cores with a load average of 2 to 6; synthetic clustered data; k = 100; one thread a query):

======================  ==========================  ==========================
                        dim 512                     dim 1280
======================  ==========================  ==========================
build (two re-trains)   102 s                       264 s
index memory            2.0 GB                      5.0 GB
unfiltered p50 / p99    1.6 / 2.3 ms                3.6 / 5.2 ms
recall@10 / @100        0.973 / 0.971               0.970 / 0.972
10% filter p50 / p99    3.9 / 4.8 ms, recall 0.99   6.8 / 10.0 ms, recall 0.99
1% filter p50 / p99     6.7 / 7.8 ms, exact         13.4 / 23.2 ms, exact
======================  ==========================  ==========================
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

Kind = Literal["auto", "flat", "hnsw", "ivf_flat", "ivf_pq"]
BuiltKind = Literal["flat", "hnsw", "ivf_flat", "ivf_pq"]

_MIN_NLIST = 16
_MAX_NLIST = 65_536
# FAISS's k-means asks for at least 39 training points per centroid.
_POINTS_PER_LIST = 39


@dataclass(frozen=True, kw_only=True)
class IndexConfig:
    """Settings of a :class:`~reid_engine.index.VectorIndex`.

    Attributes:
        kind: ``"auto"`` (the size ladder of this module), or one structure kept at every size past
            ``flat_max``: ``"flat"`` (always exact), ``"hnsw"``, ``"ivf_flat"`` or ``"ivf_pq"``.
        flat_max: below this many vectors every kind searches exactly.
        ivf_flat_max_bytes: ``auto`` moves from IVF-Flat to IVF-PQ once the float32 vectors would
            take more than this.
        retrain_growth: an IVF index is re-trained when it holds this many times the vectors it
            was trained on.
        nlist: IVF lists; 0 picks about 4·√n (see :func:`nlist_for`).
        nprobe: IVF lists scanned per unfiltered query; a filter passing a fraction p of the items
            scans nprobe/p lists, so about as many permitted vectors are compared either way.
        hnsw_m: HNSW graph degree.
        hnsw_ef_construction: HNSW build-time beam width.
        hnsw_ef_search: HNSW search beam width (at least k is used).
        pq_m: IVF-PQ sub-quantizers (bytes per vector at 8 bits); the largest divisor of the
            dimension not above this is used.
        pq_nbits: bits per sub-quantizer code.
        pq_refine: IVF-PQ fetches ``pq_refine``·k candidates and re-scores them exactly.
        exact_subset_max: an allowed set with at most this many stored items is searched exactly
            instead of through the ANN index (past it, the ANN index would scan most lists anyway).
        gather_max_bytes: an exact search gathers the allowed vectors and scores them while they
            take at most this much; past it, IVF-Flat scans every list in place instead, scoring
            only allowed ids.
        seed: seed of the training sample and of k-means, so a rebuild is reproducible.
        use_gpu: train k-means on the GPU when faiss-gpu and a GPU are present.
    """

    kind: Kind = "auto"
    flat_max: int = 10_000
    ivf_flat_max_bytes: int = 8 * 2**30
    retrain_growth: float = 4.0
    nlist: int = 0
    nprobe: int = 32
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 128
    pq_m: int = 64
    pq_nbits: int = 8
    pq_refine: int = 4
    exact_subset_max: int = 16_384
    gather_max_bytes: int = 24 * 2**20
    seed: int = 1234
    use_gpu: bool = True

    def __post_init__(self) -> None:
        for name in ("nprobe", "hnsw_m", "hnsw_ef_construction", "hnsw_ef_search", "pq_m", "pq_refine"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.flat_max < 1 or self.ivf_flat_max_bytes < 1:
            raise ValueError("flat_max and ivf_flat_max_bytes must be positive")
        if self.exact_subset_max < 0 or self.gather_max_bytes < 0:
            raise ValueError("exact_subset_max and gather_max_bytes must not be negative")
        if self.nlist < 0:
            raise ValueError(f"nlist must be 0 (automatic) or positive, got {self.nlist}")
        if self.retrain_growth <= 1.0:
            raise ValueError(f"retrain_growth must be above 1, got {self.retrain_growth}")
        if not 4 <= self.pq_nbits <= 12:
            raise ValueError(f"pq_nbits must be within 4..12, got {self.pq_nbits}")
        if self.kind == "ivf_pq" and self.flat_max < 2**self.pq_nbits:
            # PQ k-means needs at least one training point per code.
            raise ValueError(f"ivf_pq needs flat_max >= 2**pq_nbits = {2**self.pq_nbits}")


def choose_kind(n: int, dim: int, config: IndexConfig) -> BuiltKind:
    """The structure an index of ``n`` vectors of dimension ``dim`` should use."""
    if config.kind == "flat" or n < config.flat_max:
        return "flat"
    match config.kind:
        case "hnsw" | "ivf_flat" | "ivf_pq":
            return config.kind
        case "auto":
            return "ivf_pq" if n * dim * 4 > config.ivf_flat_max_bytes else "ivf_flat"


def nlist_for(n: int, config: IndexConfig) -> int:
    """IVF list count for an index trained at ``n`` vectors.

    The configured ``nlist`` if set; else 4·√m rounded to a power of two, where m = n·√growth is
    the geometric middle of the sizes the index serves before its next re-training (so the lists
    are never more than about twice too large or too small); at most n/39, for training points.
    """
    most = max(1, n // _POINTS_PER_LIST)
    if config.nlist:
        return max(1, min(config.nlist, most))
    middle = n * math.sqrt(config.retrain_growth)
    wanted = 2 ** round(math.log2(max(1.0, 4 * math.sqrt(middle))))
    cap = 2 ** int(math.log2(most))
    return max(min(_MIN_NLIST, cap), min(wanted, cap, _MAX_NLIST))


def pq_m_for(dim: int, config: IndexConfig) -> int:
    """The largest divisor of ``dim`` that is at most ``config.pq_m``."""
    return max(m for m in range(1, min(dim, config.pq_m) + 1) if dim % m == 0)
