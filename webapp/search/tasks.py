"""Celery task for searches: a thin wrapper around the search service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="search.run", acks_late=True, reject_on_worker_lost=True)
def run_search(search_id: int, reply_channel: str) -> None:
    from webapp.search.services import search_run

    search_run(search_id=search_id, reply_channel=reply_channel)
