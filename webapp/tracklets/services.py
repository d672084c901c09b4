"""Storing what ingestion found: tracklet rows plus thumbnail files, replaced as one unit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
from django.db import transaction

from reid_engine.types import EmbeddedTracklet, IngestResult, PartialResult
from webapp.tracklets.estimated import estimated_only
from webapp.tracklets.models import Tracklet
from webapp.videos.models import Video


def _thumb_dir(video: Video) -> Path:
    return video.thumbnail_dir


def _rows(
    *, video: Video, items: Iterable[EmbeddedTracklet], embedder: str, identity_embedder: str | None
) -> list[Tracklet]:
    """Unsaved rows for engine ``EmbeddedTracklet`` items, their thumbnails written to disk."""
    thumb_dir = _thumb_dir(video)
    thumb_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for item in items:
        t = item.tracklet
        cv2.imwrite(
            str(thumb_dir / f"{t.track_id}.jpg"),
            cv2.cvtColor(item.thumbnail, cv2.COLOR_RGB2BGR),
            [cv2.IMWRITE_JPEG_QUALITY, 90],
        )
        boxes = np.concatenate(
            [
                t.frame_indices[:, None].astype(np.float64),
                t.timestamps_s[:, None],
                t.boxes_xyxy.astype(np.float64),
            ],
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
                appearance_embedding=item.embedding.astype(np.float32).tobytes(),
                appearance_embedder=embedder,
                quality=float(t.best_crops[0].quality) if t.best_crops else 0.0,
                attributes=estimated_only(dict(item.attributes)),
                identity_embedding=(
                    None if item.identity_embedding is None else item.identity_embedding.astype(np.float32).tobytes()
                ),
                identity_embedder=identity_embedder or "",
            )
        )
    return rows


def _lock_video(video: Video) -> None:
    """Serialise writers of one video's tracklets (two workers given the same video after a requeue).

    Locking only its tracklet rows is not enough: while there are none, both writers see an empty
    set, both insert, and one fails on the unique (video, track id) key.
    """
    list(Video.objects.select_for_update().filter(pk=video.pk).values_list("pk", flat=True))


def _same(old: Tracklet, new: Tracklet) -> bool:
    """Whether a stored row already says what ``new`` says (so it can stay, id and all)."""
    old_identity = None if old.identity_embedding is None else bytes(old.identity_embedding)
    return (
        bytes(old.appearance_embedding) == bytes(new.appearance_embedding)
        and old_identity == new.identity_embedding
        and old.boxes == new.boxes
        and old.attributes == new.attributes
        and old.appearance_embedder == new.appearance_embedder
        and old.identity_embedder == new.identity_embedder
    )


def tracklets_add_partial(*, video: Video, partial: PartialResult) -> list[Tracklet]:
    """Store the tracklets an ingest still running has handed over.

    They are searchable at once; the video's final result then keeps them as they are or
    replaces them (see :func:`tracklets_replace_for_video`). A track id stored already (an earlier
    attempt at the same video) is replaced.
    """
    rows = _rows(
        video=video,
        items=partial.tracklets,
        embedder=partial.embedder,
        identity_embedder=partial.identity_embedder,
    )
    with transaction.atomic():
        _lock_video(video)
        Tracklet.objects.filter(video=video, track_id__in=[r.track_id for r in rows]).delete()
        Tracklet.objects.bulk_create(rows)
    return list(Tracklet.objects.filter(video=video, track_id__in=[r.track_id for r in rows]))


def tracklets_replace_for_video(*, video: Video, result: IngestResult) -> list[Tracklet]:
    """Make the video's tracklets those of the engine's ``result``.

    Re-running an ingest therefore overwrites rather than duplicates: rows are unique per
    (video, track id) and thumbnails have deterministic names. A row stored earlier (handed over
    while the video was being analysed) that the result repeats exactly keeps its id, so a search
    that already showed it stays valid; rows the result changed or dropped (a track re-linked into
    another) are replaced or deleted.
    """
    rows = _rows(
        video=video,
        items=result.tracklets,
        embedder=result.embedder,
        identity_embedder=result.identity_embedder,
    )
    with transaction.atomic():
        _lock_video(video)
        stored = {t.track_id: t for t in Tracklet.objects.select_for_update().filter(video=video)}
        keep = {r.track_id for r in rows if r.track_id in stored and _same(stored[r.track_id], r)}
        Tracklet.objects.filter(video=video).exclude(track_id__in=keep).delete()
        Tracklet.objects.bulk_create([r for r in rows if r.track_id not in keep])
    for track_id in stored.keys() - {r.track_id for r in rows}:
        (_thumb_dir(video) / f"{track_id}.jpg").unlink(missing_ok=True)
    return list(Tracklet.objects.filter(video=video).order_by("start_s", "track_id"))
