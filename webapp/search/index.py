"""The process-local FAISS index, kept in step with the database (the source of truth).

Each worker process holds its own copy: it starts from the snapshot on disk, adds what the database
has beyond the snapshot, and rebuilds from the database when the two disagree (a deletion, or a
snapshot that fails its checksum).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable

import numpy as np
from django.conf import settings

from reid_engine.errors import IndexCorruptError
from reid_engine.index import VectorIndex, load_snapshot, save_snapshot
from webapp.tracklets.models import Tracklet

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_index: VectorIndex | None = None
_BATCH = 5000


def _snapshot_path():  # type: ignore[no-untyped-def]
    return settings.INDEX_DIR / "tracklets.faiss"


def _vectors(rows: Iterable[tuple[int, bytes]]) -> tuple[np.ndarray, np.ndarray]:
    ids, vecs = [], []
    for pk, blob in rows:
        ids.append(pk)
        vecs.append(np.frombuffer(bytes(blob), dtype=np.float32))
    return np.asarray(ids, dtype=np.int64), np.stack(vecs) if vecs else np.zeros((0, 0), np.float32)


def _add_from_db(index: VectorIndex | None, after_id: int) -> VectorIndex | None:
    qs = Tracklet.objects.filter(pk__gt=after_id).order_by("pk").values_list("pk", "embedding")
    id_parts, vec_parts = [], []
    last = after_id
    while True:
        rows = list(qs.filter(pk__gt=last)[:_BATCH])
        if not rows:
            break
        ids, vecs = _vectors(rows)
        id_parts.append(ids)
        vec_parts.append(vecs)
        last = int(ids[-1])
    if not id_parts:
        return index
    ids = np.concatenate(id_parts)
    vecs = np.concatenate(vec_parts)
    if index is None:
        index = VectorIndex(vecs.shape[1])
    if vecs.shape[1] != index.dim:
        logger.warning("embedding dimension changed (%s → %s); rebuilding", index.dim, vecs.shape[1])
        return _add_from_db(None, 0)
    # One add, so a large backlog trains the index once rather than at every size threshold.
    index.add(ids, vecs)
    return index


def _rebuild() -> VectorIndex | None:
    return _add_from_db(None, 0)


def get_index() -> VectorIndex | None:
    """The index, synced with the database; None while there is nothing to search."""
    global _index
    with _lock:
        if _index is None:
            try:
                _index = load_snapshot(_snapshot_path())
            except FileNotFoundError:
                _index = None
            except IndexCorruptError as exc:
                logger.warning("%s; rebuilding from the database", exc)
                _index = None
        _index = _add_from_db(_index, _index.last_id if _index is not None else 0)
        db_count = Tracklet.objects.count()
        if _index is not None and len(_index) != db_count:
            # Something was deleted since the snapshot (or another process's snapshot raced ours).
            _index = _rebuild()
        return _index


def index_add(tracklets: list[Tracklet]) -> None:
    """Bring the index up to date after an ingest and persist a snapshot."""
    index = get_index()
    if index is not None:
        save_snapshot(index, _snapshot_path())
        logger.info("index snapshot saved: %s vectors (added %s)", len(index), len(tracklets))


def index_forget() -> None:
    """Drop this process's copy; the next use reloads it from the snapshot and the database."""
    global _index
    with _lock:
        _index = None
