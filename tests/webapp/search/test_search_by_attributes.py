"""Searching by a description alone: people ranked by the mean probability of the values asked,
checked against a brute-force ranking of the database with numpy, over REST and the websocket path."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import User

from reid_engine.attributes.schema import COLOURS
from tests.webapp.factories import (
    BASE,
    World,
    api_filters,
    build_world,
    drain,
    in_case,
    make_investigator,
    new_channel,
    passes_filters,
    the_case,
)
from webapp.accounts.services import user_create_with_role
from webapp.core.exceptions import DomainError
from webapp.search.models import SearchRecord
from webapp.search.services import search_start
from webapp.search.worker import search_run
from webapp.tracklets.models import Tracklet

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("every_attribute_estimated")]


def _palette(rng: np.random.Generator) -> dict[str, float]:
    p = rng.dirichlet(np.full(len(COLOURS), 0.4))
    return {c: float(v) for c, v in zip(COLOURS, p, strict=True)}


@pytest.fixture
def world(db: None) -> World:
    w = build_world(per_camera=12)
    rng = np.random.default_rng(11)
    # Varied estimates: most people have both colours and a backpack guess; some lack the lower
    # colour, some have no estimate at all (they must rank as probability 0 on what they lack).
    for i, t in enumerate(Tracklet.objects.order_by("pk")):
        if i % 9 == 4:
            continue
        attributes: dict[str, Any] = {"upper_colour": _palette(rng)}
        if i % 5 != 2:
            attributes["lower_colour"] = _palette(rng)
        yes = float(rng.uniform())
        attributes["backpack"] = {"yes": yes, "no": 1.0 - yes}
        t.attributes = attributes
        t.save(update_fields=["attributes"])
    return w


def brute_force_by_attributes(conditions: list[dict[str, Any]], k: int, filters: dict[str, Any]) -> list[tuple[int, float]]:
    """(id, score) of the k best people by mean probability, over every row the filters let through."""
    ids, rows = [], []
    for t in Tracklet.objects.select_related("camera").order_by("pk"):
        if not passes_filters(t, filters):
            continue
        ids.append(t.pk)
        value_name = {True: "yes", False: "no"}
        rows.append(
            [
                (t.attributes.get(c["attribute"]) or {}).get(value_name.get(c["value"], c["value"]), 0.0)
                for c in conditions
            ]
        )
    if not ids:
        return []
    scores = np.asarray(rows, dtype=np.float64).mean(axis=1)
    order = np.lexsort((np.asarray(ids), -scores))[:k]
    return [(ids[i], float(scores[i])) for i in order]


CONDITIONS = {
    "red top": [{"attribute": "upper_colour", "value": "red"}],
    "red top, black trousers": [
        {"attribute": "upper_colour", "value": "red"},
        {"attribute": "lower_colour", "value": "black"},
    ],
    "blue top, grey trousers, a backpack": [
        {"attribute": "upper_colour", "value": "blue"},
        {"attribute": "lower_colour", "value": "grey"},
        {"attribute": "backpack", "value": True},
    ],
    "nobody has data": [{"attribute": "hat", "value": True}],
}

FILTERS = {
    "none": {},
    "one camera": {"cameras": "B"},
    "cameras and time": {"cameras": "AD", "to": BASE + timedelta(hours=3, minutes=4)},
    "gallery and time": {"galleries": ["Station"], "from": BASE + timedelta(minutes=5)},
    "nobody": {"galleries": ["Harbour"], "cameras": "A"},
}


@pytest.mark.parametrize("described", list(CONDITIONS))
@pytest.mark.parametrize("filtered", list(FILTERS))
def test_rest_search_by_attributes_returns_the_brute_force_ranking(
    world: World, investigator: User, client_for: Any, described: str, filtered: str
) -> None:
    filters = api_filters(world, FILTERS[filtered])
    body = in_case({"attributes": CONDITIONS[described], "k": 15, "filters": filters})
    response = client_for(investigator).post("/api/search/", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    expected = brute_force_by_attributes(CONDITIONS[described], 15, filters)
    assert [h["tracklet"] for h in data["hits"]] == [pk for pk, _ in expected]
    assert [h["score"] for h in data["hits"]] == pytest.approx([s for _, s in expected], abs=1e-4)
    assert list(data["lanes"]) == ["attributes"]
    assert data["tracklet"] is None
    assert data["count"] == len(expected)
    assert [h["rank"] for h in data["hits"]] == list(range(len(expected)))


def test_people_without_data_for_an_asked_attribute_count_it_as_zero(world: World, investigator: User, client_for: Any) -> None:
    conditions = CONDITIONS["red top, black trousers"]
    body = in_case({"attributes": conditions, "k": 500})
    hits = client_for(investigator).post("/api/search/", body, format="json").json()["hits"]
    assert len(hits) == Tracklet.objects.count()
    by_id = {h["tracklet"]: h["score"] for h in hits}
    for t in Tracklet.objects.all():
        upper = (t.attributes.get("upper_colour") or {}).get("red", 0.0)
        lower = (t.attributes.get("lower_colour") or {}).get("black", 0.0)
        assert by_id[t.pk] == pytest.approx((upper + lower) / 2, abs=1e-4)
    blank = [t.pk for t in Tracklet.objects.all() if not t.attributes]
    assert blank
    assert all(by_id[pk] == 0.0 for pk in blank)
    # Equal scores (every blank person scores 0) are ordered by id.
    assert [h["tracklet"] for h in hits if h["score"] == 0.0] == sorted(pk for pk, s in by_id.items() if s == 0.0)


def test_an_attribute_filter_still_applies_to_a_search_by_attributes(
    world: World, investigator: User, client_for: Any
) -> None:
    body = in_case({
        "attributes": [{"attribute": "lower_colour", "value": "black"}],
        "k": 500,
        "filters": {"attributes": [{"attribute": "upper_colour", "value": "red", "min_probability": 0.3}]},
    })
    hits = client_for(investigator).post("/api/search/", body, format="json").json()["hits"]
    kept = {
        t.pk for t in Tracklet.objects.all() if "upper_colour" not in t.attributes or t.attributes["upper_colour"]["red"] >= 0.3
    }
    assert {h["tracklet"] for h in hits} == kept
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)


def test_a_search_by_attributes_is_recorded_with_a_readable_description(
    world: World, investigator: User, client_for: Any
) -> None:
    body = in_case({"attributes": CONDITIONS["blue top, grey trousers, a backpack"], "k": 5})
    data = client_for(investigator).post("/api/search/", body, format="json").json()
    record = SearchRecord.objects.get(pk=data["search"])
    assert record.query_tracklet is None
    assert record.query_description == "upper_colour=blue, lower_colour=grey, backpack=yes"
    assert record.params["attributes"][0] == {"attribute": "upper_colour", "value": "blue"}
    assert record.status == "done"
    assert record.result_count == 5


BAD = {
    "neither person nor attributes": ({"k": 5}, "tracklet: "),
    "empty description": ({"attributes": []}, "tracklet: "),
    "unknown attribute": ({"attributes": [{"attribute": "tail", "value": "long"}]}, "attributes.0.attribute: "),
    "unknown value": ({"attributes": [{"attribute": "upper_colour", "value": "plaid"}]}, "attributes.0.value: "),
    "a threshold in the description": (
        {"attributes": [{"attribute": "upper_colour", "value": "red", "min_probability": 0.5}]},
        "attributes.0.min_probability: unknown key",
    ),
    "the same attribute twice": (
        {"attributes": [{"attribute": "upper_colour", "value": "red"}, {"attribute": "upper_colour", "value": "blue"}]},
        "attributes: ",
    ),
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_description_is_400_with_a_detail_and_records_nothing(
    world: World, investigator: User, client_for: Any, case: str
) -> None:
    change, detail = BAD[case]
    response = client_for(investigator).post("/api/search/", in_case(change), format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail), response.json()
    assert SearchRecord.objects.count() == 0


def test_a_person_search_with_a_description_to_rank_by_is_refused(world: World, investigator: User) -> None:
    with pytest.raises(DomainError) as refused:
        search_start(
            user=investigator,
            tracklet_id=world.tracklets["A"][0].pk,
            k=5,
            reply_channel="x",
            attributes=[{"attribute": "upper_colour", "value": "red"}],
            case=the_case().pk,
            justification="a test search",
        )
    assert refused.value.detail.startswith("attributes: ")


@pytest.mark.parametrize("filtered", ["none", "cameras and time"])
def test_websocket_search_by_attributes_streams_the_brute_force_ranking(
    world: World, investigator: User, filtered: str
) -> None:
    conditions = CONDITIONS["red top, black trousers"]
    filters = api_filters(world, FILTERS[filtered])
    channel = new_channel()
    record = search_start(
        user=investigator, tracklet_id=None, k=20, reply_channel=channel, filters=filters, attributes=conditions,
        case=the_case().pk, justification="a test search",
    )
    assert record.query_tracklet is None
    search_run(search_id=record.pk, reply_channel=channel)
    messages = drain(channel)
    batches = [m for m in messages if m["type"] == "search.hits"]
    assert {m["lane"] for m in batches} == {"attributes"}
    expected = brute_force_by_attributes(conditions, 20, filters)
    assert [h["tracklet"] for m in batches for h in m["hits"]] == [pk for pk, _ in expected]
    assert all(len(m["hits"]) <= 8 for m in batches)
    done = messages[-1]
    assert done["type"] == "search.done"
    assert done["lanes"] == {"attributes": len(expected)}
    record.refresh_from_db()
    assert record.status == "done"
    assert record.query_description == "upper_colour=red, lower_colour=black"
    assert [pk for pk, _ in record.results["attributes"]] == [pk for pk, _ in expected]


def test_a_search_record_can_be_read_back_in_its_case_only(world: World, investigator: User, client_for: Any) -> None:
    body = in_case({"attributes": CONDITIONS["red top"], "k": 6})
    created = client_for(investigator).post("/api/search/", body, format="json").json()
    response = client_for(investigator).get(f"/api/search/{created['search']}/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["status"] == "done"
    assert data["query_description"] == "upper_colour=red"
    assert [h["tracklet"] for h in data["lanes"]["attributes"]] == [h["tracklet"] for h in created["hits"]]
    assert (data["case"], data["justification"]) == (the_case().pk, "a test search")
    colleague = make_investigator("cleo")
    assert client_for(colleague).get(f"/api/search/{created['search']}/").json()["search"] == created["search"]
    outsider = user_create_with_role(username="otto", password="pw-otto-123", role="investigator")
    assert client_for(outsider).get(f"/api/search/{created['search']}/").status_code == 404


@pytest.fixture
def eager_celery() -> Any:
    """Tasks run in the calling thread, as a worker would run them, without a broker."""
    from celery import current_app

    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = False


@pytest.mark.django_db(transaction=True)
def test_the_socket_streams_a_search_by_attributes_and_subscribes_to_photo_searches(eager_celery: None) -> None:
    from channels.testing import WebsocketCommunicator

    from webapp.pages.consumers import EventsConsumer

    w = build_world(per_camera=4)
    for i, t in enumerate(Tracklet.objects.order_by("pk")):
        t.attributes = {"upper_colour": {"red": i / 20, "blue": 1 - i / 20}}
        t.save(update_fields=["attributes"])
    user = make_investigator("sam")
    search = in_case({
        "type": "search.start",
        "attributes": [{"attribute": "upper_colour", "value": "red"}],
        "k": 5,
        "filters": {"cameras": [w.cameras["B"].pk]},
    })
    refused = [in_case({"type": "search.start", "tracklet": "seven"}), in_case({"type": "search.start", "k": 5})]

    async def talk() -> list[dict[str, Any]]:
        socket = WebsocketCommunicator(EventsConsumer.as_asgi(), "/ws/events/")
        socket.scope["user"] = user
        connected, _ = await socket.connect()
        assert connected
        await socket.send_json_to(search)
        replies = [await socket.receive_json_from(timeout=10)]
        while replies[-1]["type"] != "search.done":
            replies.append(await socket.receive_json_from(timeout=10))
        for message in (*refused, {"type": "search.subscribe"}):
            await socket.send_json_to(message)
            replies.append(await socket.receive_json_from(timeout=5))
        await socket.disconnect()
        return replies

    *streamed, bad_type, nothing, subscribed = async_to_sync(talk)()
    record = SearchRecord.objects.get()
    assert streamed[0] == {"type": "search.started", "search": record.pk, "tracklet": None}
    hits = [h["tracklet"] for m in streamed if m["type"] == "search.hits" for h in m["hits"]]
    # On camera B the later people are the likelier to wear red.
    assert hits == sorted((t.pk for t in w.tracklets["B"]), reverse=True)
    assert streamed[-1]["lanes"] == {"attributes": 4}
    assert record.query_description == "upper_colour=red"
    assert bad_type["type"] == "error"
    assert nothing["type"] == "error"
    assert nothing["detail"].startswith("tracklet: ")
    assert subscribed == {"type": "search.subscribed"}


def test_the_describe_page_offers_colours_and_a_photo_upload(client: Any) -> None:
    client.force_login(make_investigator("dora"))
    # A description is searched for in a case: without one chosen the page sends you to your cases.
    assert client.get("/search/describe/")["Location"] == "/"
    response = client.get(f"/search/describe/?case={the_case().pk}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="upper_colour"' in page
    assert 'name="lower_colour"' in page
    assert 'name="photo"' in page
    assert 'id="describe-page"' in page
