"""Ingesting one video on a worker: run the engine, store the tracklets it found as they come,
index them, and tell subscribed browsers how it goes."""

from __future__ import annotations

import logging
import time

from django.db import transaction
from django.utils import timezone

from reid_engine.errors import ReidEngineError
from reid_engine.types import IngestResult, PartialResult, Progress
from webapp.core import engine
from webapp.core.events import (
    IngestDone,
    IngestFailed,
    IngestPeople,
    IngestProgress,
    push_to_group,
    video_group,
)
from webapp.search.index import index_add
from webapp.tracklets.models import Tracklet
from webapp.tracklets.services import tracklets_add_partial, tracklets_replace_for_video
from webapp.videos.models import Video

logger = logging.getLogger(__name__)


def video_ingest_run(*, video_id: int) -> None:
    """Run the engine on one video and store what it found (worker side).

    Idempotent: a finished video is left alone, and a re-run after a crash replaces the partial
    state rather than adding to it.
    """
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
    index_add(tracklets)
    push_to_group(
        video_group(video.pk),
        IngestDone(video=video.pk, people=len(tracklets), warnings=video.warnings, frames_skipped=video.frames_skipped),
    )


def _store_result(*, video: Video, result: IngestResult) -> list[Tracklet]:
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
    push_to_group(video_group(video.pk), IngestFailed(video=video.pk, reason=reason))


class _VideoGone(Exception):
    """The video was deleted while it was being ingested."""


class _PartialStore:
    """Stores and indexes the tracklets an ingest hands over before it ends: searchable at once."""

    def __init__(self, video: Video) -> None:
        self.video = video

    def __call__(self, partial: PartialResult) -> None:
        with transaction.atomic():
            # Locking the video row keeps a concurrent deletion from leaving orphans behind.
            if not Video.objects.select_for_update().filter(pk=self.video.pk).exists():
                raise _VideoGone
            rows = tracklets_add_partial(video=self.video, partial=partial)
        index_add(rows)
        push_to_group(
            video_group(self.video.pk),
            IngestPeople(
                video=self.video.pk,
                people=Tracklet.objects.filter(video=self.video).count(),
                analysed_s=round(partial.analysed_s, 1),
            ),
        )


class _IngestProgress:
    """Forwards engine progress to the video's row (throttled) and to subscribed browsers."""

    def __init__(self, video: Video, min_db_interval_s: float = 2.0) -> None:
        self.video = video
        self.min_db_interval_s = min_db_interval_s
        self.last_db = 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if now - self.last_db >= self.min_db_interval_s or progress.stage in ("embed", "done"):
            self.last_db = now
            Video.objects.filter(pk=self.video.pk).update(
                stage=progress.stage, progress=progress.fraction, eta_s=progress.eta_s
            )
        push_to_group(
            video_group(self.video.pk),
            IngestProgress(
                video=self.video.pk,
                stage=progress.stage,
                percent=round(100 * progress.fraction, 1),
                eta_s=None if progress.eta_s is None else round(progress.eta_s, 1),
                message=progress.message,
            ),
        )
