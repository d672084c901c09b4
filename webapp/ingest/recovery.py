"""Requeue ingests that a killed ingest worker left behind, when an ingest worker starts.

``acks_late`` with ``reject_on_worker_lost`` requeues a task whose pool process died, but when the
whole worker is killed (SIGKILL, out of memory, the host lost) its unacknowledged message waits in
Redis for the broker's ``visibility_timeout`` (hours) before another worker sees it. A starting ingest
worker therefore queues again every video still ``queued`` or ``processing``: ingestion is idempotent
(a finished video is left alone, a re-run replaces partial results, and writers of one video are
serialised), so a message delivered twice costs at most a repeated analysis.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import worker_ready

logger = logging.getLogger(__name__)


def videos_requeue_stranded() -> list[int]:
    """Queue ingestion again for every video that is queued or being processed; returns their ids."""
    from webapp.ingest.tasks import ingest_video
    from webapp.videos.models import Video

    ids = list(
        Video.objects.filter(status__in=[Video.Status.QUEUED, Video.Status.PROCESSING])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in ids:
        ingest_video.delay(pk)
    if ids:
        logger.info("requeued %s video(s) a stopped worker left unfinished: %s", len(ids), ids)
    return ids


@worker_ready.connect
def _on_worker_ready(sender: Any = None, **kwargs: Any) -> None:
    queues = {q.name for q in getattr(getattr(sender, "task_consumer", None), "queues", [])}
    if "ingest" in queues:
        videos_requeue_stranded()
