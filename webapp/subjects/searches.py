"""Running a search with a subject: to the end in one REST request, or queued for a search worker
that streams the hits to the socket that asked. Each search is recorded and written to the ledger
like any other (:mod:`webapp.search.records`)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from webapp.cases.access import Capability, case_for
from webapp.core.events import Event, push_to_channel
from webapp.core.exceptions import DomainError
from webapp.search.models import SearchRecord
from webapp.search.records import record_create, record_params
from webapp.search.runner import search_collect, search_fail, search_stream
from webapp.search.serializers import subject_search_query_from
from webapp.subjects.models import Sighting, Subject
from webapp.subjects.search import subject_lanes
from webapp.subjects.services import subject_for


def _prepared(user: Any, subject_id: Any, data: Any, client_address: str) -> tuple[Subject, SearchRecord]:
    subject = subject_for(user, subject_id, Capability.SEARCH)
    case_for(user, subject.case_id, Capability.SEARCH)
    query = subject_search_query_from(data, case=subject.case_id, subject=subject.pk)
    confirmed = subject.sightings.filter(decision=Sighting.Decision.CONFIRMED).count()
    if confirmed == 0:
        raise DomainError("confirm at least one sighting of the subject before searching with it")
    record = record_create(
        user=user, query=query, tracklet=None, client_address=client_address,
        description=f"subject {subject.label} ({confirmed} confirmed sighting{'s' if confirmed != 1 else ''})",
    )
    return subject, record


def subject_search_now(*, user: Any, subject_id: Any, data: Any, client_address: str = "") -> dict[str, Any]:
    """Search each lane with the subject's confirmed sightings and return the ranked cards.

    Raises:
        DomainError: 400 for a bad request or a subject with nothing confirmed; 404 for a subject not in
            the user's cases; 403 for a viewer; 409 for a closed case.
    """
    subject, record = _prepared(user, subject_id, data, client_address)
    params = record_params(record)
    lanes = search_collect(record, subject_lanes(subject, params.query()))
    return {"search": record.pk, "subject": subject.pk, "case": subject.case_id, "k": params.k,
            "filters": params.filters.as_params(), "lanes": lanes}


@transaction.atomic
def subject_search_start(
    *, user: Any, subject_id: Any, data: Any, reply_channel: str, client_address: str = ""
) -> SearchRecord:
    """Record a search with the subject and queue it; hits are pushed to ``reply_channel``.

    Raises:
        DomainError: as :func:`subject_search_now`.
    """
    from webapp.subjects.tasks import run_subject_search

    _, record = _prepared(user, subject_id, data, client_address)
    transaction.on_commit(lambda: run_subject_search.delay(record.pk, reply_channel))
    return record


def subject_search_run(*, search_id: int, reply_channel: str) -> None:
    """The worker side: rank and stream a queued search with a subject."""
    record = SearchRecord.objects.filter(pk=search_id).first()
    if record is None or record.status != SearchRecord.Status.RUNNING:
        return
    params = record_params(record)
    if params.kind != "subject":
        return

    def push(event: Event) -> None:
        push_to_channel(reply_channel, event)

    subject = None
    if params.subject is not None and params.filters.case is not None:
        subject = Subject.objects.filter(pk=params.subject, case_id=params.filters.case).first()
    if subject is None:
        search_fail(record, push, "the subject was deleted")
        return
    search_stream(record, push, subject_lanes(subject, params.query()))
