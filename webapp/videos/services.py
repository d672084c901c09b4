"""Uploading, probing, ingesting and deleting footage: every write that spans models lives here."""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from reid_engine.errors import ReidEngineError
from webapp.audit.ledger import audit_record
from webapp.audit.models import Action
from webapp.cameras.models import Camera
from webapp.cases.models import Case
from webapp.cases.services import case_video_add
from webapp.core.events import push_to_group, video_group
from webapp.core.exceptions import DomainError
from webapp.videos.models import Video

logger = logging.getLogger(__name__)

_COPY_BLOCK = 1024 * 1024


def _human_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def video_upload_create(
    *, user: Any, camera: Camera, filename: str, size_bytes: int, recorded_at: datetime, case: Case | None = None,
    client_address: str = "",
) -> Video:
    """Open an upload into ``case``: check what can be checked before any byte arrives, then reserve
    the file. (Footage in no case is reachable by nobody; only scripts and tests make it.)"""
    limits = settings.LONGVIEW
    ext = Path(filename).suffix.lower()
    if ext not in limits["ALLOWED_VIDEO_EXTENSIONS"]:
        allowed = ", ".join(limits["ALLOWED_VIDEO_EXTENSIONS"])
        raise DomainError(f"{filename!r} is not a video file type we accept ({allowed})")
    if size_bytes <= 0:
        raise DomainError(f"{filename!r} is empty")
    if size_bytes > limits["MAX_UPLOAD_BYTES"]:
        raise DomainError(
            f"{filename!r} is {_human_bytes(size_bytes)}; the limit is {_human_bytes(limits['MAX_UPLOAD_BYTES'])}",
            status_code=413,
        )
    with transaction.atomic():
        video = Video.objects.create(
            camera=camera,
            uploaded_by=user,
            original_name=os.path.basename(filename)[:255],
            size_bytes=size_bytes,
            recorded_at=recorded_at,
        )
        if case is not None:
            case_video_add(case=case, video=video, user=user, action=Action.VIDEO_UPLOAD,
                           client_address=client_address)
    video.file_path.parent.mkdir(parents=True, exist_ok=True)
    video.file_path.touch()
    return video


def video_upload_append(*, video: Video, start: int, stream: IO[bytes], length: int) -> Video:
    """Write one chunk at ``start``; the last chunk completes the upload and probes the file.

    Raises:
        DomainError: 409 when ``start`` is not where the upload stands (the reply carries the offset
            to resume from), 400 for a chunk past the declared size or a file that is not a video.
    """
    if video.status != Video.Status.UPLOADING:
        raise DomainError(
            f"this upload is already {video.status}", status_code=409, offset=video.upload_offset
        )
    if start != video.upload_offset:
        raise DomainError(
            f"expected the chunk at byte {video.upload_offset}, got {start}",
            status_code=409,
            offset=video.upload_offset,
        )
    if length <= 0 or start + length > video.size_bytes:
        raise DomainError(f"the chunk overruns the declared size of {video.size_bytes} bytes")
    written = 0
    with open(video.file_path, "r+b") as fh:
        fh.seek(start)
        while written < length:
            block = stream.read(min(_COPY_BLOCK, length - written))
            if not block:
                break
            fh.write(block)
            written += len(block)
        fh.truncate(start + written)
    if written != length:
        raise DomainError(f"the chunk ended after {written} of {length} bytes", offset=start)
    # Conditional update: a duplicate of the same chunk sent twice cannot advance the offset twice.
    Video.objects.filter(pk=video.pk, upload_offset=start).update(upload_offset=start + written)
    video.refresh_from_db()
    if video.upload_offset == video.size_bytes:
        video_upload_complete(video=video)
    return video


