"""Searches for a person, a description or an uploaded photo: started on the web side and streamed
by a worker, or run at once for the REST API; every one leaves an audit record."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone

from reid_engine.attributes.schema import SCHEMA
from reid_engine.types import Hit
from webapp.audit.ledger import audit_record
from webapp.audit.models import Action, AuditEntry
from webapp.cases.access import Capability, case_for, scope_tracklets
from webapp.core.events import push_to_channel, push_to_group
from webapp.core.exceptions import DomainError
from webapp.search.filters import AttributeCondition, SearchFilters, SearchQuery
from webapp.search.models import SearchRecord
from webapp.search.photos import NoPersonFound, photo_check, photo_delete, photo_embeddings, photo_store
from webapp.search.selectors import attribute_ranking, hit_cards, search_plan
from webapp.search.serializers import search_query_from
from webapp.tracklets.models import Tracklet

if TYPE_CHECKING:
    from reid_engine.index.refine import RefineConfig

logger = logging.getLogger(__name__)

LANE_ORDER: tuple[str, ...] = ("same_outfit", "clothes_change")
"""Result lanes in the order they stream: the same outfit first (appearance, clothing included), then
the clothes-invariant ranking (possible change of clothes)."""

ATTRIBUTE_LANE = "attributes"
"""The one lane of a search without a person: ranked by fit to the description."""


def search_start(
    *,
    user: Any,
    tracklet_id: int | None,
    k: int,
    reply_channel: str,
    filters: Any = None,
    attributes: Any = None,
    refine: Any = False,
    case: Any = None,
    justification: Any = None,
    client_address: str = "",
) -> SearchRecord:
    """Record the search and queue it; hits are pushed to ``reply_channel`` as they are ranked.

    The search runs in ``case`` (only its footage is ranked) and states its ``justification``.

    A search has a person (``tracklet_id``) or, with ``tracklet_id`` None, a description to rank by
    (``attributes``: ``[{"attribute", "value"}, …]``).

    Raises:
        DomainError: 400 for a bad ``k``, bad filters, a bad description or no justification, 404
            for an unknown person or a case the user is not in, 409 for a closed case.
    """
    request: dict[str, Any] = {"tracklet": tracklet_id, "k": k}
    if filters is not None:
        request["filters"] = filters
    if attributes is not None:
        request["attributes"] = attributes
    if refine:
        request["refine"] = refine
    request["case"], request["justification"] = case, justification
    query = search_query_from(request)
    case_row = case_for(user, query.filters.case, Capability.SEARCH)
    tracklet = None if query.tracklet is None else _query_tracklet(query.tracklet, user=user, case=case_row)
    record = _record_create(user=user, query=query, tracklet=tracklet, client_address=client_address)
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
    if query.photo is not None:
        # A photo needs the models: search_photo_run, on its own task, handles it.
        return

    def push(message: dict[str, Any]) -> None:
        push_to_channel(reply_channel, message)

    tracklet = None
    if query.tracklet is not None:
        tracklet = Tracklet.objects.filter(pk=query.tracklet).first()
        if tracklet is None:
            _fail(record, push, "the person searched for was deleted")
            return
    search_stream(record, push, _rankers(query, tracklet), _refiners(query, tracklet))


Refiner = Callable[[list[Hit]], list[Hit]]


def search_stream(
    record: SearchRecord,
    push: Callable[[dict[str, Any]], None],
    rankers: dict[str, Callable[[], list[Hit]]],
    refiners: dict[str, Refiner] | None = None,
) -> None:
    """Run each lane's ranking in order and push its hits in batches; then, with ``refiners``, each
    lane's refined list as one ``search.refined`` message; then ``search.done``. The final hits
    are kept on the record for ``GET /api/search/{id}/``.

    Raises:
        Exception: whatever a ranking raised, after the search was marked failed and ``search.failed`` sent.
    """
    try:
        batch_size = settings.LONGVIEW["SEARCH_BATCH"]
        counts: dict[str, int] = {}
        results: dict[str, list[list[float]]] = {}
        first: dict[str, list[Hit]] = {}
        for lane, rank in rankers.items():
            hits = first[lane] = rank()
            counts[lane] = 0
            results[lane] = [[h.item_id, round(h.score, 4)] for h in hits]
            for start in range(0, len(hits), batch_size):
                cards = hit_cards(((h.item_id, h.score, h.rank) for h in hits[start : start + batch_size]), lane=lane)
                if not cards:
                    continue
                push({"type": "search.hits", "search": record.pk, "lane": lane, "hits": cards})
                if record.first_batch_ms is None:
                    record.first_batch_ms = round((timezone.now() - record.created_at).total_seconds() * 1000, 1)
                counts[lane] += len(cards)
        for lane, refine in (refiners or {}).items():
            if not first.get(lane):
                continue
            refined = refine(first[lane])
            cards = hit_cards(((h.item_id, h.score, h.rank) for h in refined), lane=lane)
            results[lane] = [[c["tracklet"], c["score"]] for c in cards]
            counts[lane] = len(cards)
            push({"type": "search.refined", "search": record.pk, "lane": lane, "hits": cards})
    except Exception:
        _fail(record, push, "internal error while searching; the administrators were notified")
        raise
    count = sum(counts.values())
    record.results = results
    _finish(record, count)
    logger.info("search %s: %s hits, first batch after %s ms", record.pk, counts, record.first_batch_ms)
    push(
        {
            "type": "search.done",
            "search": record.pk,
            "count": count,
            "lanes": counts,
            "first_batch_ms": record.first_batch_ms,
            "refined": bool(refiners),
        }
    )


def search_now(*, user: Any, query: SearchQuery, client_address: str = "") -> dict[str, Any]:
    """Run a search to the end and return the ranked list (the REST API), recording it as well.

    Raises:
        DomainError: 404 for an unknown person or a case the user is not in; 409 for a closed case.
    """
    case_row = case_for(user, query.filters.case, Capability.SEARCH)
    tracklet = None if query.tracklet is None else _query_tracklet(query.tracklet, user=user, case=case_row)
    record = _record_create(user=user, query=query, tracklet=tracklet, client_address=client_address)
    rankers = _rankers(query, tracklet)
    refiners = _refiners(query, tracklet)
    try:
        lanes: dict[str, list[dict[str, Any]]] = {}
        for lane, rank in rankers.items():
            hits = rank()
            if lane in refiners and hits:
                hits = refiners[lane](hits)
            lanes[lane] = hit_cards(((h.item_id, h.score, h.rank) for h in hits), lane=lane)
    except Exception:
        _mark_failed(record, "internal error while searching")
        raise
    cards = next(iter(lanes.values()))
    record.results = {lane: [[c["tracklet"], c["score"]] for c in hits] for lane, hits in lanes.items()}
    _finish(record, sum(len(v) for v in lanes.values()))
    result: dict[str, Any] = {
        "search": record.pk,
        "case": query.filters.case,
        "justification": query.justification,
        "tracklet": query.tracklet,
        "k": query.k,
        "filters": query.filters.as_params(),
        "refine": query.refine,
        "count": len(cards),
        "hits": cards,
        "lanes": lanes,
    }
    if query.tracklet is None:
        result["attributes"] = _described(query)
    return result


def photo_searches_group(user_id: int) -> str:
    """The websocket group that receives the events of a user's searches by photo."""
    return f"photo-searches-{user_id}"


