"""Unfinished uploads: what the server holds of one (so a browser can resume it, even after a
reload), and deleting those abandoned for ``LONGVIEW["UPLOAD_EXPIRY_HOURS"]``.

An upload's last activity is the later of its creation and its file's last write: every chunk
written touches the file, so no extra bookkeeping runs per chunk.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from webapp.audit.ledger import audit_record
from webapp.audit.models import Action
from webapp.videos.models import Video
from webapp.videos.services import video_delete

logger = logging.getLogger(__name__)

# How much of the start of an upload the server hashes for a resuming browser to compare against
# the file it was given again: enough to tell two recordings apart, cheap to read on both sides.
HEAD_BYTES = 1024 * 1024


def upload_last_activity(video: Video) -> datetime:
    """When a chunk last reached ``video`` (its creation when none did, or its file is gone)."""
    try:
        written = datetime.fromtimestamp(video.file_path.stat().st_mtime, tz=UTC)
    except FileNotFoundError:
        return video.created_at
    return max(video.created_at, written)


def upload_expires_at(video: Video) -> datetime:
    """When ``video``, still uploading, counts as abandoned unless another chunk arrives first."""
    return upload_last_activity(video) + timedelta(hours=settings.LONGVIEW["UPLOAD_EXPIRY_HOURS"])


def upload_head_sha256(video: Video, length: int) -> str:
    """The hex sha256 of the first ``length`` bytes received of ``video``."""
    digest = hashlib.sha256()
    with video.file_path.open("rb") as fh:
        digest.update(fh.read(length))
    return digest.hexdigest()


def upload_state(video: Video) -> dict[str, Any]:
    """What a browser needs to resume ``video``'s upload: the file it was started with (name, size,
    and the sha256 of its first ``head_bytes``) and the offset to send from."""
    head = min(video.upload_offset, HEAD_BYTES)
    uploading = video.status == Video.Status.UPLOADING
    return {
        "video": video.pk,
        "status": video.status,
        "name": video.original_name,
        "size": video.size_bytes,
        "offset": video.upload_offset,
        "head_bytes": head if uploading else 0,
        "head_sha256": upload_head_sha256(video, head) if uploading and head else "",
        "expires_at": upload_expires_at(video) if uploading else None,
    }


def uploads_unfinished(user: Any, videos: QuerySet[Video]) -> list[dict[str, Any]]:
    """``user``'s own uploads among ``videos`` that are still waiting for bytes, newest first, with
    how far each got and when it expires."""
    rows = videos.filter(status=Video.Status.UPLOADING, uploaded_by=user).order_by("-created_at")
    return [
        {
            "video": v.pk,
            "name": v.original_name,
            "size": v.size_bytes,
            "offset": v.upload_offset,
            "percent": int(100 * v.upload_offset / v.size_bytes) if v.size_bytes else 0,
            "camera": v.camera.name,
            "expires_at": upload_expires_at(v),
        }
        for v in rows.select_related("camera")
    ]


@dataclass
class ExpiryReport:
    """What one expiry run deleted: the uploads' ids and the bytes they had received."""

    videos: list[int] = field(default_factory=list)
    bytes_deleted: int = 0


def uploads_expire(*, now: datetime | None = None) -> ExpiryReport:
    """Delete every upload no chunk has reached for ``UPLOAD_EXPIRY_HOURS``: its file, its row, its
    links into cases, each case's ledger getting an ``upload.expire`` record."""
    now = now or timezone.now()
    hours = settings.LONGVIEW["UPLOAD_EXPIRY_HOURS"]
    cutoff = now - timedelta(hours=hours)
    report = ExpiryReport()
    # Only uploads older than the cutoff can be idle for that long; their files say the rest.
    candidates = Video.objects.filter(status=Video.Status.UPLOADING, created_at__lt=cutoff).order_by("pk")
    for pk in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            # Locked and read again: a chunk that arrived meanwhile (or a completed upload) keeps it.
            video = Video.objects.select_for_update().filter(pk=pk, status=Video.Status.UPLOADING).first()
            if video is None or upload_last_activity(video) >= cutoff:
                continue
            received = video.upload_offset
            last = upload_last_activity(video)
            for case_id in video.case_links.values_list("case_id", flat=True):
                audit_record(
                    action=Action.UPLOAD_EXPIRE, case_id=case_id, object_type="video", object_ids=[video.pk],
                    details={"name": video.original_name, "size_bytes": video.size_bytes,
                             "received_bytes": received, "last_activity": last.isoformat(),
                             "expiry_hours": hours},
                )
            video_delete(video=video)
        report.videos.append(pk)
        report.bytes_deleted += received
    if report.videos:
        logger.info("expired %d abandoned uploads (%d bytes)", len(report.videos), report.bytes_deleted)
    return report
