"""Uploading, probing, ingesting and deleting footage: every write that spans models lives here."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from reid_engine.errors import ReidEngineError
from reid_engine.video import probe_video, timing_warning
from webapp.audit.ledger import audit_record
from webapp.audit.models import Action
from webapp.cameras.models import Camera
from webapp.cases import access
from webapp.cases.access import Capability
from webapp.cases.models import Case, CaseVideo
from webapp.cases.services import case_video_add, videos_held_only_by
from webapp.core.exceptions import DomainError
from webapp.core.media import file_sha256
from webapp.videos.models import Video
from webapp.videos.signals import video_deleted

logger = logging.getLogger(__name__)

_COPY_BLOCK = 1024 * 1024


class Readable(Protocol):
    """What a chunk is read from: a file, or the request body itself."""

    def read(self, size: int = ..., /) -> bytes: ...


INGEST_TASK = "videos.ingest"
"""The name of the Celery task that ingests one video (:func:`webapp.ingest.tasks.ingest_video`)."""


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
    the file. (Footage in no case is reachable by nobody; only scripts and tests make it.)

    The name only turns away what is plainly not footage (``ALLOWED_VIDEO_EXTENSIONS``); the content
    decides once it has arrived (:func:`video_upload_complete`), so a name may be any of the video ones.
    """
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
            original_name=Path(filename).name[:255],
            size_bytes=size_bytes,
            recorded_at=recorded_at,
        )
        if case is not None:
            case_video_add(case=case, video=video, user=user, action=Action.VIDEO_UPLOAD,
                           client_address=client_address)
    video.file_path.parent.mkdir(parents=True, exist_ok=True)
    video.file_path.touch()
    return video


def video_upload_append(*, video: Video, start: int, stream: Readable, length: int) -> Video:
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
    with video.file_path.open("r+b") as fh:
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
    with video.file_path.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    Video.objects.filter(pk=video.pk).update(upload_offset=upload.size)
    video.refresh_from_db()
    video_upload_complete(video=video)
    return video


def video_upload_complete(*, video: Video) -> None:
    """Probe the complete file; refuse it with the reason, or queue it for ingestion.

    What the file is comes from its content, whatever it is called: the probe names the container
    it found (``probe["container"]``). A raw stream's derived frame times are noted in ``warnings``
    at once (the ingest repeats the note). The file's sha256 is taken as received: evidence packages
    name the source footage by it.
    """
    try:
        info = probe_video(video.file_path)
    except ReidEngineError as exc:
        video_reject(video=video, reason=str(exc))
        raise DomainError(f"{video.original_name!r} was refused: {exc}", video=video.pk) from None
    video.sha256 = file_sha256(video.file_path)
    video.probe = info.as_dict()
    video.duration_s = info.duration_s
    video.warnings = [note] if (note := timing_warning(info)) else []
    video.status = Video.Status.QUEUED
    video.stage = "queued"
    video.save(update_fields=["sha256", "probe", "duration_s", "warnings", "status", "stage"])
    video_ingest_start(video=video)


def video_sha256_ensure(*, video: Video) -> str:
    """The video's sha256, computed from its file and saved when the row has none yet (footage
    uploaded before the sha256 was kept).

    Raises:
        FileNotFoundError: the video's file is gone.
    """
    if not video.sha256:
        video.sha256 = file_sha256(video.file_path)
        Video.objects.filter(pk=video.pk, sha256="").update(sha256=video.sha256)
    return video.sha256


def video_reject(*, video: Video, reason: str) -> None:
    video.file_path.unlink(missing_ok=True)
    video.status = Video.Status.REJECTED
    video.error = reason
    video.finished_at = timezone.now()
    video.save(update_fields=["status", "error", "finished_at"])


def video_ingest_start(*, video: Video) -> None:
    """Queue ingestion once the row is committed, so the worker never sees a half-written video."""
    # By name: the task lives in webapp.ingest, which builds on this app (ingestion stores tracklets
    # and indexes them), so importing it here would make the two apps import each other.
    transaction.on_commit(lambda: current_app.send_task(INGEST_TASK, args=[video.pk]))