def search_photo_start(
    *,
    user: Any,
    image: UploadedFile,
    k: int,
    filters: SearchFilters,
    refine: bool = False,
    justification: str = "",
    client_address: str = "",
) -> SearchRecord:
    """Check and store an uploaded photo, record the search and queue it for a search worker.

    Its events go to every socket of ``user`` that sent ``search.subscribe``.

    Raises:
        DomainError: 400 for a file that is not a usable JPEG or PNG photo, 404 for a case the user
            is not in, 409 for a closed case.
    """
    case_row = case_for(user, filters.case, Capability.SEARCH)
    checked = photo_check(image)
    name = photo_store(image, checked)
    query = SearchQuery(tracklet=None, k=k, filters=filters, photo=name, refine=refine, justification=justification)
    description = f"uploaded photo {Path(image.name or 'photo').name}"[:255]
    try:
        with transaction.atomic():
            entry = _audit_search(user=user, case_id=case_row.pk, query=query, description=description,
                                  client_address=client_address)
            record = SearchRecord.objects.create(
                user=user,
                case=case_row,
                justification=justification,
                audit_entry=entry,
                query_description=description,
                params={
                    "kind": "photo",
                    "photo": name,
                    "tracklet": None,
                    "k": query.k,
                    "filters": filters.as_params(),
                    "refine": refine,
                },
            )
    except Exception:
        photo_delete(name)
        raise
    from webapp.search.tasks import run_photo_search

    transaction.on_commit(lambda: run_photo_search.delay(record.pk))
    return record


