"""Attribute filters: tracklets carry attribute probabilities and a filter narrows the ranking."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from reid_engine.attributes.schema import COLOURS
from tests.webapp.factories import World, brute_force, build_world, case_filters, in_case, make_investigator
from webapp.search.filters import AttributeCondition, SearchQuery
from webapp.search.services import search_now
from webapp.tracklets.models import Tracklet
from webapp.tracklets.selectors import tracklet_card

pytestmark = pytest.mark.django_db


def _colours(top: str, p: float) -> dict[str, float]:
    rest = (1.0 - p) / (len(COLOURS) - 1)
    return {c: (p if c == top else rest) for c in COLOURS}


@pytest.fixture
def world(db: None) -> World:
    w = build_world(per_camera=12)
    rng = np.random.default_rng(5)
    # Every third person wears red on top (with varying certainty); the rest blue. A few people have
    # no attribute estimate at all: they stay searchable.
    for i, t in enumerate(Tracklet.objects.order_by("pk")):
        if i % 7 == 6:
            continue
        top = "red" if i % 3 == 0 else "blue"
        t.attributes = {
            "upper_colour": _colours(top, float(rng.uniform(0.35, 0.95))),
            "lower_colour": _colours("black", 0.8),
        }
        t.save(update_fields=["attributes"])
    return w


def passes(t: Tracklet, attribute: str, value: str, p: float) -> bool:
    values = (t.attributes or {}).get(attribute)
    return values is None or values.get(value, 0.0) >= p


@pytest.mark.parametrize(("value", "p", "k"), [("red", 0.5, 8), ("red", 0.3, 40), ("blue", 0.9, 40), ("green", 0.5, 5)])
def test_attribute_filter_returns_the_brute_force_ranking_of_matching_people(
    world: World, value: str, p: float, k: int
) -> None:
    user = make_investigator()
    query = world.tracklets["A"][1]
    allowed = {t.pk for t in Tracklet.objects.all() if passes(t, "upper_colour", value, p)}
    full = brute_force(query, 10_000, {})
    expected = [pk for pk in full if pk in allowed][:k]
    filters = case_filters(attributes=(AttributeCondition(attribute="upper_colour", value=value, min_probability=p),))
    result = search_now(user=user, query=SearchQuery(tracklet=query.pk, k=k, filters=filters))
    assert [h["tracklet"] for h in result["hits"]] == expected
    unfiltered = search_now(user=user, query=SearchQuery(tracklet=query.pk, k=k, filters=case_filters()))
    if len(allowed) < Tracklet.objects.count():
        # The filter narrows: people the witness description rules out are gone.
        assert set(h["tracklet"] for h in result["hits"]) != set(h["tracklet"] for h in unfiltered["hits"])


def test_result_cards_show_each_attributes_most_likely_value(world: World) -> None:
    t = Tracklet.objects.exclude(attributes={}).first()
    assert t is not None
    card: dict[str, Any] = tracklet_card(t)
    top = max(t.attributes["upper_colour"].items(), key=lambda kv: kv[1])
    assert card["attributes"]["upper_colour"] == {"value": top[0], "p": round(top[1], 3)}
    assert card["attributes"]["lower_colour"]["value"] == "black"


def test_rest_search_accepts_attribute_filters_and_refuses_bad_values(world: World, client: Any) -> None:
    user = make_investigator("rita")
    client.force_login(user)
    query = world.tracklets["B"][0]
    body = in_case(
        {"tracklet": query.pk, "k": 50,
         "filters": {"attributes": [{"attribute": "upper_colour", "value": "red", "min_probability": 0.5}]}}
    )
    response = client.post("/api/search/", body, content_type="application/json")
    assert response.status_code == 200, response.content
    ids = [h["tracklet"] for h in response.json()["hits"]]
    assert ids
    for pk in ids:
        assert passes(Tracklet.objects.get(pk=pk), "upper_colour", "red", 0.5)
    body["filters"]["attributes"][0]["value"] = "plaid"
    response = client.post("/api/search/", body, content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()
