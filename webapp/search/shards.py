"""Per-gallery index shards that keep serving their last good index while a replacement is built.

A shard knows what its index holds by a :class:`Fingerprint` (count, sum and highest of the ids) and
compares it with the database's. New rows are appended in place, under the shard's write lock (a
FAISS index must not be searched while it is written), and the process that deletes rows takes
their ids out in place (:meth:`Shard.purge`). A deletion seen only in the fingerprint (another
process's), or a camera moving to another gallery, needs a rebuild: it runs on a background thread
while searches go on against the previous index, and the finished index is swapped in by one
reference assignment. Only the very first load of a shard makes its callers wait, since there is
nothing older to serve; other shards never wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    # FAISS loads with the first index, not with the URL map of every web process.
    from reid_engine.index import VectorIndex

logger = logging.getLogger(__name__)

ShardKey = int
"""A gallery's id; :data:`DEFAULT_SHARD` for cameras without a gallery."""

DEFAULT_SHARD: ShardKey = 0


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """A cheap summary of a set of ids, equal for equal sets in practice.

    Two different sets with the same count, sum and maximum need a deletion and an insertion of an
    older id that exactly cancel out between two searches; the next change then tells them apart.
    """

    count: int = 0
    id_sum: int = 0
    last_id: int = 0

    @classmethod
    def of(cls, ids: np.ndarray) -> Fingerprint:
        """The fingerprint of int64 ids (N,)."""
        if ids.size == 0:
            return cls()
        return cls(int(ids.size), int(ids.sum()), int(ids.max()))

    def plus(self, other: Fingerprint) -> Fingerprint:
        """The fingerprint of the union of two disjoint sets."""
        return Fingerprint(self.count + other.count, self.id_sum + other.id_sum, max(self.last_id, other.last_id))


