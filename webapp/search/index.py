"""The process-local FAISS indexes, one per camera gallery and search lane, kept in step with the database.

There are two lanes (:mod:`webapp.search.lanes`): appearance indexes the appearance embedding
(clothing included) and identity the clothes-invariant embedding, for the tracklets that have one.

Tracklets are sharded by their camera's gallery; cameras without a gallery share the default shard.
Each process (a search or ingest worker, the web server for REST searches) holds its own shards,
loaded lazily: a shard starts from its snapshot on disk, adds what the database has beyond it, and is
rebuilt from the database when the two disagree (a deletion, a camera moved to another gallery, a
snapshot that fails its checksum). The process that deletes footage takes its people out of its
shards and their snapshots in place instead. A search looks only into the shards its filters need and merges
their hits by score. See :mod:`webapp.search.shards` for how a rebuild leaves searches running.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connections
from django.db.models import Count, Max, QuerySet, Sum

from reid_engine.errors import IndexCorruptError
from reid_engine.index import VectorIndex, load_snapshot, save_snapshot
from reid_engine.types import Hit
from webapp.cameras.models import Camera
from webapp.search.lanes import APPEARANCE, LANES, Lane
from webapp.search.selectors import SearchPlan, shard_condition, shard_of, shard_tracklet_ids
from webapp.search.shards import DEFAULT_SHARD, Fingerprint, ShardKey, ShardSet
from webapp.tracklets.models import Tracklet

logger = logging.getLogger(__name__)

_BATCH = 5000


def lane_rows(lane: Lane) -> QuerySet[Tracklet]:
    """The tracklets a lane indexes: those with a vector in the lane's column."""
    return Tracklet.objects.filter(**{f"{lane.column}__isnull": False})


class DatabaseSource:
    """Shard rows of one lane from the ``Tracklet`` table; snapshots under ``INDEX_DIR``."""

    def __init__(self, lane: Lane) -> None:
        self.lane = lane
        self.column = lane.column

    def _snapshot_path(self, key: ShardKey) -> Path:
        # Snapshots of the appearance lane were once named "tracklets-*.faiss": such a file is never
        # read again (the shard is rebuilt from the database) and rebuild_index deletes it.
        name = "default" if key == DEFAULT_SHARD else f"gallery-{key}"
        return Path(settings.INDEX_DIR) / f"{self.lane.snapshot_prefix}-{name}.faiss"

    def rows(self, key: ShardKey, after_id: int, upto_id: int) -> tuple[np.ndarray, np.ndarray]:
        qs = lane_rows(self.lane).filter(shard_condition(key), pk__lte=upto_id).order_by("pk")
        ids: list[int] = []
        vectors: list[np.ndarray] = []
        last = after_id
        while True:
            batch = list(qs.filter(pk__gt=last).values_list("pk", self.column)[:_BATCH])
            if not batch:
                break
            for pk, blob in batch:
                ids.append(pk)
                vectors.append(np.frombuffer(bytes(blob), dtype=np.float32))
            last = batch[-1][0]
        if not ids:
            return np.zeros(0, np.int64), np.zeros((0, 0), np.float32)
        return np.asarray(ids, dtype=np.int64), np.stack(vectors)

    def load(self, key: ShardKey) -> VectorIndex | None:
        try:
            return load_snapshot(self._snapshot_path(key))
        except FileNotFoundError:
            return None
        except IndexCorruptError as exc:
            logger.warning("%s; rebuilding shard %s from the database", exc, key)
            return None

    def save(self, key: ShardKey, index: VectorIndex) -> None:
        save_snapshot(index, self._snapshot_path(key))

    def discard(self, key: ShardKey) -> None:
        self._snapshot_path(key).unlink(missing_ok=True)

    def release(self) -> None:
        connections.close_all()


_shards = {lane.name: ShardSet(DatabaseSource(lane)) for lane in LANES}


def shard_fingerprints(lane: Lane = APPEARANCE) -> dict[ShardKey, Fingerprint]:
    """The database's fingerprint of every non-empty shard of a lane, from one grouped query."""
    galleries = dict(Camera.objects.values_list("pk", "gallery_id"))
    per_camera = (
        lane_rows(lane)
        .order_by()
        .values("camera_id")
        .annotate(n=Count("pk"), total=Sum("pk"), last=Max("pk"))
        .values_list("camera_id", "n", "total", "last")
    )
    out: dict[ShardKey, Fingerprint] = {}
    for camera_id, n, total, last in per_camera:
        key = shard_of(galleries.get(camera_id))
        out[key] = out.get(key, Fingerprint()).plus(Fingerprint(n, total, last))
    return out