def video_upload_file(
    *, user: Any, camera: Camera, upload: Any, recorded_at: datetime, case: Case | None = None,
    client_address: str = "",
) -> Video:
    """Accept a whole file in one request (API clients); same checks as a chunked upload."""
    video = video_upload_create(
        user=user, camera=camera, filename=upload.name, size_bytes=upload.size, recorded_at=recorded_at,
        case=case, client_address=client_address,
    )
    with open(video.file_path, "wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    Video.objects.filter(pk=video.pk).update(upload_offset=upload.size)
    video.refresh_from_db()
    video_upload_complete(video=video)
    return video


def video_upload_complete(*, video: Video) -> None:
    """Probe the complete file; refuse it with the reason, or queue it for ingestion."""
    from reid_engine.video import probe_video

    try:
        info = probe_video(video.file_path)
    except ReidEngineError as exc:
        video_reject(video=video, reason=str(exc))
        raise DomainError(f"{video.original_name!r} was refused: {exc}", video=video.pk) from None
    video.probe = info.as_dict()
    video.duration_s = info.duration_s
    video.status = Video.Status.QUEUED
    video.stage = "queued"
    video.save(update_fields=["probe", "duration_s", "status", "stage"])
    video_ingest_start(video=video)


def video_reject(*, video: Video, reason: str) -> None:
    video.file_path.unlink(missing_ok=True)
    video.status = Video.Status.REJECTED
    video.error = reason
    video.finished_at = timezone.now()
    video.save(update_fields=["status", "error", "finished_at"])


def video_ingest_start(*, video: Video) -> None:
    """Queue ingestion once the row is committed, so the worker never sees a half-written video."""
    from webapp.videos.tasks import ingest_video

    transaction.on_commit(lambda: ingest_video.delay(video.pk))


def video_ingest_run(*, video_id: int) -> None:
    """Run the engine on one video and store what it found (worker side).

    Idempotent: a finished video is left alone, and a re-run after a crash replaces the partial
    state rather than adding to it.
    """
    from webapp.core import engine

    video = Video.objects.select_related("camera").filter(pk=video_id).first()
    if video is None:
        logger.info("video %s was deleted before ingestion; nothing to do", video_id)
        return
    if video.status in (Video.Status.DONE, Video.Status.REJECTED, Video.Status.UPLOADING):
        return
    video.status = Video.Status.PROCESSING
    video.started_at = timezone.now()
    video.error = ""
    video.save(update_fields=["status", "started_at", "error"])
    reporter = _IngestProgress(video)
    video.proxy_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        result = engine.get_pipeline().run(
            video.file_path, progress=reporter, proxy_path=video.proxy_path, on_partial=_PartialStore(video)
        )
        if not Video.objects.filter(pk=video.pk).exists():
            return
        tracklets = _store_result(video=video, result=result)
    except _VideoGone:
        logger.info("video %s was deleted during ingestion; stopped", video.pk)
        return
    except ReidEngineError as exc:
        video_ingest_fail(video=video, reason=str(exc))
        return
    except Exception:
        # Whatever broke (a model, the database), the job must end as failed with a reason, never
        # stay "processing" for ever; the task still raises so the error is logged with its trace.
        logger.exception("ingest of video %s crashed", video.pk)
        video_ingest_fail(
            video=video, reason="internal error while processing; the administrators were notified"
        )
        raise
    engine.index_add_tracklets(tracklets)
    push_to_group(
        video_group(video.pk),
        {
            "type": "ingest.done",
            "video": video.pk,
            "people": len(tracklets),
            "warnings": video.warnings,
            "frames_skipped": video.frames_skipped,
        },
    )


def _store_result(*, video: Video, result: Any) -> list[Any]:
    from webapp.tracklets.services import tracklets_replace_for_video

    tracklets = tracklets_replace_for_video(video=video, result=result)
    video.status = Video.Status.DONE
    video.stage = "done"
    video.progress = 1.0
    video.eta_s = 0.0
    video.frames_decoded = result.frames_decoded
    video.frames_skipped = result.frames_skipped
    video.warnings = list(result.warnings)
    video.embedder = result.embedder
    video.finished_at = timezone.now()
    video.save()
    return tracklets


def video_ingest_fail(*, video: Video, reason: str) -> None:
    Video.objects.filter(pk=video.pk).update(
        status=Video.Status.FAILED, error=reason, finished_at=timezone.now(), stage="failed"
    )
    push_to_group(video_group(video.pk), {"type": "ingest.failed", "video": video.pk, "reason": reason})


@transaction.atomic
def video_delete(*, video: Video, user: Any = None, client_address: str = "") -> None:
    """Delete a video with everything derived from it: file, thumbnails, tracklets, index entries.

    With ``user`` (a deletion someone asked for, not a case's), each case that held it gets a
    ledger record; a case's own deletion records itself.
    """
    from webapp.core import engine
    from webapp.tracklets.services import tracklets_delete_files

    tracklets_delete_files(video=video)
    video.file_path.unlink(missing_ok=True)
    video.proxy_path.unlink(missing_ok=True)
    cameras = sorted(set(video.tracklets.values_list("camera_id", flat=True)) | {video.camera_id})
    if user is not None:
        people = video.tracklets.count()
        for case_id in video.case_links.values_list("case_id", flat=True):
            audit_record(action=Action.VIDEO_DELETE, user=user, case_id=case_id, object_type="video",
                         object_ids=[video.pk], client_address=client_address,
                         details={"name": video.original_name, "people_deleted": people})
    video.delete()
    # Deleted means deleted: the index snapshots are rewritten without these people at once,
    # not at some later search.
    transaction.on_commit(lambda: engine.index_purge_cameras(cameras))


class _VideoGone(Exception):
    """The video was deleted while it was being ingested."""


class _PartialStore:
    """Stores and indexes the tracklets an ingest hands over before it ends: searchable at once."""

    def __init__(self, video: Video) -> None:
        self.video = video

    def __call__(self, partial: Any) -> None:
        from webapp.core import engine
        from webapp.tracklets.models import Tracklet
        from webapp.tracklets.services import tracklets_add_partial

        with transaction.atomic():
            # Locking the video row keeps a concurrent deletion from leaving orphans behind.
            if not Video.objects.select_for_update().filter(pk=self.video.pk).exists():
                raise _VideoGone
            rows = tracklets_add_partial(video=self.video, partial=partial)
        engine.index_add_tracklets(rows)
        push_to_group(
            video_group(self.video.pk),
            {
                "type": "ingest.people",
                "video": self.video.pk,
                "people": Tracklet.objects.filter(video=self.video).count(),
                "analysed_s": round(partial.analysed_s, 1),
            },
        )


class _IngestProgress:
    """Forwards engine progress to the video's row (throttled) and to subscribed browsers."""

    def __init__(self, video: Video, min_db_interval_s: float = 2.0) -> None:
        self.video = video
        self.min_db_interval_s = min_db_interval_s
        self.last_db = 0.0

    def __call__(self, progress: Any) -> None:
        now = time.monotonic()
        if now - self.last_db >= self.min_db_interval_s or progress.stage in ("embed", "done"):
            self.last_db = now
            Video.objects.filter(pk=self.video.pk).update(
                stage=progress.stage, progress=progress.fraction, eta_s=progress.eta_s
            )
        push_to_group(
            video_group(self.video.pk),
            {
                "type": "ingest.progress",
                "video": self.video.pk,
                "stage": progress.stage,
                "percent": round(100 * progress.fraction, 1),
                "eta_s": None if progress.eta_s is None else round(progress.eta_s, 1),
                "message": progress.message,
            },
        )


def videos_delete_for_case(*, case: Any, report: Any, **kwargs: Any) -> None:
    """Delete a deleted case's footage that no other live case holds (``case_deleting`` receiver)."""
    from webapp.cases.services import videos_held_only_by

    delete_ids, keep_ids = videos_held_only_by(case)
    for video in Video.objects.filter(pk__in=delete_ids).order_by("pk"):
        report.people_deleted += video.tracklets.count()
        report.videos_deleted.append(video.pk)
        video_delete(video=video)
    report.videos_kept.extend(keep_ids)
