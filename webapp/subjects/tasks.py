"""Celery side of subjects: building an evidence package, and searches with a subject's sightings."""

from __future__ import annotations

from celery import shared_task

from webapp.subjects.exports import export_run


# Routed to the "ingest" queue (settings): cutting and encoding clips is video work. The soft limit
# turns a build that never ends into a failed export with a reason.
@shared_task(name="subjects.export", acks_late=True, reject_on_worker_lost=True, soft_time_limit=3 * 3600)
def export_subject(export_id: int, client_address: str = "") -> None:
    export_run(export_id=export_id, client_address=client_address)


@shared_task(name="subjects.search", acks_late=True, reject_on_worker_lost=True)
def run_subject_search(search_id: int, reply_channel: str) -> None:
    from webapp.subjects.searches import subject_search_run

    subject_search_run(search_id=search_id, reply_channel=reply_channel)
