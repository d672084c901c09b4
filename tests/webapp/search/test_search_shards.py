"""One index shard per gallery: lazily loaded, touched only when a filter needs it, kept in step with
the database, and rebuilt in the background while searches go on."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User
from django.db import connections

from reid_engine.index import load_snapshot
from tests.webapp.factories import World, brute_force, build_world, case_filters, make_investigator
from webapp.search import index
from webapp.search.filters import SearchQuery
from webapp.search.lanes import APPEARANCE
from webapp.search.services import search_now
from webapp.search.shards import DEFAULT_SHARD, ReadWriteLock, ShardSet
from webapp.tracklets.models import Tracklet


def _search(user: User, query: Tracklet, k: int = 20, **filters: Any) -> list[int]:
    result = search_now(user=user, query=SearchQuery(tracklet=query.pk, k=k, filters=case_filters(**filters)))
    return [h["tracklet"] for h in result["hits"]]


@pytest.mark.django_db
def test_a_filter_loads_and_searches_only_the_shards_it_needs() -> None:
    world = build_world(per_camera=6)
    user = make_investigator()
    query = world.tracklets["A"][0]
    station, harbour = world.galleries["Station"].pk, world.galleries["Harbour"].pk

    assert set(_search(user, query, galleries=(harbour,))) == {t.pk for t in world.tracklets["C"]}
    assert index.index_loaded_shards() == [harbour]
    assert set(_search(user, query, cameras=(world.cameras["D"].pk,))) == {t.pk for t in world.tracklets["D"]}
    assert index.index_loaded_shards() == sorted([DEFAULT_SHARD, harbour])
    _search(user, query, cameras=(world.cameras["B"].pk,))
    assert index.index_loaded_shards() == sorted([DEFAULT_SHARD, station, harbour])


@pytest.mark.django_db
def test_ingest_writes_one_snapshot_per_shard_that_a_fresh_process_starts_from(settings: Any) -> None:
    world = build_world(per_camera=5)
    user = make_investigator()
    index.index_add(list(Tracklet.objects.all()))
    names = sorted(p.name for p in settings.INDEX_DIR.glob("*.faiss"))
    station, harbour = world.galleries["Station"].pk, world.galleries["Harbour"].pk
    assert names == sorted(["appearance-default.faiss", f"appearance-gallery-{station}.faiss", f"appearance-gallery-{harbour}.faiss"])
    snapshot = load_snapshot(settings.INDEX_DIR / f"appearance-gallery-{station}.faiss")
    assert snapshot.ids().tolist() == sorted(t.pk for t in world.tracklets["A"] + world.tracklets["B"])

    index.index_forget()
    query = world.tracklets["C"][2]
    assert _search(user, query) == brute_force(query, 20, {})


@pytest.mark.django_db
def test_people_stored_after_a_search_are_found_by_the_next_one() -> None:
    world = build_world(per_camera=4)
    user = make_investigator()
    query = world.tracklets["C"][0]
    _search(user, query)
    twin = world.tracklets["C"][1]
    twin.pk = None
    twin.track_id = 99
    twin.appearance_embedding = query.appearance_embedding_array().tobytes()  # the very same person again
    twin.save()
    hits = _search(user, query)
    assert hits[0] == twin.pk
    assert hits == brute_force(query, 20, {})


@pytest.mark.django_db(transaction=True)
def test_a_camera_moved_to_another_gallery_takes_its_people_to_that_shard() -> None:
    world = build_world(per_camera=5)
    user = make_investigator()
    query = world.tracklets["A"][0]
    harbour = world.galleries["Harbour"]
    assert set(_search(user, query, galleries=(harbour.pk,))) == {t.pk for t in world.tracklets["C"]}
    camera = world.cameras["B"]
    camera.gallery = harbour
    camera.save()
    # The Station shard drops B's people at once (the database says who is allowed) …
    moved = {t.pk for t in world.tracklets["B"]}
    assert not moved & set(_search(user, query, galleries=(world.galleries["Station"].pk,)))
    # … and the Harbour shard, whose snapshot lacks them, holds them once its rebuild is in.
    assert set(_search(user, query, galleries=(harbour.pk,))) <= moved | {t.pk for t in world.tracklets["C"]}
    index.index_wait_for_rebuilds(timeout=30)
    assert set(_search(user, query, galleries=(harbour.pk,))) == moved | {t.pk for t in world.tracklets["C"]}
    assert _search(user, query, k=30) == brute_force(query, 30, {})


class GatedSource(index.DatabaseSource):
    """The real database source, except that full builds of one shard wait until released."""

    def __init__(self) -> None:
        super().__init__(APPEARANCE)
        self.gated: int | None = None
        self.release_gate = threading.Event()
        self.build_waiting = threading.Event()

    def rows(self, key: int, after_id: int, upto_id: int) -> tuple[np.ndarray, np.ndarray]:
        if key == self.gated and after_id == 0:
            self.build_waiting.set()
            self.release_gate.wait(timeout=30)
        return super().rows(key, after_id, upto_id)


@pytest.mark.django_db(transaction=True)
def test_while_a_shard_is_rebuilt_searches_use_its_last_good_index_and_other_shards_do_not_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world: World = build_world(per_camera=8)
    user = make_investigator()
    source = GatedSource()
    monkeypatch.setattr(index, "_shards", {**index._shards, "appearance": ShardSet(source)})
    query = world.tracklets["A"][0]
    best = _search(user, query)
    assert best == brute_force(query, 20, {})

    # Deleting the best match makes the Station shard stale: it needs a rebuild.
    Tracklet.objects.filter(pk=best[0]).delete()
    source.gated = world.galleries["Station"].pk
    try:
        started = time.monotonic()
        during = _search(user, query)
        harbour_only = _search(user, query, galleries=(world.galleries["Harbour"].pk,))
        elapsed = time.monotonic() - started
        assert source.build_waiting.is_set(), "the rebuild should be running (held at its database read)"
        assert elapsed < 5.0
        assert best[0] not in during
        assert during == brute_force(query, 20, {})
        assert set(harbour_only) == {t.pk for t in world.tracklets["C"]}
    finally:
        source.release_gate.set()
    index.index_wait_for_rebuilds(timeout=30)
    assert _search(user, query) == brute_force(query, 20, {})
    connections.close_all()


def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait until another thread has reached the state ``condition`` checks."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the other thread never got there"
        time.sleep(0.001)


def test_a_writer_waits_for_searches_in_flight_and_holds_back_new_ones() -> None:
    lock = ReadWriteLock()
    events: list[str] = []
    reading = threading.Event()
    finish_reading = threading.Event()

    def search() -> None:
        with lock.read():
            reading.set()
            finish_reading.wait(5)
            events.append("search done")

    def append() -> None:
        with lock.write():
            events.append("append")

    first = threading.Thread(target=search)
    first.start()
    reading.wait(5)
    writer = threading.Thread(target=append)
    writer.start()
    _until(lambda: lock.waiting == (0, 1))

    def late_search() -> None:
        with lock.read():
            events.append("late search")

    late = threading.Thread(target=late_search)
    late.start()
    _until(lambda: lock.waiting == (1, 1))
    assert events == []
    finish_reading.set()
    for thread in (first, writer, late):
        thread.join(5)
    assert events == ["search done", "append", "late search"]
