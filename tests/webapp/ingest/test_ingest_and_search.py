"""Ingestion and search services running in-process on real footage with the real models."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from tests.webapp.factories import case_filters, drain, queued_video
from webapp.ingest import services as ingest_services
from webapp.ingest.services import video_ingest_run
from webapp.search.filters import SearchQuery
from webapp.search.models import SearchRecord
from webapp.search.records import record_create
from webapp.search.worker import search_run
from webapp.tracklets.models import Tracklet
from webapp.videos import services
from webapp.videos.models import Video

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.usefixtures("models_in_data_dir")]


def _recorded_search(user: Any, query: Tracklet) -> SearchRecord:
    """A search for ``query``'s person in the tests' case, recorded as a search is before it is queued."""
    search = SearchQuery(tracklet=query.pk, k=48, filters=case_filters(), justification="a test search")
    return record_create(user=user, query=search, tracklet=query)


def test_ingest_stores_people_and_a_rerun_replaces_rather_than_duplicates(
    camera: Any, clip_factory: Callable[..., Path]
) -> None:
    video = queued_video(camera, clip_factory(0.0, 6.0))
    video_ingest_run(video_id=video.pk)
    video.refresh_from_db()
    assert video.status == "done", video.error
    first = list(Tracklet.objects.filter(video=video).values_list("track_id", "start_s", "end_s"))
    assert len(first) >= 2
    assert all(t.thumbnail_path.exists() for t in Tracklet.objects.filter(video=video))
    # Garment colours are estimated for the people found, as probabilities over the palette.
    coloured = [t.attributes["upper_colour"] for t in Tracklet.objects.filter(video=video) if t.attributes]
    assert coloured
    assert all(abs(sum(p.values()) - 1.0) < 1e-2 for p in coloured)
    # A redelivered task after a crash: force the row back to processing and run again.
    Video.objects.filter(pk=video.pk).update(status="processing")
    video_ingest_run(video_id=video.pk)
    again = list(Tracklet.objects.filter(video=video).values_list("track_id", "start_s", "end_s"))
    assert again == first


def test_ingest_of_a_video_truncated_after_probing_keeps_what_it_decoded_and_says_it_ended_early(
    camera: Any, clip_factory: Callable[..., Path], tmp_path: Path
) -> None:
    # With the index (moov) at the front, half the file still probes as 6 s and decodes its first
    # seconds: the ingest finishes with those, and the warning says where the footage stopped.
    whole = clip_factory(0.0, 6.0, faststart=True).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 2])
    video = queued_video(camera, cut)
    video_ingest_run(video_id=video.pk)
    video.refresh_from_db()
    assert video.status == "done", video.error
    assert 0 < video.frames_decoded < 30  # 6 s at 5 fps would be 30
    assert any(w.startswith("the video ends early, at ") and w.endswith(" of 6.0s") for w in video.warnings), video.warnings


def test_search_streams_ranked_batches_and_records_the_search(
    camera: Any, clip_factory: Callable[..., Path], investigator: Any
) -> None:
    for start in (0.0, 8.0):
        video = queued_video(camera, clip_factory(start, 6.0))
        video_ingest_run(video_id=video.pk)
    query = Tracklet.objects.order_by("pk").first()
    total = Tracklet.objects.count()
    record = _recorded_search(investigator, query)
    channel = async_to_sync(get_channel_layer().new_channel)()
    search_run(search_id=record.pk, reply_channel=channel)
    messages = drain(channel)
    assert messages[-1]["type"] == "search.done"
    batches = [m for m in messages if m["type"] == "search.hits"]
    # The same-outfit lane streams first, then the clothes-change lane.
    lanes = [m["lane"] for m in batches]
    assert lanes == sorted(lanes, key=["same_outfit", "clothes_change"].index)
    for lane in ("same_outfit", "clothes_change"):
        hits = [h for m in batches if m["lane"] == lane for h in m["hits"]]
        assert len(hits) == total - 1  # everyone but the query itself: every person has both vectors
        assert query.pk not in {h["tracklet"] for h in hits}
        scores = [h["score"] for h in hits]
        assert scores == sorted(scores, reverse=True)
    assert all(len(m["hits"]) <= 8 for m in batches)
    record.refresh_from_db()
    assert record.status == "done"
    assert record.result_count == 2 * (total - 1)
    assert messages[-1]["lanes"] == {"same_outfit": total - 1, "clothes_change": total - 1}


def test_a_failure_while_storing_results_ends_the_job_as_failed_not_processing(
    camera: Any, clip_factory: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError


    def broken(**kwargs: Any) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(ingest_services, "tracklets_replace_for_video", broken)
    video = queued_video(camera, clip_factory(0.0, 3.0))
    with pytest.raises(OperationalError):
        video_ingest_run(video_id=video.pk)
    video.refresh_from_db()
    assert video.status == "failed"
    assert "internal error" in video.error


# Committed transactions: the index rebuilds shards in a background thread, which must see the rows.
@pytest.mark.django_db(transaction=True)
def test_people_are_searchable_while_their_video_is_still_being_ingested(
    camera: Any, clip_factory: Callable[..., Path], investigator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from webapp.search.index import index_wait_for_rebuilds, shard_fingerprints

    # This test runs the ingest itself, in-process: nothing goes to the queue.
    monkeypatch.setattr(services, "video_ingest_start", lambda **kwargs: None)
    video = queued_video(camera, clip_factory(0.0, 12.0))
    group_channel = async_to_sync(get_channel_layer().new_channel)()
    async_to_sync(get_channel_layer().group_add)(f"video-{video.pk}", group_channel)
    seen: list[dict[str, Any]] = []
    original = ingest_services._PartialStore.__call__

    def store_then_search(self: Any, partial: Any) -> None:
        original(self, partial)
        # What an investigator sees at this moment: the video is still being analysed...
        status = Video.objects.get(pk=video.pk).status
        stored = list(Tracklet.objects.filter(video=video).order_by("pk"))
        entry: dict[str, Any] = {"status": status, "stored": {t.pk for t in stored}, "found": set()}
        if len(stored) >= 2:
            # ...and a search by one of the people stored so far already finds the others.
            query = stored[0]
            record = _recorded_search(investigator, query)
            channel = async_to_sync(get_channel_layer().new_channel)()
            search_run(search_id=record.pk, reply_channel=channel)
            entry["found"] = {
                h["tracklet"]
                for m in drain(channel)
                if m.get("lane") == "same_outfit"
                for h in m.get("hits", [])
            }
            entry["query"] = query.pk
        seen.append(entry)

    monkeypatch.setattr(ingest_services._PartialStore, "__call__", store_then_search)
    video_ingest_run(video_id=video.pk)
    video.refresh_from_db()
    assert video.status == "done", video.error

    assert seen, "nothing was stored before the video was done"
    assert all(e["status"] == "processing" for e in seen)
    searched = [e for e in seen if "query" in e]
    assert searched, f"never two people stored mid-ingest: {seen}"
    for e in searched:
        assert e["found"] == e["stored"] - {e["query"]}
    events = [m for m in drain(group_channel) if m["type"] == "ingest.people"]
    assert [m["people"] for m in events] == [len(e["stored"]) for e in seen]

    # The final result keeps the rows it agrees with (same ids, so shown hits stay valid) and
    # holds each person once; the index holds exactly the database's rows.
    final = list(Tracklet.objects.filter(video=video))
    track_ids = [t.track_id for t in final]
    assert len(track_ids) == len(set(track_ids))
    assert seen[-1]["stored"] & {t.pk for t in final}, (seen, [(t.pk, t.track_id) for t in final])
    total = Tracklet.objects.count()
    assert sum(f.count for f in shard_fingerprints().values()) == total
    # A row the end replaced (a re-linked track) means a deletion: the shard rebuilds in the background.
    index_wait_for_rebuilds(timeout=60)
    record = _recorded_search(investigator, final[0])
    channel = async_to_sync(get_channel_layer().new_channel)()
    search_run(search_id=record.pk, reply_channel=channel)
    hits = [
        h["tracklet"] for m in drain(channel) if m.get("lane") == "same_outfit" for h in m.get("hits", [])
    ]
    assert sorted(hits) == sorted(t.pk for t in Tracklet.objects.exclude(pk=final[0].pk))
