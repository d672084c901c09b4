"""A FAISS inner-product index keyed by the caller's ids, and atomic, checksummed snapshots of it.

FAISS loads a bit-flipped file without complaint and a writer killed mid-save leaves a broken file,
so a snapshot is written to a temporary file, fsynced and renamed into place, with a header that
holds the sha256 of the index and the highest id it contains; a mismatch raises ``IndexCorruptError``
and the caller rebuilds from its database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path

import faiss
import numpy as np

from reid_engine.errors import IndexCorruptError
from reid_engine.types import Hit

logger = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 1


class VectorIndex:
    """Exact cosine-similarity search over L2-normalised float32 vectors with int64 ids.

    Args:
        dim: embedding dimension.
    """

    def __init__(self, dim: int, *, _index: faiss.IndexIDMap2 | None = None, last_id: int = 0) -> None:
        if dim <= 0:
            raise ValueError(f"dimension must be positive, got {dim}")
        self.dim = dim
        self._index = _index if _index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.last_id = last_id

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given ids; an id already present is replaced, never duplicated.

        Args:
            ids: int64 (N,).
            vectors: float32 (N, dim), L2-normalised.
        """
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or vectors.shape[0] != ids.shape[0]:
            raise ValueError(f"expected ({ids.shape[0]}, {self.dim}) vectors, got {vectors.shape}")
        if ids.size == 0:
            return
        # Re-ingesting a video re-adds its tracklets: remove first so the index stays a set.
        self._index.remove_ids(faiss.IDSelectorBatch(ids))
        self._index.add_with_ids(vectors, ids)
        self.last_id = max(self.last_id, int(ids.max()))

    def remove(self, ids: np.ndarray) -> int:
        """Remove the given ids; returns how many were present."""
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if ids.size == 0:
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))

    def ids(self) -> np.ndarray:
        """All ids in the index, int64 (N,), in insertion order."""
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def search(self, query: np.ndarray, k: int, *, exclude: set[int] | None = None) -> list[Hit]:
        """Return the ``k`` nearest items to one query vector, best first.

        Args:
            query: float32 (dim,), L2-normalised.
            k: how many hits at most.
            exclude: ids never to return (the query's own tracklet, say); k hits are still returned
                when enough other items exist.
        """
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if query.shape[1] != self.dim:
            raise ValueError(f"query has dimension {query.shape[1]}, index has {self.dim}")
        if k <= 0 or len(self) == 0:
            return []
        params = None
        if exclude:
            selector = faiss.IDSelectorNot(faiss.IDSelectorBatch(np.fromiter(exclude, dtype=np.int64)))
            params = faiss.SearchParameters()
            params.sel = selector
        scores, ids = self._index.search(query, min(k, len(self)), params=params)
        hits: list[Hit] = []
        for score, item in zip(scores[0], ids[0], strict=True):
            if item < 0:
                break
            hits.append(Hit(item_id=int(item), score=float(score), rank=len(hits)))
        return hits


_MAGIC = b"LVINDEX1"


def save_snapshot(index: VectorIndex, path: str | os.PathLike[str]) -> None:
    """Write ``index`` to ``path`` atomically: one file holding a JSON header and the FAISS blob."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = faiss.serialize_index(index._index).tobytes()
    header = json.dumps(
        {
            "format": SNAPSHOT_FORMAT,
            "dim": index.dim,
            "count": len(index),
            "last_id": index.last_id,
            "sha256": hashlib.sha256(blob).hexdigest(),
        },
        sort_keys=True,
    ).encode()
    # Header and blob in one file, so a single rename publishes both: a reader never pairs a new
    # index with an old manifest.
    _atomic_write(path, _MAGIC + len(header).to_bytes(4, "little") + header + blob)


def load_snapshot(path: str | os.PathLike[str]) -> VectorIndex:
    """Load a snapshot written by :func:`save_snapshot`.

    Raises:
        FileNotFoundError: no snapshot at ``path``.
        IndexCorruptError: the file does not match its checksum or cannot be parsed.
    """
    path = Path(path)
    data = path.read_bytes()
    try:
        if data[:8] != _MAGIC:
            raise IndexCorruptError(f"index snapshot {path.name} is not a snapshot of this format")
        size = int.from_bytes(data[8:12], "little")
        header = json.loads(data[12 : 12 + size])
        blob = data[12 + size :]
        if header.get("format") != SNAPSHOT_FORMAT:
            raise IndexCorruptError(f"index snapshot {path.name} has an unknown format")
        if hashlib.sha256(blob).hexdigest() != header["sha256"]:
            raise IndexCorruptError(f"index snapshot {path.name} does not match its checksum")
        raw = faiss.deserialize_index(np.frombuffer(blob, dtype=np.uint8))
        if not isinstance(raw, faiss.IndexIDMap2):
            raise IndexCorruptError(f"index snapshot {path.name} holds an unexpected index type")
    except (ValueError, KeyError, RuntimeError, TypeError) as exc:
        raise IndexCorruptError(f"index snapshot {path.name} is unreadable: {exc}") from None
    if raw.d != header["dim"] or raw.ntotal != header["count"]:
        raise IndexCorruptError(f"index snapshot {path.name} disagrees with its header")
    return VectorIndex(int(raw.d), _index=raw, last_id=int(header["last_id"]))


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
