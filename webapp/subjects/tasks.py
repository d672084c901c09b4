"""Celery side of subjects: searches with a subject's sightings."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="subjects.search", acks_late=True, reject_on_worker_lost=True)
def run_subject_search(search_id: int, reply_channel: str) -> None:
    from webapp.subjects.searches import subject_search_run

    subject_search_run(search_id=search_id, reply_channel=reply_channel)
