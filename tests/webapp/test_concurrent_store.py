"""Two workers storing tracklets at the same moment: different videos both land, the same video twice
lands once. SQLite takes a whole-database write lock at BEGIN and so hides these races; PostgreSQL
runs the two transactions side by side, which is what a deployment does (``scripts/test.sh`` runs
this module on both)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from django.db import connection, connections

from reid_engine.types import Crop, EmbeddedTracklet, IngestResult, PartialResult, Tracklet, VideoInfo
from webapp.cameras.models import Camera
from webapp.tracklets import services
from webapp.tracklets.models import Tracklet as TrackletRow
from webapp.videos.models import Video

pytestmark = pytest.mark.django_db(transaction=True)

# pytest-django's SQLite test database is in memory with a shared cache, whose table locks ignore the
# busy timeout: two writers fail there for a reason a deployment (a file, or PostgreSQL) never sees.
on_postgres = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="a race between two writers needs a server database (scripts/test.sh runs this on PostgreSQL)",
)

ROUNDS = 8


def _people(n: int, seed: int) -> tuple[EmbeddedTracklet, ...]:
    rng = np.random.default_rng(seed)
    out = []
    for track_id in range(1, n + 1):
        frames = np.arange(0, 20, 2, dtype=np.int64)
        boxes = np.tile(np.array([[10, 10, 50, 120]], np.float32), (frames.size, 1))
        image = rng.integers(0, 255, (128, 64, 3), dtype=np.uint8)
        crop = Crop(frame_index=0, pts_s=0.0, box_xyxy=boxes[0], image=image, quality=0.9)
        v = rng.normal(size=32).astype(np.float32)
        out.append(
            EmbeddedTracklet(
                tracklet=Tracklet(track_id, frames, frames / 10.0, boxes, np.ones(frames.size, np.float32), (crop,)),
                embedding=v / np.linalg.norm(v),
                thumbnail=image,
            )
        )
    return tuple(out)


def _result(people: tuple[EmbeddedTracklet, ...]) -> IngestResult:
    info = VideoInfo(container="mp4", codec="h264", width=64, height=128, fps=10.0, duration_s=2.0,
                     frame_count=20, size_bytes=1)
    return IngestResult(video=info, tracklets=people, frames_decoded=20, frames_skipped=0, embedder="test")


def _video(camera: Camera, name: str) -> Video:
    return Video.objects.create(camera=camera, original_name=name, size_bytes=1,
                                recorded_at=datetime(2026, 1, 5, 9, tzinfo=UTC), status="processing")


def _at_once(*jobs: Callable[[], Any]) -> list[BaseException]:
    """Run the jobs in threads (each with its own database connection) released together."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            job()
        except BaseException as exc:  # collected and asserted on by the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return errors


def test_runs_on_the_database_under_test() -> None:
    # The PostgreSQL run of the test command must really be on PostgreSQL.
    expected = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    assert connection.vendor == expected


@on_postgres
@pytest.mark.parametrize("store", ["final", "partial"])
def test_two_workers_storing_the_same_video_at_once_store_each_person_once(store: str, tmp_path: Any, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    camera = Camera.objects.create(name="Gate")
    people = _people(6, seed=1)

    def job(video: Video) -> Callable[[], Any]:
        if store == "final":
            return lambda: services.tracklets_replace_for_video(video=video, result=_result(people))
        partial = PartialResult(tracklets=people, embedder="test", identity_embedder=None, analysed_s=2.0)
        return lambda: services.tracklets_add_partial(video=video, partial=partial)

    for n in range(ROUNDS):
        video = _video(camera, f"v{n}.mp4")
        errors = _at_once(job(video), job(video))
        assert errors == []
        assert sorted(TrackletRow.objects.filter(video=video).values_list("track_id", flat=True)) == [1, 2, 3, 4, 5, 6]


@on_postgres
def test_two_workers_storing_different_videos_at_once_both_land(tmp_path: Any, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    camera = Camera.objects.create(name="Gate")
    for n in range(ROUNDS):
        a, b = _video(camera, f"a{n}.mp4"), _video(camera, f"b{n}.mp4")
        errors = _at_once(
            lambda a=a: services.tracklets_replace_for_video(video=a, result=_result(_people(5, seed=2))),
            lambda b=b: services.tracklets_replace_for_video(video=b, result=_result(_people(7, seed=3))),
        )
        assert errors == []
        assert TrackletRow.objects.filter(video=a).count() == 5
        assert TrackletRow.objects.filter(video=b).count() == 7
