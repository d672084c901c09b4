"""Two result lanes: the same outfit (appearance) and a possible change of clothes (identity model)."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.attributes.schema import COLOURS
from tests.webapp.factories import World, brute_force, build_world, case_filters, make_investigator
from webapp.search.filters import AttributeCondition, SearchQuery
from webapp.search.services import search_now
from webapp.tracklets.models import Tracklet

pytestmark = pytest.mark.django_db
DIM = 16


@pytest.fixture
def world(db: None) -> World:
    w = build_world(per_camera=10)
    rng = np.random.default_rng(9)
    for i, t in enumerate(Tracklet.objects.order_by("pk")):
        if i % 5 == 4:
            continue  # ingested without the identity model: not in the second lane
        v = rng.normal(size=DIM)
        t.identity_embedding = (v / np.linalg.norm(v)).astype(np.float32).tobytes()
        top = "red" if i % 2 else "blue"
        t.attributes = {
            "upper_colour": {c: (0.9 if c == top else 0.01) for c in COLOURS},
            "gender": {"female": 0.8 if i % 3 else 0.1, "male": 0.2 if i % 3 else 0.9},
        }
        t.save(update_fields=["identity_embedding", "attributes"])
    return w


def identity_brute_force(query: Tracklet, k: int, exclude: set[int], keep: set[int] | None = None) -> list[int]:
    q = query.identity_embedding_array()
    assert q is not None
    rows = [
        (t.pk, float(np.dot(t.identity_embedding_array(), q)))
        for t in Tracklet.objects.filter(identity_embedding__isnull=False)
        if t.pk != query.pk and t.pk not in exclude and (keep is None or t.pk in keep)
    ]
    rows.sort(key=lambda r: (-r[1], r[0]))
    return [pk for pk, _ in rows[:k]]


def test_the_second_lane_ranks_by_the_identity_embedding(world: World) -> None:
    user = make_investigator()
    query = Tracklet.objects.get(pk=world.tracklets["A"][2].pk)
    result = search_now(user=user, query=SearchQuery(tracklet=query.pk, k=6, filters=case_filters()))
    first = [h["tracklet"] for h in result["lanes"]["same_outfit"]]
    second = [h["tracklet"] for h in result["lanes"]["clothes_change"]]
    assert first == brute_force(query, 6, {}) == [h["tracklet"] for h in result["hits"]]
    assert second == identity_brute_force(query, 6, set())
    assert all(Tracklet.objects.get(pk=pk).identity_embedding is not None for pk in second)


def test_the_second_lane_relaxes_outfit_conditions_and_keeps_stable_ones(world: World) -> None:
    user = make_investigator()
    query = Tracklet.objects.get(pk=world.tracklets["B"][1].pk)
    red_top = AttributeCondition(attribute="upper_colour", value="red", min_probability=0.5)
    female = AttributeCondition(attribute="gender", value="female", min_probability=0.5)
    result = search_now(
        user=user, query=SearchQuery(tracklet=query.pk, k=40, filters=case_filters(attributes=(red_top, female)))
    )
    first = [h["tracklet"] for h in result["lanes"]["same_outfit"]]
    second = [h["tracklet"] for h in result["lanes"]["clothes_change"]]
    for pk in first:
        a = Tracklet.objects.get(pk=pk).attributes
        assert not a or (a["upper_colour"]["red"] >= 0.5 and a["gender"]["female"] >= 0.5)
    women = {t.pk for t in Tracklet.objects.all() if not t.attributes or t.attributes["gender"]["female"] >= 0.5}
    assert second == identity_brute_force(query, 40, set(), keep=women)
    # People in a blue top appear in the second lane: the outfit may have changed.
    assert any(Tracklet.objects.get(pk=pk).attributes["upper_colour"]["blue"] > 0.5 for pk in second)


def test_a_query_without_an_identity_embedding_has_an_empty_second_lane(world: World) -> None:
    user = make_investigator()
    query = Tracklet.objects.filter(identity_embedding__isnull=True).first()
    assert query is not None
    result = search_now(user=user, query=SearchQuery(tracklet=query.pk, k=5, filters=case_filters()))
    assert len(result["lanes"]["same_outfit"]) == 5
    assert result["lanes"]["clothes_change"] == []


def test_hits_carry_the_calibrated_confidence_of_their_embedder(world: World) -> None:
    import json
    import math

    from webapp.search.confidence import CALIBRATION_TABLE

    table = json.loads(CALIBRATION_TABLE.read_text())
    appearance = next(name for name in table if name.startswith("imagenet-"))
    Tracklet.objects.update(appearance_embedder=appearance, identity_embedder="reid-uncalibrated")
    user = make_investigator()
    query = Tracklet.objects.get(pk=world.tracklets["A"][0].pk)
    result = search_now(user=user, query=SearchQuery(tracklet=query.pk, k=5, filters=case_filters()))
    fit = table[appearance]
    assert result["lanes"]["same_outfit"]
    for hit in result["lanes"]["same_outfit"]:
        expected = 1 / (1 + math.exp(-(fit["slope"] * hit["score"] + fit["intercept"])))
        assert hit["confidence"] == pytest.approx(expected, abs=1e-3)
    # An embedder without a calibration gives no confidence rather than a made-up one.
    assert result["lanes"]["clothes_change"]
    assert all(hit["confidence"] is None for hit in result["lanes"]["clothes_change"])
