"""POST /api/search/: the ranked list at once, the same audit record, the same role, clear refusals."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.webapp.factories import BASE, World, brute_force, build_world, in_case, the_case
from webapp.search.models import SearchRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None) -> World:
    return build_world(per_camera=12)


def test_search_returns_the_filtered_ranking_with_cards_and_records_it(
    world: World, investigator: User, client_for: Any
) -> None:
    query = world.tracklets["A"][1]
    filters = {
        "cameras": [world.cameras["A"].pk, world.cameras["C"].pk],
        "from": BASE.isoformat(),
        "to": (BASE + timedelta(hours=2, minutes=5)).isoformat(),
    }
    response = client_for(investigator).post(
        "/api/search/", in_case({"tracklet": query.pk, "k": 7, "filters": filters}, justification="seen at gate"),
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [h["tracklet"] for h in body["hits"]] == brute_force(query, 7, filters)
    assert body["count"] == 7
    assert body["refine"] is False
    assert (body["case"], body["justification"]) == (the_case().pk, "seen at gate")
    first = body["hits"][0]
    assert first["thumbnail_url"] == f"/media/tracklets/{first['tracklet']}/thumbnail.jpg"
    assert {"score", "rank", "camera", "camera_id", "video", "start_time", "end_time"} <= set(first)
    record = SearchRecord.objects.get(pk=body["search"])
    assert record.user == investigator
    assert record.query_tracklet_id == query.pk
    assert (record.case, record.justification) == (the_case(), "seen at gate")
    assert record.status == "done"
    assert record.result_count == 7
    assert record.params["filters"]["cameras"] == sorted(filters["cameras"])


def test_a_refined_rest_search_returns_the_second_pass_over_the_filtered_candidates(
    world: World, investigator: User, client_for: Any
) -> None:
    import numpy as np

    from reid_engine.index.refine import refine_ranking
    from webapp.search.ranking import refine_config
    from webapp.tracklets.models import Tracklet

    query = world.tracklets["A"][1]
    filters = {"cameras": [world.cameras["A"].pk, world.cameras["C"].pk]}
    response = client_for(investigator).post(
        "/api/search/", in_case({"tracklet": query.pk, "k": 7, "filters": filters, "refine": True}), format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["refine"] is True
    config = refine_config()
    candidates = brute_force(query, max(7, config.candidates), filters)
    vectors = np.stack([Tracklet.objects.get(pk=pk).appearance_embedding_array() for pk in candidates])
    want, _ = refine_ranking(query.appearance_embedding_array(), np.asarray(candidates), vectors, 7, config)
    assert [h["tracklet"] for h in body["hits"]] == want.tolist()
    assert SearchRecord.objects.get(pk=body["search"]).params["refine"] is True


def test_search_without_filters_uses_the_default_k(world: World, investigator: User, client_for: Any) -> None:
    query = world.tracklets["D"][0]
    response = client_for(investigator).post("/api/search/", in_case({"tracklet": query.pk}), format="json")
    assert response.status_code == 200
    assert response.json()["k"] == 48
    assert [h["tracklet"] for h in response.json()["hits"]] == brute_force(query, 48, {})


def test_search_needs_the_investigator_role_like_the_websocket(world: World, client_for: Any) -> None:
    nobody = User.objects.create(username="no-role")
    body = in_case({"tracklet": world.tracklets["A"][0].pk})
    for client in (client_for(nobody), client_for(None)):
        response = client.post("/api/search/", body, format="json")
        assert response.status_code in (401, 403)
        assert response.json()["detail"]
    assert SearchRecord.objects.count() == 0


def test_search_of_an_unknown_person_is_404(world: World, investigator: User, client_for: Any) -> None:
    response = client_for(investigator).post("/api/search/", in_case({"tracklet": 999_999}), format="json")
    assert response.status_code == 404
    assert response.json()["detail"] == "there is no person 999999 in this case"


BAD_REQUESTS: dict[str, tuple[Any, str]] = {
    "k zero": ({"k": 0}, "k: "),
    "k too large": ({"k": 501}, "k: "),
    "k not a number": ({"k": "many"}, "k: "),
    "tracklet missing": ({"tracklet": None}, "tracklet: "),
    "unknown key": ({"limit": 5}, "limit: unknown key"),
    "unknown filter key": ({"filters": {"camera": [1]}}, "filters.camera: unknown key"),
    "filters not an object": ({"filters": [1, 2]}, "filters"),
    "camera id not a number": ({"filters": {"cameras": ["gate"]}}, "filters.cameras.0: "),
    "unknown camera": ({"filters": {"cameras": [424242]}}, "filters.cameras: unknown id 424242"),
    "unknown gallery": ({"filters": {"galleries": [424242]}}, "filters.galleries: unknown id 424242"),
    "bad time": ({"filters": {"from": "yesterday"}}, "filters.from: "),
    "time range backwards": (
        {"filters": {"from": "2026-11-02T10:00:00Z", "to": "2026-11-02T09:00:00Z"}},
        "filters.to: the time range ends before it starts",
    ),
    "unknown attribute": (
        {"filters": {"attributes": [{"attribute": "tail", "value": "long"}]}},
        "filters.attributes.0.attribute: ",
    ),
    "attribute value": (
        {"filters": {"attributes": [{"attribute": "upper_colour", "value": "plaid"}]}},
        "filters.attributes.0.value: ",
    ),
    "attribute probability": (
        {"filters": {"attributes": [{"attribute": "hat", "value": True, "min_probability": 2}]}},
        "filters.attributes.0.min_probability: ",
    ),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_malformed_search_is_400_with_a_detail_naming_the_field(
    world: World, investigator: User, client_for: Any, case: str
) -> None:
    change, detail = BAD_REQUESTS[case]
    body = in_case({"tracklet": world.tracklets["A"][0].pk, **change})
    if body["tracklet"] is None:
        del body["tracklet"]
    response = client_for(investigator).post("/api/search/", body, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["detail"].startswith(detail), response.json()
    assert SearchRecord.objects.count() == 0


def test_a_body_that_is_not_an_object_is_400(investigator: User, client_for: Any) -> None:
    client = client_for(investigator)
    assert client.post("/api/search/", [1, 2], format="json").json()["detail"]
    response = client.post("/api/search/", b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"]


def test_search_endpoint_is_in_the_openapi_schema(investigator: User, client_for: Any) -> None:
    response = client_for(investigator).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/api/search/"]["post"]
    request_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    components = schema["components"]["schemas"]
    request = components[request_ref.rsplit("/", 1)[1]]
    assert {"case", "justification", "tracklet", "k", "filters"} <= set(request["properties"])
    filters = components[request["properties"]["filters"]["$ref"].rsplit("/", 1)[1]]
    assert {"cameras", "galleries", "from", "to", "attributes"} <= set(filters["properties"])
    result_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert "hits" in components[result_ref.rsplit("/", 1)[1]]["properties"]
    assert "404" in operation["responses"]
