"""What a search asks for: the person (or a description of one), how many results, and the filters
applied inside the search.

Filters combine with AND: a tracklet must be on one of ``cameras`` (if any are given), on a camera
of one of ``galleries`` (if any), overlap the time range, and meet every attribute condition.

Times are absolute. Every video is uploaded with the wall-clock time of its first frame
(``Video.recorded_at`` is required), so every tracklet has an absolute ``start_time``/``end_time``,
and a tracklet passes when its span overlaps ``[time_from, time_to]`` (ends included; either bound
may be open). Seconds relative to the start of a video would mean different moments in different
videos, so they are not a filter across footage.

Attribute conditions keep a tracklet when the attribute model gave the value at least
``min_probability``. Ingestion stores the garment colours it could estimate; where a tracklet has no
estimate for an attribute the condition does not apply to it (an unknown attribute hides nobody), see
:func:`attributes_pass`.

A search without a person ranks by a description instead: the mean, over its conditions, of the
probability a tracklet has for the value asked (:func:`attribute_score`). There a tracklet lacking
data for an asked attribute counts it as probability 0: it cannot be shown to match, so it ranks
below every person who might.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reid_engine.attributes import SCHEMA


@dataclass(frozen=True, kw_only=True, slots=True)
class AttributeCondition:
    """Keep people whose probability of ``attribute`` being ``value`` is at least ``min_probability``.

    Attributes:
        attribute: a name of the unified attribute schema (``"upper_colour"``).
        value: one of the attribute's values (``"red"``), or a bool for a binary attribute.
        min_probability: within [0, 1].
    """

    attribute: str
    value: str | bool
    min_probability: float = 0.5

    def __post_init__(self) -> None:
        SCHEMA[self.attribute].index_of(self.value)
        if not 0.0 <= self.min_probability <= 1.0:
            raise ValueError(f"min_probability must be within 0..1, got {self.min_probability}")

    @property
    def value_name(self) -> str:
        """The value as the schema names it (``"yes"``/``"no"`` for a binary attribute)."""
        attribute = SCHEMA[self.attribute]
        return attribute.values[attribute.index_of(self.value)]


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchFilters:
    """Which tracklets a search may return; the defaults let everything through.

    Attributes:
        cameras: camera ids (ascending, unique); empty for all cameras.
        galleries: gallery ids (ascending, unique); empty for all galleries.
        time_from, time_to: aware datetimes bounding the tracklet's span, or None for open ends.
        attributes: attribute conditions, all of which must hold.
        case: the case whose footage the search ranks; set by the search service from the case the
            search runs in, never from the request's filters.
    """

    cameras: tuple[int, ...] = ()
    galleries: tuple[int, ...] = ()
    time_from: datetime | None = None
    time_to: datetime | None = None
    attributes: tuple[AttributeCondition, ...] = field(default=())
    case: int | None = None

    def __post_init__(self) -> None:
        if self.time_from is not None and self.time_to is not None and self.time_from > self.time_to:
            raise ValueError("the time range ends before it starts")

    def as_params(self) -> dict[str, Any]:
        """JSON-ready form, as stored in the search record and read back by :meth:`from_params`."""
        params: dict[str, Any] = {
            "cameras": list(self.cameras),
            "galleries": list(self.galleries),
            "from": self.time_from.isoformat() if self.time_from else None,
            "to": self.time_to.isoformat() if self.time_to else None,
            "attributes": [
                {"attribute": c.attribute, "value": c.value, "min_probability": c.min_probability}
                for c in self.attributes
            ],
        }
        if self.case is not None:
            params["case"] = self.case
        return params

    @classmethod
    def from_params(cls, params: Mapping[str, Any] | None) -> SearchFilters:
        """The filters :meth:`as_params` wrote (already validated when the search was started)."""
        if not params:
            return cls()
        return cls(
            cameras=tuple(params.get("cameras", ())),
            galleries=tuple(params.get("galleries", ())),
            time_from=datetime.fromisoformat(params["from"]) if params.get("from") else None,
            time_to=datetime.fromisoformat(params["to"]) if params.get("to") else None,
            attributes=tuple(AttributeCondition(**c) for c in params.get("attributes", ())),
            case=params.get("case"),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class SearchQuery:
    """One search: look for the person of ``tracklet``, return at most ``k`` others.

    Attributes:
        tracklet: the person searched for, or None for a search by description.
        k: how many results at most.
        filters: what every result must pass.
        attributes: the description a search without a person ranks by (their ``min_probability``
            is not used); empty for a person search.
        photo: the stored name of an uploaded photo of the person, for a search by photo.
        refine: re-rank each lane's candidates (query expansion, k-reciprocal re-ranking) after
            the first ranking; a search by description has nothing to refine.
        justification: why the investigator runs this search (required by the API; written to
            the audit ledger). The case it runs in is ``filters.case``.
        subject: a subject of the case searched with all its confirmed sightings (its lanes are
            built by the subjects app), or None.
    """

    tracklet: int | None
    k: int
    filters: SearchFilters = field(default_factory=SearchFilters)
    attributes: tuple[AttributeCondition, ...] = ()
    photo: str | None = None
    refine: bool = False
    justification: str = ""
    subject: int | None = None

    def __post_init__(self) -> None:
        given = (self.tracklet is not None, bool(self.attributes), self.photo is not None, self.subject is not None)
        if sum(given) != 1:
            raise ValueError("a search needs exactly one of a person, attributes to rank by, a photo or a subject")

    def description(self) -> str:
        """The attribute conditions as a reader would write them: ``"upper_colour=red, lower_colour=black"``."""
        return ", ".join(f"{c.attribute}={c.value_name}" for c in self.attributes)


def attributes_pass(
    probabilities: Mapping[str, Mapping[str, float]] | None, conditions: tuple[AttributeCondition, ...]
) -> bool:
    """Whether a tracklet's attribute probabilities meet every condition.

    Args:
        probabilities: ``{attribute: {value name: probability}}`` as the attribute model stores it
            per tracklet (binary attributes under ``"yes"``/``"no"``), or None when the tracklet has
            none; an attribute missing from it is unknown.
        conditions: the search's attribute conditions.

    Returns:
        False when a known attribute falls short of its condition, True otherwise.
    """
    if not probabilities:
        return True
    for condition in conditions:
        values = probabilities.get(condition.attribute)
        if values is None:
            continue
        if float(values.get(condition.value_name, 0.0)) < condition.min_probability:
            return False
    return True


def attribute_score(
    probabilities: Mapping[str, Mapping[str, float]] | None, conditions: tuple[AttributeCondition, ...]
) -> float:
    """How well a tracklet fits a description: the mean of its probabilities for the values asked.

    Args:
        probabilities: ``{attribute: {value name: probability}}`` of the tracklet, or None.
        conditions: at least one condition; their ``min_probability`` is not used.

    Returns:
        A score within [0, 1]; an attribute the tracklet has no data for counts as 0.
    """
    if not conditions:
        raise ValueError("a description needs at least one attribute condition")
    known = probabilities or {}
    total = 0.0
    for condition in conditions:
        values = known.get(condition.attribute) or {}
        total += float(values.get(condition.value_name, 0.0))
    return total / len(conditions)
