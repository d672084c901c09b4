"""Starting searches (web side) and running them (worker side), with an audit record of each."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webapp.core.events import push_to_channel
from webapp.core.exceptions import DomainError
from webapp.search.models import SearchRecord
from webapp.tracklets.models import Tracklet
from webapp.tracklets.selectors import tracklet_card

logger = logging.getLogger(__name__)

MAX_K = 500


def search_start(*, user: Any, tracklet_id: int, k: int, reply_channel: str) -> SearchRecord:
    """Record the search and queue it; hits are pushed to ``reply_channel`` as they are ranked."""
    if not 1 <= k <= MAX_K:
        raise DomainError(f"k must be between 1 and {MAX_K}")
    tracklet = Tracklet.objects.select_related("camera").filter(pk=tracklet_id).first()
    if tracklet is None:
        raise DomainError(f"there is no person {tracklet_id}", status_code=404)
    record = SearchRecord.objects.create(
        user=user,
        query_tracklet=tracklet,
        query_description=f"person {tracklet.track_id} on {tracklet.camera.name} at {tracklet.start_time:%Y-%m-%d %H:%M:%S}",
        params={"tracklet": tracklet_id, "k": k},
    )
    from webapp.search.tasks import run_search

    transaction.on_commit(lambda: run_search.delay(record.pk, reply_channel))
    return record


def search_run(*, search_id: int, reply_channel: str) -> None:
    """Rank every tracklet against the query and stream the hits in batches (worker side)."""
    from webapp.search.index import get_index

    record = SearchRecord.objects.filter(pk=search_id).first()
    if record is None or record.status != SearchRecord.Status.RUNNING:
        return
    query = Tracklet.objects.filter(pk=record.params["tracklet"]).first()
    if query is None:
        _fail(record, reply_channel, "the person searched for was deleted")
        return
    index = get_index()
    hits = [] if index is None else index.search(query.embedding_array(), record.params["k"], exclude={query.pk})
    cards = {
        t.pk: t
        for t in Tracklet.objects.select_related("camera", "video").filter(pk__in=[h.item_id for h in hits])
    }
    batch_size = settings.LONGVIEW["SEARCH_BATCH"]
    ranked = [(h, cards[h.item_id]) for h in hits if h.item_id in cards]
    for start in range(0, len(ranked), batch_size):
        batch = ranked[start : start + batch_size]
        push_to_channel(
            reply_channel,
            {
                "type": "search.hits",
                "search": record.pk,
                "hits": [{**tracklet_card(t), "score": round(h.score, 4), "rank": h.rank} for h, t in batch],
            },
        )
    record.status = SearchRecord.Status.DONE
    record.result_count = len(ranked)
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "result_count", "finished_at"])
    push_to_channel(reply_channel, {"type": "search.done", "search": record.pk, "count": len(ranked)})


def _fail(record: SearchRecord, reply_channel: str, reason: str) -> None:
    record.status = SearchRecord.Status.FAILED
    record.error = reason
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "error", "finished_at"])
    push_to_channel(reply_channel, {"type": "search.failed", "search": record.pk, "reason": reason})
