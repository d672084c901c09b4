"""The Celery task that ingests one video: a thin wrapper around the service."""

from __future__ import annotations

from celery import shared_task

from webapp.ingest.services import video_ingest_run


# The name stays "videos.ingest": queued tasks and the routes in settings know it by that name.
@shared_task(name="videos.ingest", acks_late=True, reject_on_worker_lost=True)
def ingest_video(video_id: int) -> None:
    video_ingest_run(video_id=video_id)


# A starting ingest worker requeues what a killed one left unfinished (see the module).
from webapp.ingest import recovery  # noqa: E402,F401