def search_photo_run(*, search_id: int) -> None:
    """Find and embed the person in the search's photo, stream both lanes' hits to the user's
    subscribed sockets, and delete the photo whatever the outcome (worker side)."""
    record = SearchRecord.objects.filter(pk=search_id).first()
    if record is None or record.params.get("kind") != "photo":
        return
    name = record.params["photo"]
    try:
        if record.status != SearchRecord.Status.RUNNING:
            return
        group = photo_searches_group(record.user_id)

        def push(message: dict[str, Any]) -> None:
            push_to_group(group, message)

        try:
            embedded = photo_embeddings(name)
        except NoPersonFound:
            _fail(record, push, "no person found in the photo")
            return
        except FileNotFoundError:
            _fail(record, push, "the photo is no longer stored")
            return
        except Exception:
            _fail(record, push, "internal error while reading the photo; the administrators were notified")
            raise
        k, filters = record.params["k"], SearchFilters.from_params(record.params.get("filters"))
        vectors = {"same_outfit": embedded.vector, "clothes_change": embedded.identity_vector}
        search_stream(
            record,
            push,
            {
                lane: functools.partial(
                    _rank, embedded.vector, embedded.identity_vector, filters, k, lane=lane, exclude=[]
                )
                for lane in LANE_ORDER
            },
            _lane_refiners(vectors, filters, k, exclude=[]) if record.params.get("refine") else None,
        )
    finally:
        photo_delete(name)


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


def _rankers(query: SearchQuery, tracklet: Tracklet | None) -> dict[str, Callable[[], list[Hit]]]:
    """The lanes of a search, in streaming order, each as a function computing its ranked hits."""
    if tracklet is None:
        return {ATTRIBUTE_LANE: lambda: attribute_ranking(query.attributes, query.filters, query.k)}
    vector, identity = tracklet.embedding_array(), tracklet.identity_embedding_array()
    return {
        lane: functools.partial(_rank, vector, identity, query.filters, query.k, lane=lane, exclude=[tracklet.pk])
        for lane in LANE_ORDER
    }


def _refiners(query: SearchQuery, tracklet: Tracklet | None) -> dict[str, Refiner]:
    """The second pass of each lane of a person search that asked for one (none otherwise)."""
    if tracklet is None or not query.refine:
        return {}
    vectors = {"same_outfit": tracklet.embedding_array(), "clothes_change": tracklet.identity_embedding_array()}
    return _lane_refiners(vectors, query.filters, query.k, exclude=[tracklet.pk])


def _lane_refiners(
    vectors: dict[str, np.ndarray | None], filters: SearchFilters, k: int, *, exclude: list[int]
) -> dict[str, Refiner]:
    return {
        lane: functools.partial(_refine, vector, filters, k, lane=lane, exclude=exclude)
        for lane, vector in vectors.items()
        if vector is not None
    }


def _refine(
    vector: np.ndarray, filters: SearchFilters, k: int, first: list[Hit], *, lane: str, exclude: list[int]
) -> list[Hit]:
    """A lane's second pass: query expansion and k-reciprocal re-ranking over its best candidates.

    The candidates are the lane's first ``candidates`` hits under the same filters (so every refined
    hit passes them too), their vectors read from the database.
    """
    from reid_engine.index.refine import refine_ranking
    from webapp.search.index import COLUMNS

    config = refine_config()
    wanted = max(k, config.candidates)
    candidates = first if len(first) >= wanted else _lane_search(vector, filters, wanted, lane=lane, exclude=exclude)
    stored = dict(Tracklet.objects.filter(pk__in=[h.item_id for h in candidates]).values_list("pk", COLUMNS[lane]))
    kept = [h for h in candidates if stored.get(h.item_id) is not None]
    if not kept:
        return []
    ids = np.asarray([h.item_id for h in kept], dtype=np.int64)
    matrix = np.stack([np.frombuffer(bytes(stored[h.item_id]), dtype=np.float32) for h in kept])
    ranked, scores = refine_ranking(vector, ids, matrix, k, config)
    return [Hit(item_id=int(i), score=float(s), rank=r) for r, (i, s) in enumerate(zip(ranked, scores, strict=True))]


@functools.cache
def refine_config() -> RefineConfig:
    """The second pass's settings, from ``LONGVIEW["SEARCH_REFINE"]`` (defaults for missing keys)."""
    from reid_engine.index.refine import RefineConfig

    return RefineConfig(**settings.LONGVIEW.get("SEARCH_REFINE", {}))


def _relaxed(filters: SearchFilters) -> SearchFilters:
    """The filters of the clothes-change lane: conditions on mutable attributes dropped."""
    return dataclasses.replace(filters, attributes=tuple(c for c in filters.attributes if SCHEMA[c.attribute].stable))


