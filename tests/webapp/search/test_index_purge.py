"""Deleting a video takes its people out of this process's shards and their snapshots in place: the
snapshots then hold what a rebuild from the database would, and no shard row is read to get there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.contrib.auth.models import User

from reid_engine.index import VectorIndex, load_snapshot
from tests.webapp.factories import World, brute_force, build_world, case_filters, make_investigator
from webapp.search import index
from webapp.search.filters import SearchQuery
from webapp.search.lanes import LANES
from webapp.search.services import search_now
from webapp.search.shards import Shard
from webapp.tracklets.models import Tracklet
from webapp.videos.models import Video
from webapp.videos.services import video_delete

pytestmark = pytest.mark.django_db


class Reads:
    """Counts the shard rows read from the database and the full rebuilds of shards."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rows = 0
        self.builds = 0
        rows, build = index.DatabaseSource.rows, Shard._build

        def counted_rows(source: index.DatabaseSource, *args: Any) -> tuple[np.ndarray, np.ndarray]:
            ids, vectors = rows(source, *args)
            self.rows += int(ids.size)
            return ids, vectors

        def counted_build(shard: Shard) -> Any:
            self.builds += 1
            return build(shard)

        monkeypatch.setattr(index.DatabaseSource, "rows", counted_rows)
        monkeypatch.setattr(Shard, "_build", counted_build)


def _with_identity(world: World, every: int = 2) -> None:
    """Give every other person an identity vector, so both lanes have shards to purge."""
    rng = np.random.default_rng(11)
    for t in Tracklet.objects.order_by("pk")[::every]:
        v = rng.normal(size=16)
        t.identity_embedding = (v / np.linalg.norm(v)).astype(np.float32).tobytes()
        t.save(update_fields=["identity_embedding"])


def _snapshots() -> dict[str, VectorIndex]:
    return {p.name: load_snapshot(p) for p in sorted(Path(settings.INDEX_DIR).glob("*.faiss"))}


def _same_content(left: dict[str, VectorIndex], right: dict[str, VectorIndex]) -> None:
    assert left.keys() == right.keys()
    for name, snapshot in left.items():
        ids = snapshot.ids()
        assert np.array_equal(ids, right[name].ids()), name
        assert np.array_equal(snapshot.vectors(ids), right[name].vectors(ids)), name


def _delete(video: Video, capture: Any) -> None:
    with capture(execute=True):
        video_delete(video=video)


def _search(query: Tracklet, k: int = 30) -> list[int]:
    user = User.objects.filter(username="ivy").first() or make_investigator()
    result = search_now(user=user, query=SearchQuery(tracklet=query.pk, k=k, filters=case_filters()))
    return [h["tracklet"] for h in result["hits"]]


def test_a_purge_removes_in_place_and_leaves_the_snapshots_a_rebuild_would_write(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    world = build_world(per_camera=12)
    _with_identity(world)
    index.index_add(list(Tracklet.objects.all()))
    reads = Reads(monkeypatch)
    gone = {t.pk for t in world.tracklets["A"]}

    _delete(Video.objects.get(camera=world.cameras["A"]), django_capture_on_commit_callbacks)
    assert (reads.rows, reads.builds) == (0, 0)
    purged = _snapshots()
    for name, snapshot in purged.items():
        assert not gone & set(snapshot.ids().tolist()), name
    # Camera D is alone in the default shard: deleting its footage removes that shard's snapshots.
    _delete(Video.objects.get(camera=world.cameras["D"]), django_capture_on_commit_callbacks)
    assert (reads.rows, reads.builds) == (0, 0)
    purged = _snapshots()
    assert not [name for name in purged if name.endswith("-default.faiss")]
    assert {name.split("-")[0] for name in purged} == {lane.snapshot_prefix for lane in LANES}

    # The next search finds this process's shards in step with the database: nothing is rebuilt.
    query = world.tracklets["B"][0]
    assert _search(query) == brute_force(query, 30, {})
    assert (reads.rows, reads.builds) == (0, 0)
    # A process starting afresh takes the snapshots as they are.
    index.index_forget()
    assert _search(query) == brute_force(query, 30, {})
    assert (reads.rows, reads.builds) == (0, 0)

    index.index_rebuild()
    _same_content(purged, _snapshots())


def test_a_shard_that_missed_another_deletion_is_rebuilt_by_the_purge(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    world = build_world(per_camera=10)
    index.index_add(list(Tracklet.objects.all()))
    # Another process deleted one of B's people: this process's Station shard still holds it.
    Tracklet.objects.filter(pk=world.tracklets["B"][3].pk).delete()
    reads = Reads(monkeypatch)

    _delete(Video.objects.get(camera=world.cameras["A"]), django_capture_on_commit_callbacks)
    assert reads.builds == 1
    purged = _snapshots()
    assert purged[f"appearance-gallery-{world.galleries['Station'].pk}.faiss"].ids().tolist() == sorted(
        t.pk for t in world.tracklets["B"] if t.pk != world.tracklets["B"][3].pk
    )
    index.index_rebuild()
    _same_content(purged, _snapshots())


def test_a_purge_in_a_process_that_never_loaded_the_shard_rewrites_its_snapshot(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    world = build_world(per_camera=10)
    index.index_add(list(Tracklet.objects.all()))
    index.index_forget()
    reads = Reads(monkeypatch)

    _delete(Video.objects.get(camera=world.cameras["A"]), django_capture_on_commit_callbacks)
    assert (reads.rows, reads.builds) == (0, 0)
    purged = _snapshots()
    assert purged[f"appearance-gallery-{world.galleries['Station'].pk}.faiss"].ids().tolist() == sorted(
        t.pk for t in world.tracklets["B"]
    )
    index.index_rebuild()
    _same_content(purged, _snapshots())
