"""Searches: started on the web side and streamed by a worker, or run at once for the REST API;
every one leaves an audit record."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from reid_engine.attributes.schema import SCHEMA
from reid_engine.types import Hit
from webapp.core.events import push_to_channel
from webapp.core.exceptions import DomainError
from webapp.search.filters import SearchFilters, SearchQuery
from webapp.search.models import SearchRecord
from webapp.search.selectors import hit_cards, search_plan
from webapp.search.serializers import search_query_from
from webapp.tracklets.models import Tracklet

logger = logging.getLogger(__name__)

LANE_ORDER: tuple[str, ...] = ("same_outfit", "clothes_change")
"""Result lanes in the order they stream: the same outfit first (appearance, clothing included), then
the clothes-invariant ranking (possible change of clothes)."""


def search_start(
    *, user: Any, tracklet_id: int, k: int, reply_channel: str, filters: Any = None
) -> SearchRecord:
    """Record the search and queue it; hits are pushed to ``reply_channel`` as they are ranked.

    Raises:
        DomainError: 400 for a bad ``k`` or bad filters, 404 for an unknown person.
    """
    request: dict[str, Any] = {"tracklet": tracklet_id, "k": k}
    if filters is not None:
        request["filters"] = filters
    query = search_query_from(request)
    record = _record_create(user=user, query=query, tracklet=_query_tracklet(query.tracklet))
    from webapp.search.tasks import run_search

    transaction.on_commit(lambda: run_search.delay(record.pk, reply_channel))
    return record


def search_run(*, search_id: int, reply_channel: str) -> None:
    """Rank the permitted tracklets against the query and stream the hits in batches (worker side).

    The time from the query's arrival (the record's creation) to the first batch being pushed is
    stored on the record and sent in ``search.done`` as ``first_batch_ms``.
    """
    record = SearchRecord.objects.filter(pk=search_id).first()
    if record is None or record.status != SearchRecord.Status.RUNNING:
        return
    query = _query_of(record)
    tracklet = Tracklet.objects.filter(pk=query.tracklet).first()
    if tracklet is None:
        _fail(record, reply_channel, "the person searched for was deleted")
        return
    try:
        batch_size = settings.LONGVIEW["SEARCH_BATCH"]
        counts: dict[str, int] = {}
        for lane in LANE_ORDER:
            hits = _rank(tracklet, query, lane=lane)
            counts[lane] = 0
            for start in range(0, len(hits), batch_size):
                cards = hit_cards((h.item_id, h.score, h.rank) for h in hits[start : start + batch_size])
                if not cards:
                    continue
                push_to_channel(
                    reply_channel, {"type": "search.hits", "search": record.pk, "lane": lane, "hits": cards}
                )
                if record.first_batch_ms is None:
                    record.first_batch_ms = round((timezone.now() - record.created_at).total_seconds() * 1000, 1)
                counts[lane] += len(cards)
    except Exception:
        _fail(record, reply_channel, "internal error while searching; the administrators were notified")
        raise
    count = sum(counts.values())
    _finish(record, count)
    logger.info("search %s: %s hits, first batch after %s ms", record.pk, counts, record.first_batch_ms)
    push_to_channel(
        reply_channel,
        {
            "type": "search.done",
            "search": record.pk,
            "count": count,
            "lanes": counts,
            "first_batch_ms": record.first_batch_ms,
        },
    )


def search_now(*, user: Any, query: SearchQuery) -> dict[str, Any]:
    """Run a search to the end and return the ranked list (the REST API), recording it as well.

    Raises:
        DomainError: 404 for an unknown person.
    """
    tracklet = _query_tracklet(query.tracklet)
    record = _record_create(user=user, query=query, tracklet=tracklet)
    try:
        lanes: dict[str, list[dict[str, Any]]] = {}
        for lane in LANE_ORDER:
            hits = _rank(tracklet, query, lane=lane)
            lanes[lane] = hit_cards((h.item_id, h.score, h.rank) for h in hits)
    except Exception:
        _mark_failed(record, "internal error while searching")
        raise
    cards = lanes["same_outfit"]
    _finish(record, sum(len(v) for v in lanes.values()))
    return {
        "search": record.pk,
        "tracklet": tracklet.pk,
        "k": query.k,
        "filters": query.filters.as_params(),
        "count": len(cards),
        "hits": cards,
        "lanes": lanes,
    }


def search_warm() -> None:
    """Load the index shards, the URL map and the channel layer in a fresh worker process, before its
    first search."""
    from channels.layers import get_channel_layer

    from webapp.search.index import index_warm

    try:
        shards = index_warm()
    except DatabaseError:
        logger.exception("could not load the search index ahead of the first search")
    else:
        logger.info("search index shards loaded ahead of the first search: %s", shards)
    reverse("tracklet-thumbnail", args=[1])
    get_channel_layer()


def _rank(tracklet: Tracklet, query: SearchQuery, *, lane: str = "same_outfit") -> list[Hit]:
    """The query's hits in one lane.

    ``same_outfit`` ranks by the appearance embedding under every filter. ``clothes_change`` ranks by
    the clothes-invariant embedding and relaxes the conditions on mutable attributes (a witness's
    "red top" says nothing about what the person wore elsewhere) while keeping the stable ones. The
    lanes rank independently: a person can appear in both.
    """
    from webapp.search.index import index_search, shard_fingerprints

    filters = query.filters
    if lane == "clothes_change":
        vector = tracklet.identity_embedding_array()
        if vector is None:
            return []
        filters = dataclasses.replace(
            filters, attributes=tuple(c for c in filters.attributes if SCHEMA[c.attribute].stable)
        )
    else:
        vector = tracklet.embedding_array()
    fingerprints = shard_fingerprints(lane)
    plan = search_plan(filters, shards=fingerprints.keys())
    return index_search(
        vector, query.k, exclude=[tracklet.pk], plan=plan, fingerprints=fingerprints, lane=lane
    )


def _query_tracklet(tracklet_id: int) -> Tracklet:
    tracklet = Tracklet.objects.select_related("camera").filter(pk=tracklet_id).first()
    if tracklet is None:
        raise DomainError(f"there is no person {tracklet_id}", status_code=404)
    return tracklet


def _query_of(record: SearchRecord) -> SearchQuery:
    params = record.params
    return SearchQuery(
        tracklet=params["tracklet"], k=params["k"], filters=SearchFilters.from_params(params.get("filters"))
    )


def _record_create(*, user: Any, query: SearchQuery, tracklet: Tracklet) -> SearchRecord:
    return SearchRecord.objects.create(
        user=user,
        query_tracklet=tracklet,
        query_description=(
            f"person {tracklet.track_id} on {tracklet.camera.name} at {tracklet.start_time:%Y-%m-%d %H:%M:%S}"
        ),
        params={"tracklet": query.tracklet, "k": query.k, "filters": query.filters.as_params()},
    )


def _finish(record: SearchRecord, count: int) -> None:
    record.status = SearchRecord.Status.DONE
    record.result_count = count
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "result_count", "finished_at", "first_batch_ms"])


def _mark_failed(record: SearchRecord, reason: str) -> None:
    record.status = SearchRecord.Status.FAILED
    record.error = reason
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "error", "finished_at", "first_batch_ms"])


def _fail(record: SearchRecord, reply_channel: str, reason: str) -> None:
    _mark_failed(record, reason)
    push_to_channel(reply_channel, {"type": "search.failed", "search": record.pk, "reason": reason})
