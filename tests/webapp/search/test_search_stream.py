"""The websocket search: validated and recorded when it starts, streamed in ranked batches by the
worker, with the time to the first batch in ``search.done``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import User

from tests.webapp.factories import BASE, World, brute_force, build_world, drain, in_case, new_channel
from webapp.core.exceptions import DomainError
from webapp.search import index
from webapp.search.models import SearchRecord
from webapp.search.ranking import refine_config
from webapp.search.serializers import search_query_from
from webapp.search.services import search_now, search_start
from webapp.search.worker import search_run, search_warm
from webapp.tracklets.models import Tracklet

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None) -> World:
    return build_world(per_camera=10)


def _start(**kwargs: Any) -> SearchRecord:
    """``search_start`` in the tests' case, with a justification."""
    return search_start(**in_case(kwargs))


def test_filtered_search_streams_the_brute_force_ranking_in_batches_and_times_the_first(
    world: World, investigator: User
) -> None:
    query = world.tracklets["B"][0]
    filters = {"galleries": [world.galleries["Station"].pk], "to": BASE.replace(hour=10, minute=5).isoformat()}
    channel = new_channel()
    record = _start(user=investigator, tracklet_id=query.pk, k=12, reply_channel=channel, filters=filters)
    assert record.params["filters"]["galleries"] == filters["galleries"]
    search_run(search_id=record.pk, reply_channel=channel)
    messages = drain(channel)
    batches = [m for m in messages if m["type"] == "search.hits"]
    assert [h["tracklet"] for m in batches for h in m["hits"]] == brute_force(query, 12, filters)
    assert [len(m["hits"]) for m in batches] == [8, 4]
    done = messages[-1]
    assert done["type"] == "search.done"
    assert done["count"] == 12
    record.refresh_from_db()
    assert record.status == "done"
    assert record.result_count == 12
    assert isinstance(done["first_batch_ms"], float)
    assert 0 <= done["first_batch_ms"] == record.first_batch_ms < 60_000


def test_a_refined_search_streams_the_first_ranking_then_the_re_ranked_candidates(
    world: World, investigator: User
) -> None:
    from reid_engine.index.refine import refine_ranking

    query = world.tracklets["B"][0]
    filters = {"galleries": [world.galleries["Station"].pk], "to": BASE.replace(hour=10, minute=5).isoformat()}
    channel = new_channel()
    record = _start(
        user=investigator, tracklet_id=query.pk, k=12, reply_channel=channel, filters=filters, refine=True
    )
    search_run(search_id=record.pk, reply_channel=channel)
    messages = drain(channel)
    # The first ranking streams as usual (the clothes-change lane is empty: no identity vectors
    # here), then the refined list, then done.
    assert [m["type"] for m in messages] == ["search.hits", "search.hits", "search.refined", "search.done"]
    assert [h["tracklet"] for m in messages[:2] for h in m["hits"]] == brute_force(query, 12, filters)
    refined = messages[2]
    assert refined["lane"] == "same_outfit"

    # The second pass worked out here over the brute-force candidates and the database's vectors.
    config = refine_config()
    candidates = brute_force(query, max(12, config.candidates), filters)
    vectors = np.stack([Tracklet.objects.get(pk=pk).appearance_embedding_array() for pk in candidates])
    want_ids, want_scores = refine_ranking(query.appearance_embedding_array(), np.asarray(candidates), vectors, 12, config)
    got = [h["tracklet"] for h in refined["hits"]]
    assert got == want_ids.tolist()
    assert got != brute_force(query, 12, filters), "the second pass changed nothing here"
    assert [h["score"] for h in refined["hits"]] == pytest.approx(want_scores.tolist(), abs=1e-4)
    assert [h["rank"] for h in refined["hits"]] == list(range(12))
    assert set(got) <= set(brute_force(query, 10**6, filters))  # every refined hit passes the filters

    done = messages[-1]
    assert done["refined"] is True
    assert done["lanes"] == {"same_outfit": 12, "clothes_change": 0}
    record.refresh_from_db()
    assert [pk for pk, _ in record.results["same_outfit"]] == got

    # The REST search returns the same final list.
    rest = search_now(
        user=investigator, query=search_query_from(in_case({"tracklet": query.pk, "k": 12, "filters": filters, "refine": True}))
    )
    assert rest["refine"] is True
    assert [h["tracklet"] for h in rest["lanes"]["same_outfit"]] == got


def test_search_with_no_match_ends_with_done_and_no_first_batch(world: World, investigator: User) -> None:
    channel = new_channel()
    filters = {"galleries": [world.galleries["Harbour"].pk], "cameras": [world.cameras["A"].pk]}
    record = _start(
        user=investigator, tracklet_id=world.tracklets["A"][0].pk, k=5, reply_channel=channel, filters=filters
    )
    search_run(search_id=record.pk, reply_channel=channel)
    assert drain(channel) == [
        {
            "type": "search.done",
            "search": record.pk,
            "count": 0,
            "lanes": {"same_outfit": 0, "clothes_change": 0},
            "first_batch_ms": None,
            "refined": False,
        }
    ]


@pytest.mark.parametrize(
    ("k", "filters", "status", "detail"),
    [
        (0, None, 400, "k: "),
        (5, {"cameras": [1], "colour": "red"}, 400, "filters.colour: unknown key"),
        (5, {"to": "not a time"}, 400, "filters.to: "),
        (5, "cameras=1", 400, "filters: "),
    ],
)
def test_a_bad_search_start_is_refused_before_anything_is_recorded(
    world: World, investigator: User, k: int, filters: Any, status: int, detail: str
) -> None:
    with pytest.raises(DomainError) as refused:
        _start(user=investigator, tracklet_id=world.tracklets["A"][0].pk, k=k, reply_channel="x", filters=filters)
    assert refused.value.status_code == status
    assert refused.value.detail.startswith(detail)
    assert SearchRecord.objects.count() == 0


def test_search_start_for_an_unknown_person_is_404(world: World, investigator: User) -> None:
    with pytest.raises(DomainError) as refused:
        _start(user=investigator, tracklet_id=987_654, k=5, reply_channel="x")
    assert refused.value.status_code == 404


def test_a_search_whose_person_was_deleted_fails_with_a_reason(world: World, investigator: User) -> None:
    query = world.tracklets["A"][0]
    channel = new_channel()
    record = _start(user=investigator, tracklet_id=query.pk, k=5, reply_channel=channel)
    query.delete()
    search_run(search_id=record.pk, reply_channel=channel)
    assert [m["type"] for m in drain(channel)] == ["search.failed"]
    record.refresh_from_db()
    assert record.status == "failed"


def test_a_stored_search_that_names_no_case_fails_instead_of_ranking_all_footage(
    world: World, investigator: User
) -> None:
    channel = new_channel()
    record = _start(user=investigator, tracklet_id=world.tracklets["A"][0].pk, k=5, reply_channel=channel)
    # As a record written before cases existed would be.
    params = dict(record.params)
    params["filters"] = {k: v for k, v in params["filters"].items() if k != "case"}
    SearchRecord.objects.filter(pk=record.pk).update(params=params, case=None)
    search_run(search_id=record.pk, reply_channel=channel)
    messages = drain(channel)
    assert [(m["type"], m.get("reason")) for m in messages] == [("search.failed", "this search names no case")]


def test_a_fresh_worker_process_loads_every_shard_before_its_first_search(world: World) -> None:
    assert index.index_loaded_shards() == []
    search_warm()
    assert len(index.index_loaded_shards()) == 3