def video_delete_refusal(*, user: Any, video: Video) -> DomainError | None:
    """Why ``user`` may not delete ``video``, or None when they may: the one rule the API, the admin
    and the pages ask.

    A user may delete footage when they may delete in every case holding it (its lead; an admin who
    is a member). Footage also held by a case they are not in is refused with 409, so deleting it
    never pulls it out from under another investigation.
    """
    holding = list(Case.objects.filter(video_links__video=video))
    if not holding:
        return DomainError("no such video", status_code=404)
    for case in holding:
        refusal = _case_refusal(user, case)
        if refusal is not None:
            return refusal
    return None


def videos_deletable_by(*, user: Any, videos: Any) -> set[int]:
    """The ids of those of ``videos`` (a queryset, or ids) that ``user`` may delete, by the rule of
    :func:`video_delete_refusal`, asked once per case rather than once per video."""
    holders: dict[int, set[int]] = {}
    for video_id, case_id in CaseVideo.objects.filter(video__in=videos).values_list("video_id", "case_id"):
        holders.setdefault(video_id, set()).add(case_id)
    cases = Case.objects.in_bulk({case_id for ids in holders.values() for case_id in ids})
    allowed = {pk for pk, case in cases.items() if _case_refusal(user, case) is None}
    return {video_id for video_id, ids in holders.items() if ids <= allowed}


def _case_refusal(user: Any, case: Case) -> DomainError | None:
    if access.role_in(user, case) is None:
        return DomainError(
            "this footage is also held by a case you are not a member of; ask its lead to remove it",
            status_code=409,
        )
    try:
        access.case_for(user, case.pk, Capability.DELETE)
    except DomainError as exc:
        return exc
    return None


def video_delete_as(*, user: Any, video: Video, client_address: str = "") -> None:
    """Delete ``video`` on ``user``'s behalf (API, admin, pages), after :func:`video_delete_refusal`.

    Raises:
        DomainError: the refusal, when there is one; nothing is deleted then.
    """
    refusal = video_delete_refusal(user=user, video=video)
    if refusal is not None:
        raise refusal
    video_delete(video=video, user=user, client_address=client_address)


@transaction.atomic
def video_delete(*, video: Video, user: Any = None, client_address: str = "") -> None:
    """Delete a video with everything derived from it: file, review copy, thumbnails, tracklets,
    index entries.

    The rows go first, in one transaction (the caller's, when there is one: a case's deletion); the
    files only once it has committed, so a deletion that fails or is rolled back leaves the video
    whole, never rows pointing at files already gone. With ``user`` (a deletion someone asked for,
    not a case's), each case that held it gets a ledger record; a case's own deletion records
    itself. Once the deletion commits, the ``video_deleted`` signal lets the index drop the video's
    people from every shard at once.
    """
    files = [video.file_path, video.proxy_path]
    thumbnails = video.thumbnail_dir
    people = list(video.tracklets.order_by("pk").values_list("pk", "camera_id"))
    cameras = sorted({camera_id for _, camera_id in people} | {video.camera_id})
    tracklet_ids = [pk for pk, _ in people]
    if user is not None:
        for case_id in video.case_links.values_list("case_id", flat=True):
            audit_record(action=Action.VIDEO_DELETE, user=user, case_id=case_id, object_type="video",
                         object_ids=[video.pk], client_address=client_address,
                         details={"name": video.original_name, "people_deleted": len(tracklet_ids)})
    video_id = video.pk
    video.delete()

    def remove_files() -> None:
        shutil.rmtree(thumbnails, ignore_errors=True)
        for path in files:
            path.unlink(missing_ok=True)

    transaction.on_commit(remove_files)
    transaction.on_commit(
        lambda: video_deleted.send(sender=Video, video_id=video_id, camera_ids=cameras, tracklet_ids=tracklet_ids)
    )


def videos_delete_for_case(*, case: Any, report: Any, **kwargs: Any) -> None:
    """Delete a deleted case's footage that no other live case holds (``case_deleting`` receiver)."""
    delete_ids, keep_ids = videos_held_only_by(case)
    for video in Video.objects.filter(pk__in=delete_ids).order_by("pk"):
        report.people_deleted += video.tracklets.count()
        report.videos_deleted.append(video.pk)
        video_delete(video=video)
    report.videos_kept.extend(keep_ids)
