"""Storing what ingestion found: tracklet rows plus thumbnail files, replaced as one unit."""

from __future__ import annotations

import shutil
from datetime import timedelta
from typing import Any

import cv2
import numpy as np
from django.conf import settings
from django.db import transaction

from webapp.tracklets.models import Tracklet
from webapp.videos.models import Video


def _thumb_dir(video: Video):  # type: ignore[no-untyped-def]
    return settings.MEDIA_ROOT / "thumbs" / str(video.storage_key)


def tracklets_replace_for_video(*, video: Video, result: Any) -> list[Tracklet]:
    """Replace the video's tracklets with those of ``result`` (an engine ``IngestResult``).

    Re-running an ingest therefore overwrites rather than duplicates: rows are unique per
    (video, track id) and thumbnails have deterministic names.
    """
    thumb_dir = _thumb_dir(video)
    thumb_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for item in result.tracklets:
        t = item.tracklet
        cv2.imwrite(
            str(thumb_dir / f"{t.track_id}.jpg"),
            cv2.cvtColor(item.thumbnail, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, 90],
        )
        boxes = np.concatenate(
            [t.frame_indices[:, None].astype(np.float64), t.timestamps_s[:, None], t.boxes_xyxy.astype(np.float64)],
            axis=1,
        )
        rows.append(
            Tracklet(
                video=video,
                camera_id=video.camera_id,
                track_id=t.track_id,
                start_s=t.start_s,
                end_s=t.end_s,
                start_time=video.recorded_at + timedelta(seconds=t.start_s),
                end_time=video.recorded_at + timedelta(seconds=t.end_s),
                num_frames=int(t.frame_indices.shape[0]),
                boxes=[[int(r[0]), round(r[1], 3), *(round(v, 1) for v in r[2:])] for r in boxes.tolist()],
                embedding=item.embedding.astype(np.float32).tobytes(),
                embedder=result.embedder,
                quality=float(t.best_crops[0].quality) if t.best_crops else 0.0,
                attributes=dict(getattr(item, "attributes", {}) or {}),
                identity_embedding=(
                    item.identity_embedding.astype(np.float32).tobytes()
                    if getattr(item, "identity_embedding", None) is not None
                    else None
                ),
                identity_embedder=getattr(result, "identity_embedder", None) or "",
            )
        )
    with transaction.atomic():
        Tracklet.objects.filter(video=video).delete()
        Tracklet.objects.bulk_create(rows)
    return list(Tracklet.objects.filter(video=video).order_by("start_s", "track_id"))


def tracklets_delete_files(*, video: Video) -> None:
    shutil.rmtree(_thumb_dir(video), ignore_errors=True)