class ShardSource(Protocol):
    """Where a shard's vectors come from (the database) and where its snapshots go."""

    def rows(self, key: ShardKey, after_id: int, upto_id: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids int64 (N,) ascending and float32 (N, dim) vectors of the shard with ids in (after, upto]."""
        ...

    def load(self, key: ShardKey) -> VectorIndex | None:
        """The shard's snapshot, or None when there is none or it is unusable."""
        ...

    def save(self, key: ShardKey, index: VectorIndex) -> None:
        """Persist a snapshot of the shard's index."""
        ...

    def discard(self, key: ShardKey) -> None:
        """Remove the shard's snapshot (it has no rows left)."""
        ...

    def release(self) -> None:
        """Free what the calling thread holds (its database connection) when a build thread ends."""
        ...


class ReadWriteLock:
    """Many searches at a time, or one writer; a waiting writer holds back new searches."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self._readers_waiting = 0

    @property
    def waiting(self) -> tuple[int, int]:
        """How many (readers, writers) are blocked right now."""
        with self._cond:
            return self._readers_waiting, self._writers_waiting

    @contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            self._readers_waiting += 1
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers_waiting -= 1
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if self._readers == 0:
                    self._cond.notify_all()

    @contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._writers_waiting += 1
            while self._writing or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


@dataclass(frozen=True, slots=True)
class _State:
    index: VectorIndex | None
    fingerprint: Fingerprint


class Shard:
    """The index of one gallery's tracklets, kept in step with the database.

    Args:
        key: the shard's gallery id (or :data:`DEFAULT_SHARD`).
        source: the database and snapshot store.
    """

    def __init__(self, key: ShardKey, source: ShardSource) -> None:
        self.key = key
        self._source = source
        # One reference, swapped whole: a search reads the index and what it holds together.
        self._state = _State(None, Fingerprint())
        self._rw = ReadWriteLock()
        self._building = threading.Lock()
        self._builder: threading.Thread | None = None

    @property
    def index(self) -> VectorIndex | None:
        return self._state.index

    def prepare(self, db: Fingerprint) -> bool:
        """Bring the shard up to ``db`` (the database's fingerprint of it) where that is quick.

        Returns:
            True when the index now holds exactly the database's rows; False while a rebuild runs
            in the background and the previous index is served.
        """
        if self._state.index is None:
            with self._building:
                if self._state.index is None:
                    self._state = self._first_load(db)
        if self._state.fingerprint == db or self._append(db):
            return True
        self._rebuild_in_background()
        return False

    @contextmanager
    def reading(self) -> Iterator[VectorIndex | None]:
        """The current index, protected from in-place writes while the block runs."""
        with self._rw.read():
            yield self._state.index

    def save(self) -> None:
        """Write a snapshot of the current index."""
        with self.reading() as index:
            if index is not None:
                self._source.save(self.key, index)

    def rebuild_now(self) -> int:
        """Rebuild from the database and rewrite the snapshot at once (or remove it, when the shard
        is empty): after a deletion no removed vector stays in this process or on disk.

        Returns:
            The vectors the shard holds now.
        """
        with self._building:
            return self._rebuild_and_store()

    def purge(self, ids: np.ndarray, db: Fingerprint) -> int:
        """Remove deleted rows' ``ids`` from the index and rewrite its snapshot (or remove it, when
        the shard is left empty), without reading the shard's other rows from the database.

        The index taken is this process's, or else the shard's snapshot. Once the ids are out it
        must match ``db`` (the database's fingerprint of the shard, taken after the deletion), after
        appending rows stored since; when it does not (another deletion this process has not seen,
        no usable snapshot of a shard with rows left, an index kind that cannot remove in place)
        the shard is rebuilt from the database instead, as :meth:`rebuild_now` does. Either way the
        snapshot then holds exactly the ids and vectors a rebuild would.

        Returns:
            The vectors the shard holds now.
        """
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        with self._building:
            index = self._state.index if self._state.index is not None else self._source.load(self.key)
            if index is None and db.count == 0:
                # Nothing held here or on disk, and nothing left to hold.
                self._source.discard(self.key)
                return 0
            # HNSW removes by rebuilding its graph, which under the write lock would stall searches.
            if index is None or index.kind == "hnsw":
                return self._rebuild_and_store()
            with self._rw.write():
                index.remove(ids)
                self._state = _State(index, Fingerprint.of(index.ids()))
            if self._state.fingerprint != db and not self._append(db):
                logger.info("index shard %s: purged index does not match the database; rebuilding", self.key)
                return self._rebuild_and_store()
            self._store()
            return self._state.fingerprint.count

    def _rebuild_and_store(self) -> int:
        """Rebuild from the database, swap the result in and store it (the caller holds ``_building``)."""
        state = self._build()
        with self._rw.write():
            self._state = state
        self._store()
        return state.fingerprint.count

    def _store(self) -> None:
        """Write the snapshot of the current index; an emptied shard drops index and snapshot."""
        if self._state.fingerprint.count == 0:
            with self._rw.write():
                self._state = _State(None, Fingerprint())
            self._source.discard(self.key)
        else:
            self.save()

    def wait_for_rebuild(self, timeout: float | None = None) -> None:
        builder = self._builder
        if builder is not None:
            builder.join(timeout)

    def _first_load(self, db: Fingerprint) -> _State:
        index = self._source.load(self.key)
        if index is not None:
            state = _State(index, Fingerprint.of(index.ids()))
            ids, vectors = self._source.rows(self.key, state.fingerprint.last_id, db.last_id)
            grown = state.fingerprint.plus(Fingerprint.of(ids))
            if grown == db and (ids.size == 0 or vectors.shape[1] == index.dim):
                if ids.size:
                    index.add(ids, vectors)
                return _State(index, grown)
            logger.info("index shard %s: snapshot does not match the database; rebuilding", self.key)
        return self._build()

    def _append(self, db: Fingerprint) -> bool:
        state = self._state
        if state.index is None or db.last_id < state.fingerprint.last_id:
            return False
        ids, vectors = self._source.rows(self.key, state.fingerprint.last_id, db.last_id)
        grown = state.fingerprint.plus(Fingerprint.of(ids))
        if grown != db or (ids.size and vectors.shape[1] != state.index.dim):
            return False
        with self._rw.write():
            if self._state is not state:
                # Another search appended (or a rebuild landed) meanwhile.
                return self._state.fingerprint == db
            if ids.size:
                state.index.add(ids, vectors)
            self._state = _State(state.index, grown)
        return True

    def _build(self) -> _State:
        from reid_engine.index import VectorIndex

        ids, vectors = self._source.rows(self.key, 0, np.iinfo(np.int64).max)
        if ids.size == 0:
            return _State(None, Fingerprint())
        index = VectorIndex(vectors.shape[1])
        # One add, so a large shard trains its structure once rather than at every size threshold.
        index.add(ids, vectors)
        return _State(index, Fingerprint.of(ids))

    def _rebuild_in_background(self) -> None:
        if not self._building.acquire(blocking=False):
            return  # a rebuild is already running
        self._builder = threading.Thread(
            target=self._rebuild, name=f"index-shard-{self.key}", daemon=True
        )
        self._builder.start()

    def _rebuild(self) -> None:
        try:
            state = self._build()
            # Under the write lock, so an append to the old index cannot land after the swap and undo it.
            with self._rw.write():
                self._state = state
            logger.info("index shard %s rebuilt: %s vectors", self.key, state.fingerprint.count)
            self.save()
        except Exception:
            # Nobody waits on this thread: log with the trace and keep serving the previous index;
            # the next search that finds the shard stale tries again.
            logger.exception("rebuilding index shard %s failed", self.key)
        finally:
            self._building.release()
            self._source.release()


class ShardSet:
    """All shards of one process, created on first use."""

    def __init__(self, source: ShardSource) -> None:
        self._source = source
        self._shards: dict[ShardKey, Shard] = {}
        self._lock = threading.Lock()

    def shard(self, key: ShardKey) -> Shard:
        with self._lock:
            shard = self._shards.get(key)
            if shard is None:
                shard = self._shards[key] = Shard(key, self._source)
            return shard

    def loaded(self) -> list[Shard]:
        with self._lock:
            return list(self._shards.values())

    def wait_for_rebuilds(self, timeout: float | None = None) -> None:
        for shard in self.loaded():
            shard.wait_for_rebuild(timeout)