def _rank(
    vector: np.ndarray,
    identity_vector: np.ndarray | None,
    filters: SearchFilters,
    k: int,
    *,
    lane: str,
    exclude: list[int],
) -> list[Hit]:
    """The hits of a query's embeddings in one lane.

    ``same_outfit`` ranks by the appearance embedding under every filter. ``clothes_change`` ranks by
    the clothes-invariant embedding and relaxes the conditions on mutable attributes (a witness's
    "red top" says nothing about what the person wore elsewhere) while keeping the stable ones. The
    lanes rank independently: a person can appear in both.
    """
    if lane == "clothes_change":
        if identity_vector is None:
            return []
        vector = identity_vector
    return _lane_search(vector, filters, k, lane=lane, exclude=exclude)


def _lane_search(vector: np.ndarray, filters: SearchFilters, k: int, *, lane: str, exclude: list[int]) -> list[Hit]:
    """The ``k`` best hits of one lane's vector under the search's filters (relaxed for ``clothes_change``)."""
    from webapp.search.index import index_search, shard_fingerprints

    if lane == "clothes_change":
        filters = _relaxed(filters)
    fingerprints = shard_fingerprints(lane)
    plan = search_plan(filters, shards=fingerprints.keys())
    return index_search(vector, k, exclude=exclude, plan=plan, fingerprints=fingerprints, lane=lane)


def _query_tracklet(tracklet_id: int, *, user: Any, case: Any) -> Tracklet:
    """The person searched for, who must be in the case's footage (anything else is not found)."""
    rows = scope_tracklets(user, Tracklet.objects.select_related("camera"), case=case)
    tracklet = rows.filter(pk=tracklet_id).first()
    if tracklet is None:
        raise DomainError(f"there is no person {tracklet_id} in this case", status_code=404)
    return tracklet


def _query_of(record: SearchRecord) -> SearchQuery:
    params = record.params
    return SearchQuery(
        tracklet=params.get("tracklet"),
        k=params["k"],
        filters=SearchFilters.from_params(params.get("filters")),
        attributes=tuple(
            AttributeCondition(attribute=c["attribute"], value=c["value"], min_probability=0.0)
            for c in params.get("attributes", ())
        ),
        photo=params.get("photo"),
        refine=bool(params.get("refine")),
    )


def _described(query: SearchQuery) -> list[dict[str, Any]]:
    return [{"attribute": c.attribute, "value": c.value} for c in query.attributes]


def _audit_search(
    *, user: Any, case_id: int | None, query: SearchQuery, description: str, client_address: str
) -> AuditEntry:
    return audit_record(
        action=Action.SEARCH, user=user, case_id=case_id, object_type="tracklet",
        object_ids=[] if query.tracklet is None else [query.tracklet], justification=query.justification,
        client_address=client_address,
        details={"query": description, "k": query.k, "filters": query.filters.as_params(),
                 "kind": "photo" if query.photo else ("person" if query.tracklet else "attributes")},
    )


@transaction.atomic
def _record_create(
    *, user: Any, query: SearchQuery, tracklet: Tracklet | None, client_address: str = ""
) -> SearchRecord:
    """The search record and its ledger entry, written together."""
    params: dict[str, Any] = {
        "tracklet": query.tracklet,
        "k": query.k,
        "filters": query.filters.as_params(),
        "refine": query.refine,
    }
    if tracklet is None:
        params["attributes"] = _described(query)
        description = query.description()[:255]
    else:
        description = (
            f"person {tracklet.track_id} on {tracklet.camera.name} at {tracklet.start_time:%Y-%m-%d %H:%M:%S}"
        )
    entry = _audit_search(user=user, case_id=query.filters.case, query=query, description=description,
                          client_address=client_address)
    return SearchRecord.objects.create(
        user=user,
        case_id=query.filters.case,
        justification=query.justification,
        audit_entry=entry,
        query_tracklet=tracklet,
        query_description=description,
        params=params,
    )


def _finish(record: SearchRecord, count: int) -> None:
    record.status = SearchRecord.Status.DONE
    record.result_count = count
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "result_count", "finished_at", "first_batch_ms", "results"])


def _mark_failed(record: SearchRecord, reason: str) -> None:
    record.status = SearchRecord.Status.FAILED
    record.error = reason
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "error", "finished_at", "first_batch_ms"])


def _fail(record: SearchRecord, push: Callable[[dict[str, Any]], None], reason: str) -> None:
    _mark_failed(record, reason)
    push({"type": "search.failed", "search": record.pk, "reason": reason})
