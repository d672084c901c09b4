"""Filtered searches against a brute-force ranking of the database's embeddings with numpy.

The world has two galleries (Station: cameras A and B; Harbour: camera C) and a camera D without a
gallery, so a search spans three index shards. Each camera's people cluster around their own point,
so the nearest neighbours of a person seen on A are on A: a filter for D finds D's people only if the
filter runs inside the index query, not on the top k afterwards.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.webapp.factories import BASE, World, api_filters, brute_force, build_world, case_filters
from webapp.search.filters import AttributeCondition, SearchFilters, SearchQuery, attributes_pass
from webapp.search.services import search_now

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None) -> World:
    return build_world()


def _query(filters: dict[str, Any]) -> SearchFilters:
    return case_filters(
        cameras=tuple(filters.get("cameras", ())),
        galleries=tuple(filters.get("galleries", ())),
        time_from=datetime.fromisoformat(filters["from"]) if "from" in filters else None,
        time_to=datetime.fromisoformat(filters["to"]) if "to" in filters else None,
    )


CASES = {
    "none": {},
    "one camera": {"cameras": "A"},
    "cameras in two shards": {"cameras": "AC"},
    "camera without a gallery, far from the query": {"cameras": "D"},
    "one gallery": {"galleries": ["Station"]},
    "two galleries": {"galleries": ["Station", "Harbour"]},
    "time range across cameras": {"from": BASE + timedelta(minutes=50), "to": BASE + timedelta(hours=2, minutes=5)},
    "open-ended time": {"from": BASE + timedelta(hours=3, minutes=10)},
    "camera and time": {"cameras": "BD", "to": BASE + timedelta(hours=1, minutes=3)},
    "gallery and camera": {"galleries": ["Station"], "cameras": "BC"},
    "three people only": {"cameras": "C", "from": BASE + timedelta(hours=2, minutes=1), "to": BASE + timedelta(hours=2, minutes=3)},
    "nobody": {"galleries": ["Harbour"], "cameras": "A"},
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("k", [5, 40])
def test_filtered_search_returns_the_brute_force_ranking(world: World, investigator: Any, case: str, k: int) -> None:
    query = world.tracklets["A"][3]
    filters = api_filters(world, CASES[case])
    expected = brute_force(query, k, filters)
    result = search_now(user=investigator, query=SearchQuery(tracklet=query.pk, k=k, filters=_query(filters)))
    assert [h["tracklet"] for h in result["hits"]] == expected
    assert result["count"] == len(expected)
    scores = [h["score"] for h in result["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert [h["rank"] for h in result["hits"]] == list(range(len(expected)))


def test_a_narrow_filter_returns_k_hits_when_k_match_even_if_none_is_near(world: World, investigator: Any) -> None:
    query = world.tracklets["A"][0]
    filters = api_filters(world, {"cameras": "D"})
    unfiltered = search_now(user=investigator, query=SearchQuery(tracklet=query.pk, k=10, filters=case_filters()))
    # The query's neighbours are all on its own camera: a top-10 filtered afterwards keeps nobody.
    assert {h["camera_id"] for h in unfiltered["hits"]} == {world.cameras["A"].pk}
    result = search_now(user=investigator, query=SearchQuery(tracklet=query.pk, k=10, filters=_query(filters)))
    assert len(result["hits"]) == 10
    assert {h["camera_id"] for h in result["hits"]} == {world.cameras["D"].pk}
    assert [h["tracklet"] for h in result["hits"]] == brute_force(query, 10, filters)


def test_time_filter_keeps_people_whose_span_overlaps_the_range_ends_included(world: World, investigator: Any) -> None:
    people = world.tracklets["B"]  # B's footage starts at 10:00; person i is seen 60·i..60·i+20 s
    start = people[2].end_time  # touches person 2's last moment
    end = people[4].start_time  # and person 4's first
    query = world.tracklets["A"][0]
    result = search_now(
        user=investigator,
        query=SearchQuery(tracklet=query.pk, k=50, filters=case_filters(cameras=(world.cameras["B"].pk,), time_from=start, time_to=end)),
    )
    assert sorted(h["tracklet"] for h in result["hits"]) == [people[2].pk, people[3].pk, people[4].pk]


def test_attribute_conditions_are_validated_and_judge_only_known_attributes() -> None:
    red = AttributeCondition(attribute="upper_colour", value="red", min_probability=0.6)
    glasses = AttributeCondition(attribute="glasses", value=True, min_probability=0.5)
    assert attributes_pass(None, (red, glasses))
    assert attributes_pass({"upper_colour": {"red": 0.7}}, (red, glasses))
    assert not attributes_pass({"upper_colour": {"red": 0.5, "blue": 0.5}}, (red,))
    assert not attributes_pass({"glasses": {"yes": 0.2, "no": 0.8}}, (glasses,))
    with pytest.raises(KeyError):
        AttributeCondition(attribute="tail_length", value="long")
    with pytest.raises(ValueError, match="not one of"):
        AttributeCondition(attribute="upper_colour", value="plaid")
    with pytest.raises(ValueError, match="min_probability"):
        AttributeCondition(attribute="hat", value=True, min_probability=1.5)


def test_attribute_conditions_do_not_hide_people_without_attribute_data(world: World, investigator: Any) -> None:
    query = world.tracklets["A"][0]
    condition = AttributeCondition(attribute="hat", value=True, min_probability=0.9)
    plain = search_now(user=investigator, query=SearchQuery(tracklet=query.pk, k=30, filters=case_filters()))
    with_condition = search_now(
        user=investigator, query=SearchQuery(tracklet=query.pk, k=30, filters=case_filters(attributes=(condition,)))
    )
    assert with_condition["hits"] == plain["hits"]


def test_filters_round_trip_through_the_search_record(world: World, investigator: Any) -> None:
    from webapp.search.models import SearchRecord

    filters = case_filters(
        cameras=(world.cameras["A"].pk,),
        time_from=BASE,
        time_to=BASE + timedelta(hours=1),
        attributes=(AttributeCondition(attribute="backpack", value=False, min_probability=0.3),),
    )
    result = search_now(user=investigator, query=SearchQuery(tracklet=world.tracklets["B"][0].pk, k=5, filters=filters))
    record = SearchRecord.objects.get(pk=result["search"])
    assert SearchFilters.from_params(record.params["filters"]) == filters
    assert record.status == "done"
    assert record.result_count == result["count"] == 5
