"""What a search record stores of its query, for every kind of search, and that records written by
earlier versions (before the kind was stored, before cases) still read back as the same query."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from webapp.search.filters import AttributeCondition, SearchFilters, SearchQuery
from webapp.search.records import SearchParams

FILTERS = SearchFilters(
    cameras=(2, 5),
    galleries=(7,),
    time_from=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
    time_to=None,
    attributes=(AttributeCondition(attribute="upper_colour", value="red", min_probability=0.6),),
    case=3,
)
STORED_FILTERS = {
    "cameras": [2, 5],
    "galleries": [7],
    "from": "2026-11-02T09:00:00+00:00",
    "to": None,
    "attributes": [{"attribute": "upper_colour", "value": "red", "min_probability": 0.6}],
    "case": 3,
}
DESCRIPTION = (
    AttributeCondition(attribute="upper_colour", value="blue", min_probability=0.0),
    AttributeCondition(attribute="lower_colour", value="black", min_probability=0.0),
)

CASES: list[tuple[str, SearchQuery, dict[str, Any]]] = [
    (
        "person",
        SearchQuery(tracklet=11, k=20, filters=FILTERS, refine=True, justification="why"),
        {"kind": "person", "tracklet": 11, "k": 20, "filters": STORED_FILTERS, "refine": True},
    ),
    (
        "attributes",
        SearchQuery(tracklet=None, k=50, filters=SearchFilters(case=3), attributes=DESCRIPTION),
        {
            "kind": "attributes", "tracklet": None, "k": 50, "refine": False,
            "filters": {"cameras": [], "galleries": [], "from": None, "to": None, "attributes": [], "case": 3},
            "attributes": [{"attribute": "upper_colour", "value": "blue"}, {"attribute": "lower_colour", "value": "black"}],
        },
    ),
    (
        "photo",
        SearchQuery(tracklet=None, k=10, filters=FILTERS, photo="a1b2.jpg"),
        {"kind": "photo", "tracklet": None, "k": 10, "filters": STORED_FILTERS, "refine": False, "photo": "a1b2.jpg"},
    ),
    (
        "subject",
        SearchQuery(tracklet=None, k=30, filters=FILTERS, subject=4, refine=True),
        {"kind": "subject", "tracklet": None, "k": 30, "filters": STORED_FILTERS, "refine": True, "subject": 4},
    ),
]


@pytest.mark.parametrize(("kind", "query", "stored"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_search_is_stored_as_before_and_reads_back_as_its_query(
    kind: str, query: SearchQuery, stored: dict[str, Any]
) -> None:
    params = SearchParams.of_query(query)
    assert params.kind == kind
    assert params.as_json() == stored
    read = SearchParams.from_json(stored)
    assert read.kind == kind
    # The justification is kept on the record itself, not in its params.
    assert read.query() == SearchQuery(
        tracklet=query.tracklet, k=query.k, filters=query.filters, attributes=query.attributes,
        photo=query.photo, refine=query.refine, subject=query.subject,
    )
    assert read.as_json() == stored
    assert (read.tracklet, read.k, read.filters, read.photo, read.subject) == (
        query.tracklet, query.k, query.filters, query.photo, query.subject
    )


def test_records_from_before_the_kind_and_the_case_were_stored_still_read() -> None:
    person = SearchParams.from_json({"tracklet": 8, "k": 5})
    assert person.kind == "person"
    assert person.query() == SearchQuery(tracklet=8, k=5)
    described = SearchParams.from_json(
        {"tracklet": None, "k": 7, "filters": {"cameras": [1]}, "attributes": [{"attribute": "upper_colour", "value": "red"}]}
    )
    assert described.kind == "attributes"
    assert described.filters == SearchFilters(cameras=(1,))
    assert described.filters.case is None
    assert described.query().attributes == (
        AttributeCondition(attribute="upper_colour", value="red", min_probability=0.0),
    )
