"""Celery tasks for footage: thin wrappers around services (no engine import at module level)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="videos.ingest", acks_late=True, reject_on_worker_lost=True)
def ingest_video(video_id: int) -> None:
    from webapp.videos.services import video_ingest_run

    video_ingest_run(video_id=video_id)


# A starting ingest worker requeues what a killed one left unfinished (see the module).
from webapp.videos import recovery  # noqa: E402,F401
