"""The audit record of a search: what was asked (a typed schema for ``SearchRecord.params``), by
whom, and how it ended."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from django.db import transaction
from django.utils import timezone

from reid_engine.types import Hit
from webapp.audit.ledger import audit_record
from webapp.audit.models import Action
from webapp.search.filters import AttributeCondition, SearchFilters, SearchQuery
from webapp.search.models import SearchRecord
from webapp.tracklets.models import Tracklet

SearchKind = Literal["person", "attributes", "photo", "subject"]


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchParams:
    """What ``SearchRecord.params`` holds, read and written only through this schema: the query as
    asked, without its justification (the record keeps that), and the kind of search it is.

    The query's fields are stored once, in :class:`SearchQuery`; the few that callers read on
    their own are properties here.

    Attributes:
        kind: a person search, a search by description, by photo, or with a subject's sightings.
        asked: the query; :meth:`query` gives it to run again.
    """

    kind: SearchKind
    asked: SearchQuery

    @classmethod
    def of_query(cls, query: SearchQuery) -> SearchParams:
        return cls(kind=query_kind(query), asked=replace(query, justification=""))

    def query(self) -> SearchQuery:
        return self.asked

    @property
    def tracklet(self) -> int | None:
        """The person searched for (``person``), else None."""
        return self.asked.tracklet

    @property
    def k(self) -> int:
        """How many results at most."""
        return self.asked.k

    @property
    def filters(self) -> SearchFilters:
        """What every result had to pass."""
        return self.asked.filters

    @property
    def photo(self) -> str | None:
        """The stored photo's generated name (``photo``), else None."""
        return self.asked.photo

    @property
    def subject(self) -> int | None:
        """The subject searched with its confirmed sightings (``subject``), else None."""
        return self.asked.subject

    def as_json(self) -> dict[str, Any]:
        asked = self.asked
        out: dict[str, Any] = {
            "kind": self.kind,
            "tracklet": asked.tracklet,
            "k": asked.k,
            "filters": asked.filters.as_params(),
            "refine": asked.refine,
        }
        if self.kind == "attributes":
            out["attributes"] = described(asked.attributes)
        if self.kind == "photo":
            out["photo"] = asked.photo
        if self.kind == "subject":
            out["subject"] = asked.subject
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SearchParams:
        """The params :meth:`as_json` wrote (records made before ``kind`` was stored included)."""
        tracklet = data.get("tracklet")
        kind: SearchKind = data.get("kind") or ("person" if tracklet is not None else "attributes")
        asked = SearchQuery(
            tracklet=tracklet,
            k=int(data["k"]),
            filters=SearchFilters.from_params(data.get("filters")),
            attributes=tuple(
                AttributeCondition(attribute=c["attribute"], value=c["value"], min_probability=0.0)
                for c in data.get("attributes", ())
            ),
            photo=data.get("photo"),
            refine=bool(data.get("refine")),
            subject=data.get("subject"),
        )
        return cls(kind=kind, asked=asked)


def query_kind(query: SearchQuery) -> SearchKind:
    if query.photo:
        return "photo"
    if query.subject is not None:
        return "subject"
    return "person" if query.tracklet is not None else "attributes"


def described(conditions: tuple[AttributeCondition, ...]) -> list[dict[str, Any]]:
    """A description as the API shows it: ``[{"attribute", "value"}, …]``."""
    return [{"attribute": c.attribute, "value": c.value} for c in conditions]


def record_params(record: SearchRecord) -> SearchParams:
    return SearchParams.from_json(record.params)


@transaction.atomic
def record_create(
    *, user: Any, query: SearchQuery, tracklet: Tracklet | None, description: str | None = None,
    client_address: str = "",
) -> SearchRecord:
    """Record a search as it starts, with its audit-ledger entry (both or neither are written);
    ``description`` says what was searched for when there is no tracklet or description to say it
    (a photo, a subject)."""
    params = SearchParams.of_query(query).as_json()
    if tracklet is not None:
        description = (
            f"person {tracklet.track_id} on {tracklet.camera.name} at {tracklet.start_time:%Y-%m-%d %H:%M:%S}"
        )
    elif description is None:
        description = query.description()
    entry = audit_record(
        action=Action.SEARCH, user=user, case_id=query.filters.case, object_type="tracklet",
        object_ids=[] if query.tracklet is None else [query.tracklet], justification=query.justification,
        client_address=client_address,
        details={"query": description[:255], "k": query.k, "filters": query.filters.as_params(),
                 "kind": query_kind(query), **({"subject": query.subject} if query.subject else {})},
    )
    return SearchRecord.objects.create(
        user=user, case_id=query.filters.case, justification=query.justification, audit_entry=entry,
        query_tracklet=tracklet, query_description=description[:255], params=params,
    )


def record_finish(record: SearchRecord, results: Mapping[str, list[Hit]]) -> int:
    """Mark a search done with its final hits per lane; returns how many there are in all."""
    record.results = {lane: [[h.item_id, round(h.score, 4)] for h in hits] for lane, hits in results.items()}
    record.status = SearchRecord.Status.DONE
    record.result_count = sum(len(hits) for hits in results.values())
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "result_count", "finished_at", "first_batch_ms", "results"])
    return record.result_count


def record_fail(record: SearchRecord, reason: str) -> None:
    record.status = SearchRecord.Status.FAILED
    record.error = reason
    record.finished_at = timezone.now()
    record.save(update_fields=["status", "error", "finished_at", "first_batch_ms"])
