"""The hourly expiry of abandoned uploads (Celery beat)."""

from __future__ import annotations

from celery import shared_task

from webapp.videos.uploads import uploads_expire


@shared_task(name="videos.expire_uploads")
def expire_uploads() -> int:
    return len(uploads_expire().videos)
