"""Celery side of searching: the search tasks, and warming each fresh worker process for them."""

from __future__ import annotations

from typing import Any

from celery import current_app, shared_task
from celery.signals import worker_process_init

from webapp.search import worker


@shared_task(name="search.run", acks_late=True, reject_on_worker_lost=True)
def run_search(search_id: int, reply_channel: str) -> None:
    worker.search_run(search_id=search_id, reply_channel=reply_channel)


@shared_task(name="search.photo", acks_late=True, reject_on_worker_lost=True)
def run_photo_search(search_id: int) -> None:
    worker.search_photo_run(search_id=search_id)


@worker_process_init.connect(weak=False)
def warm_search(**kwargs: Any) -> None:
    # Runs in each child after the fork (FAISS must not be loaded in the parent), so the first search
    # a child takes does not wait for the index to load. A worker started with queues that leave out
    # "search" (-Q ingest) has nothing to warm.
    queues = current_app.amqp.queues.consume_from
    if queues and "search" not in queues:
        return
    worker.search_warm()