def index_search(
    query: np.ndarray,
    k: int,
    *,
    exclude: Iterable[int],
    plan: SearchPlan,
    fingerprints: dict[ShardKey, Fingerprint],
    lane: Lane = APPEARANCE,
) -> list[Hit]:
    """The ``k`` best hits over the plan's shards, best first (ties by id), ranks 0…k-1.

    A shard's allowed set goes into its FAISS query, so each shard returns its ``k`` best permitted
    items whenever it has that many, and the merged list holds k hits whenever k items match.

    Args:
        query: float32 (dim,), L2-normalised.
        k: how many hits at most.
        exclude: ids never to return (the query itself).
        plan: shards to search and the ids allowed in each (from :func:`search_plan`).
        fingerprints: the database's fingerprints of the lane (from :func:`shard_fingerprints`).
        lane: the lane searched.
    """
    excluded = list(exclude)
    found: list[Hit] = []
    for key, allowed in plan.allowed.items():
        if key not in fingerprints or (allowed is not None and allowed.size == 0):
            continue
        shard = _shards[lane.name].shard(key)
        if not shard.prepare(fingerprints[key]) and allowed is None:
            # A rebuild is running and the index may still hold deleted tracklets: the database
            # says which ids exist, so the k guarantee holds for everything the index has.
            allowed = shard_tracklet_ids(key, lane_rows(lane))
        with shard.reading() as index:
            if index is None or index.dim != query.shape[-1]:
                continue
            found.extend(index.search(query, k, exclude=excluded, allowed=allowed))
    best = heapq.nsmallest(k, found, key=lambda h: (-h.score, h.item_id))
    return [Hit(item_id=h.item_id, score=h.score, rank=rank) for rank, h in enumerate(best)]


def index_add(tracklets: list[Tracklet]) -> None:
    """Bring the shards of newly stored tracklets up to date and persist their snapshots."""
    cameras = {t.camera_id for t in tracklets}
    keys = {shard_of(g) for g in Camera.objects.filter(pk__in=cameras).values_list("gallery_id", flat=True)}
    for lane in LANES:
        fingerprints = shard_fingerprints(lane)
        for key in sorted(keys & fingerprints.keys()):
            shard = _shards[lane.name].shard(key)
            if shard.prepare(fingerprints[key]):
                # A shard being rebuilt saves its snapshot when the rebuild ends.
                shard.save()
                logger.info("%s index shard %s saved: %s vectors", lane.name, key, fingerprints[key].count)


def index_purge(camera_ids: Iterable[int], tracklet_ids: Iterable[int]) -> dict[str, dict[ShardKey, int]]:
    """Remove deleted people from the shards of these cameras in both lanes now and rewrite their
    snapshots, so that their vectors are gone from this process and from disk (other processes
    rebuild theirs at their next search, and filter by the database meanwhile); returns vectors per
    shard.

    Only the deleted ids are taken out (see :meth:`Shard.purge`): a shard is rebuilt from the
    database only when the result would not match it.

    Args:
        camera_ids: the cameras the deleted people were seen by.
        tracklet_ids: the deleted people, already gone from the database.
    """
    keys = {shard_of(g) for g in Camera.objects.filter(pk__in=list(camera_ids)).values_list("gallery_id", flat=True)}
    deleted = np.fromiter(tracklet_ids, dtype=np.int64)
    counts: dict[str, dict[ShardKey, int]] = {}
    for lane in LANES:
        fingerprints = shard_fingerprints(lane)
        counts[lane.name] = {
            key: _shards[lane.name].shard(key).purge(deleted, fingerprints.get(key, Fingerprint()))
            for key in sorted(keys)
        }
    return counts


def index_warm() -> list[ShardKey]:
    """Load every shard now, so the first search does not pay for it; returns the shards loaded."""
    for lane in LANES:
        for key, fingerprint in shard_fingerprints(lane).items():
            _shards[lane.name].shard(key).prepare(fingerprint)
    return index_loaded_shards()


def index_rebuild() -> dict[str, dict[ShardKey, int]]:
    """Throw away every snapshot and in-memory shard, rebuild all of them from the database and save
    new snapshots (old names included); returns the vectors per shard of each lane, by lane name."""
    global _shards
    for path in Path(settings.INDEX_DIR).glob("*.faiss"):
        path.unlink()
    _shards = {lane.name: ShardSet(DatabaseSource(lane)) for lane in LANES}
    counts: dict[str, dict[ShardKey, int]] = {}
    for lane in LANES:
        counts[lane.name] = {}
        for key, fingerprint in sorted(shard_fingerprints(lane).items()):
            shard = _shards[lane.name].shard(key)
            shard.prepare(fingerprint)
            shard.save()
            counts[lane.name][key] = fingerprint.count
    return counts


def index_loaded_shards(lane: Lane = APPEARANCE) -> list[ShardKey]:
    """The shards of a lane this process has loaded, ascending."""
    return sorted(shard.key for shard in _shards[lane.name].loaded() if shard.index is not None)


def index_wait_for_rebuilds(timeout: float | None = None) -> None:
    """Wait for background shard rebuilds of this process to finish."""
    for shards in _shards.values():
        shards.wait_for_rebuilds(timeout)


def index_forget() -> None:
    """Drop this process's shards; the next use reloads them from the snapshots and the database."""
    global _shards
    _shards = {lane.name: ShardSet(DatabaseSource(lane)) for lane in LANES}
