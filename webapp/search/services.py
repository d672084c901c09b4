"""Starting searches: a person or a description searched over the websocket (streamed by a worker)
or to the end in one REST request, and a photo search queued for a worker. Each leaves an audit
record (:mod:`webapp.search.records`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from webapp.cases.access import Capability, case_for
from webapp.core.exceptions import DomainError
from webapp.search.filters import SearchFilters, SearchQuery
from webapp.search.models import SearchRecord
from webapp.search.photos import photo_check, photo_delete, photo_store
from webapp.search.ranking import query_lanes
from webapp.search.records import described, record_create
from webapp.search.runner import search_collect
from webapp.search.serializers import search_query_from
from webapp.search.tasks import run_photo_search, run_search
from webapp.tracklets.models import Tracklet
from webapp.tracklets.selectors import tracklets_visible_to


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
    request: dict[str, Any] = {"tracklet": tracklet_id, "k": k, "case": case, "justification": justification}
    if filters is not None:
        request["filters"] = filters
    if attributes is not None:
        request["attributes"] = attributes
    if refine:
        request["refine"] = refine
    query = search_query_from(request)
    case_row = case_for(user, query.filters.case, Capability.SEARCH)
    tracklet = None if query.tracklet is None else query_tracklet(user=user, tracklet_id=query.tracklet, case=case_row)
    record = record_create(user=user, query=query, tracklet=tracklet, client_address=client_address)
    transaction.on_commit(lambda: run_search.delay(record.pk, reply_channel))
    return record


def search_now(*, user: Any, query: SearchQuery, client_address: str = "") -> dict[str, Any]:
    """Run a search to the end and return the ranked lists (the REST API), recording it as well.

    Raises:
        DomainError: 404 for an unknown person or a case the user is not in; 409 for a closed case.
    """
    case_row = case_for(user, query.filters.case, Capability.SEARCH)
    tracklet = None if query.tracklet is None else query_tracklet(user=user, tracklet_id=query.tracklet, case=case_row)
    record = record_create(user=user, query=query, tracklet=tracklet, client_address=client_address)
    lanes = search_collect(record, query_lanes(query, tracklet))
    cards = next(iter(lanes.values()))
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
        result["attributes"] = described(query.attributes)
    return result


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
    case_for(user, filters.case, Capability.SEARCH)
    checked = photo_check(image)
    name = photo_store(image, checked)
    query = SearchQuery(tracklet=None, k=k, filters=filters, photo=name, refine=refine, justification=justification)
    try:
        record = record_create(
            user=user, query=query, tracklet=None, description=f"uploaded photo {Path(image.name or 'photo').name}",
            client_address=client_address,
        )
    except Exception:
        photo_delete(name)
        raise
    transaction.on_commit(lambda: run_photo_search.delay(record.pk))
    return record


def query_tracklet(*, user: Any, tracklet_id: int, case: Any = None) -> Tracklet:
    """The person a search is for, among those ``user`` may see (in ``case``'s footage).

    Raises:
        DomainError: 404 when there is no such person (or not one for this user and case).
    """
    tracklet = tracklets_visible_to(user, case=case).select_related("camera").filter(pk=tracklet_id).first()
    if tracklet is None:
        raise DomainError(f"there is no person {tracklet_id} in this case", status_code=404)
    return tracklet
