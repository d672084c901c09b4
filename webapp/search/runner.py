"""One lane runner for every search: it ranks each lane, then refines it when asked, and yields
typed events that the streaming worker and the one-request REST search both consume."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from reid_engine.types import Hit
from webapp.core.events import Event, SearchDone, SearchFailed, SearchHits, SearchRefined
from webapp.search.models import SearchRecord
from webapp.search.ranking import SearchLanes
from webapp.search.records import record_fail, record_finish

logger = logging.getLogger(__name__)

Push = Callable[[Event], None]


@dataclass(frozen=True, slots=True)
class LaneRanked:
    """A lane's first ranking, best first."""

    lane: str
    hits: list[Hit]


@dataclass(frozen=True, slots=True)
class LaneRefined:
    """A lane's second pass, which replaces its first ranking."""

    lane: str
    hits: list[Hit]


def lanes_run(lanes: SearchLanes) -> Iterator[LaneRanked | LaneRefined]:
    """Every lane's first ranking in streaming order, then each non-empty lane's second pass."""
    first: dict[str, list[Hit]] = {}
    for lane, rank in lanes.rankers.items():
        first[lane] = rank()
        yield LaneRanked(lane, first[lane])
    for lane, refine in lanes.refiners.items():
        if first.get(lane):
            yield LaneRefined(lane, refine(first[lane]))


def shown(hits: list[Hit], cards: list[dict[str, Any]]) -> list[Hit]:
    """The hits that became cards (tracklets deleted since the index was searched drop out)."""
    ids = {c["tracklet"] for c in cards}
    return [h for h in hits if h.item_id in ids]


def search_stream(record: SearchRecord, push: Push, lanes: SearchLanes) -> None:
    """Push each lane's first ranking in batches, then each refined lane as one ``search.refined``,
    then ``search.done``; the final hits are kept on the record for ``GET /api/search/{id}/``.

    Raises:
        Exception: whatever a ranking raised, after the search was marked failed and ``search.failed`` sent.
    """
    batch_size = settings.LONGVIEW["SEARCH_BATCH"]
    results: dict[str, list[Hit]] = {}
    try:
        for event in lanes_run(lanes):
            if isinstance(event, LaneRefined):
                cards = lanes.cards(event.hits, event.lane)
                results[event.lane] = shown(event.hits, cards)
                push(SearchRefined(search=record.pk, lane=event.lane, hits=cards))
                continue
            results[event.lane] = []
            for start in range(0, len(event.hits), batch_size):
                batch = event.hits[start : start + batch_size]
                cards = lanes.cards(batch, event.lane)
                if not cards:
                    continue
                results[event.lane].extend(shown(batch, cards))
                push(SearchHits(search=record.pk, lane=event.lane, hits=cards))
                if record.first_batch_ms is None:
                    record.first_batch_ms = round((timezone.now() - record.created_at).total_seconds() * 1000, 1)
    except Exception:
        search_fail(record, push, "internal error while searching; the administrators were notified")
        raise
    count = record_finish(record, results)
    counts = {lane: len(hits) for lane, hits in results.items()}
    logger.info("search %s: %s hits, first batch after %s ms", record.pk, counts, record.first_batch_ms)
    push(
        SearchDone(
            search=record.pk,
            count=count,
            lanes=counts,
            first_batch_ms=record.first_batch_ms,
            refined=bool(lanes.refiners),
        )
    )


def search_collect(record: SearchRecord, lanes: SearchLanes) -> dict[str, list[dict[str, Any]]]:
    """Run a search to the end and return each lane's final cards, the record marked done.

    Raises:
        Exception: whatever a ranking raised, after the search was marked failed.
    """
    cards: dict[str, list[dict[str, Any]]] = {}
    results: dict[str, list[Hit]] = {}
    try:
        for event in lanes_run(lanes):
            cards[event.lane] = lanes.cards(event.hits, event.lane)
            results[event.lane] = shown(event.hits, cards[event.lane])
    except Exception:
        record_fail(record, "internal error while searching")
        raise
    record_finish(record, results)
    return cards


def search_fail(record: SearchRecord, push: Push, reason: str) -> None:
    record_fail(record, reason)
    push(SearchFailed(search=record.pk, reason=reason))
