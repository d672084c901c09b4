"""Reads for searching: which tracklets a query's filters allow, per index shard, from the database."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db.models import Q, QuerySet

from reid_engine.types import Hit
from webapp.cameras.models import Camera
from webapp.cases.access import scope_by_case
from webapp.search.confidence import match_confidence
from webapp.search.filters import AttributeCondition, SearchFilters, attribute_score, attributes_pass
from webapp.search.lanes import ATTRIBUTE_LANE, lane_of
from webapp.search.models import SearchRecord
from webapp.search.records import record_params
from webapp.search.shards import DEFAULT_SHARD, ShardKey
from webapp.tracklets.models import Tracklet
from webapp.tracklets.selectors import tracklet_card

# The JSON field of attribute probabilities ({attribute: {value name: probability}}) that ingestion
# writes; tracklets ingested without attribute estimation hold {} there.
ATTRIBUTE_FIELD = "attributes"


@dataclass(frozen=True, slots=True)
class SearchPlan:
    """The shards a search touches and, for each, the ids it may return.

    Attributes:
        allowed: shard → int64 (M,) ascending ids the filters allow in it, or None for all of it.
    """

    allowed: dict[ShardKey, np.ndarray | None]


def shard_of(gallery_id: int | None) -> ShardKey:
    """The index shard of a camera in gallery ``gallery_id`` (None: no gallery)."""
    return DEFAULT_SHARD if gallery_id is None else gallery_id


def shard_condition(key: ShardKey) -> Q:
    """A tracklet filter selecting the tracklets of shard ``key``."""
    return Q(camera__gallery__isnull=True) if key == DEFAULT_SHARD else Q(camera__gallery_id=key)


def filtered_tracklets(filters: SearchFilters) -> QuerySet[Tracklet]:
    """Tracklets passing the camera, gallery and time filters (attributes are applied separately)."""
    qs = Tracklet.objects.all()
    if filters.case is not None:
        qs = qs.filter(video__case_links__case_id=filters.case)
    if filters.cameras:
        qs = qs.filter(camera_id__in=filters.cameras)
    if filters.galleries:
        qs = qs.filter(camera__gallery_id__in=filters.galleries)
    if filters.time_from is not None:
        qs = qs.filter(end_time__gte=filters.time_from)
    if filters.time_to is not None:
        qs = qs.filter(start_time__lte=filters.time_to)
    return qs.order_by()


def search_plan(filters: SearchFilters, *, shards: Iterable[ShardKey]) -> SearchPlan:
    """The allowed ids of every shard a search with ``filters`` must look into.

    Args:
        filters: the search's filters.
        shards: the shards that hold tracklets now.
    """
    keys = set(shards)
    if filters.galleries:
        keys &= set(filters.galleries)
    if filters.cameras:
        galleries = Camera.objects.filter(pk__in=filters.cameras).values_list("gallery_id", flat=True)
        keys &= {shard_of(g) for g in galleries}
    apply_attributes = bool(filters.attributes)
    if not (filters.case is not None or filters.cameras or filters.time_from or filters.time_to or apply_attributes):
        return SearchPlan({key: None for key in sorted(keys)})
    qs = filtered_tracklets(filters)
    if apply_attributes:
        rows: Iterable[tuple[Any, ...]] = (
            (pk, gallery)
            for pk, gallery, probabilities in qs.values_list("pk", "camera__gallery_id", ATTRIBUTE_FIELD)
            if attributes_pass(probabilities, filters.attributes)
        )
    else:
        rows = qs.values_list("pk", "camera__gallery_id")
    per_shard: dict[ShardKey, list[int]] = defaultdict(list)
    for pk, gallery in rows:
        per_shard[shard_of(gallery)].append(pk)
    return SearchPlan({key: np.sort(np.asarray(per_shard[key], dtype=np.int64)) for key in sorted(keys)})


def attribute_ranking(
    conditions: tuple[AttributeCondition, ...], filters: SearchFilters, k: int
) -> list[Hit]:
    """The ``k`` tracklets passing ``filters`` that best fit a description, best first, ranks 0…k-1.

    The score is :func:`~webapp.search.filters.attribute_score`; ties go to the lower id. Tracklets
    with no data for an asked attribute score 0 on it and still appear, last, when fewer fit.
    """
    rows = filtered_tracklets(filters).values_list("pk", ATTRIBUTE_FIELD).iterator(chunk_size=2000)
    scored = (
        (attribute_score(probabilities, conditions), pk)
        for pk, probabilities in rows
        if not filters.attributes or attributes_pass(probabilities, filters.attributes)
    )
    best = heapq.nsmallest(k, scored, key=lambda item: (-item[0], item[1]))
    return [Hit(item_id=pk, score=score, rank=rank) for rank, (score, pk) in enumerate(best)]


def shard_tracklet_ids(key: ShardKey, rows: QuerySet[Tracklet] | None = None) -> np.ndarray:
    """Every tracklet id of shard ``key`` in the database (among ``rows``), int64 ascending."""
    base = Tracklet.objects.all() if rows is None else rows
    ids = base.filter(shard_condition(key)).order_by("pk").values_list("pk", flat=True)
    return np.fromiter(ids, dtype=np.int64)


def hit_cards(hits: Iterable[Hit], *, lane: str) -> list[dict[str, Any]]:
    """Result cards for the hits of one lane (its wire name), in the order given.

    Each card carries the raw ``score`` and, for the embedding lanes, ``confidence``: the calibrated
    probability of a match for the embedder that made the tracklet's vector (None when uncalibrated).
    Tracklets deleted since the index was searched are left out.
    """
    hits = list(hits)
    rows = Tracklet.objects.select_related("camera", "video").filter(pk__in=[h.item_id for h in hits])
    by_id = {t.pk: t for t in rows}
    embedder_column = lane_of(lane).embedder_column if lane != ATTRIBUTE_LANE else None
    cards = []
    for hit in hits:
        t = by_id.get(hit.item_id)
        if t is None:
            continue
        embedder = getattr(t, embedder_column) if embedder_column else ""
        confidence = match_confidence(embedder, hit.score) if embedder else None
        cards.append({**tracklet_card(t), "score": round(hit.score, 4), "rank": hit.rank, "confidence": confidence})
    return cards


def search_detail(*, search_id: int, user: Any) -> dict[str, Any] | None:
    """A search of ``user`` as it stands, with its hits per lane once it is done; None when there is
    no such search of theirs."""
    record = searches_visible_to(user).filter(pk=search_id).first()
    if record is None:
        return None
    params = record_params(record)
    lanes = {
        lane: hit_cards((Hit(item_id=pk, score=score, rank=rank) for rank, (pk, score) in enumerate(hits)), lane=lane)
        for lane, hits in (record.results or {}).items()
    }
    return {
        "search": record.pk,
        "case": record.case_id,
        "justification": record.justification,
        "username": record.user.username,
        "status": record.status,
        "kind": params.kind,
        "query_description": record.query_description,
        "tracklet": params.tracklet,
        "subject": params.subject,
        "k": params.k,
        "filters": params.filters.as_params(),
        "error": record.error,
        "count": record.result_count,
        "first_batch_ms": record.first_batch_ms,
        "created_at": record.created_at,
        "finished_at": record.finished_at,
        "lanes": lanes,
    }


def searches_visible_to(user: Any) -> QuerySet[SearchRecord]:
    """The search records ``user`` may read back: those of the cases they are a member of."""
    return scope_by_case(user, SearchRecord.objects.select_related("user"))
