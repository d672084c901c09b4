"""A damaged index snapshot (bit flips, truncation) is detected and its shard rebuilt from the database."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from webapp.cameras.models import Camera
from webapp.search import index
from webapp.tracklets.models import Tracklet
from webapp.videos.models import Video

pytestmark = pytest.mark.django_db

DAMAGES = 40


def _store_people(n: int) -> set[int]:
    camera = Camera.objects.create(name="Hall")
    recorded = datetime(2026, 1, 5, 9, tzinfo=UTC)
    video = Video.objects.create(camera=camera, original_name="hall.mp4", size_bytes=1, recorded_at=recorded, status="done")
    rng = np.random.default_rng(11)
    rows = []
    for i in range(n):
        v = rng.normal(size=16)
        rows.append(
            Tracklet(
                video=video, camera=camera, track_id=i + 1, start_s=float(i), end_s=i + 2.0,
                start_time=recorded + timedelta(seconds=i), end_time=recorded + timedelta(seconds=i + 2),
                num_frames=2, appearance_embedding=(v / np.linalg.norm(v)).astype(np.float32).tobytes(), appearance_embedder="test",
            )
        )
    Tracklet.objects.bulk_create(rows)
    stored = list(Tracklet.objects.all())
    index.index_add(stored)
    return {t.pk for t in stored}


def _loaded_ids() -> set[int]:
    shard = index._shards["appearance"].shard(index.DEFAULT_SHARD)
    assert shard.index is not None
    return {int(i) for i in shard.index.ids()}


def test_every_flipped_or_truncated_snapshot_is_detected_and_rebuilt_from_the_database(
    caplog: pytest.LogCaptureFixture,
) -> None:
    ids = _store_people(60)
    path = Path(settings.INDEX_DIR) / "appearance-default.faiss"
    good = path.read_bytes()
    rng = random.Random(4)
    detected = 0
    for n in range(DAMAGES):
        blob = bytearray(good)
        if n % 2:
            blob[rng.randrange(len(blob))] ^= 1 << rng.randrange(8)
        else:
            del blob[rng.randrange(1, len(blob)) :]
        path.write_bytes(bytes(blob))
        index.index_forget()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="webapp.search.index"):
            index.index_warm()
        detected += any("rebuilding shard" in r.getMessage() for r in caplog.records)
        assert _loaded_ids() == ids
    assert detected == DAMAGES
    # The undamaged snapshot is used as it is: no rebuild, the same people.
    path.write_bytes(good)
    index.index_forget()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="webapp.search"):
        index.index_warm()
    assert not any("rebuil" in r.getMessage() for r in caplog.records)
    assert _loaded_ids() == ids
