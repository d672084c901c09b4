"""Filtered searches against a brute-force ranking of the database's embeddings with numpy.

The world has two galleries (Station: cameras A and B; Harbour: camera C) and a camera D without a
gallery, so a search spans three index shards. Each camera's people cluster around their own point,
so the nearest neighbours of a person seen on A are on A: a filter for D finds D's people only if the
filter runs inside the index query, not on the top k afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.contrib.auth.models import Group, User

from webapp.accounts.roles import INVESTIGATOR_GROUP
from webapp.cameras.models import Camera, Gallery
from webapp.search.filters import AttributeCondition, SearchFilters, SearchQuery, attributes_pass
from webapp.search.services import search_now
from webapp.search.shards import DEFAULT_SHARD
from webapp.tracklets.models import Tracklet
from webapp.videos.models import Video

pytestmark = pytest.mark.django_db

BASE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DIM = 32


@dataclass
class World:
    cameras: dict[str, Camera]
    galleries: dict[str, Gallery]
    tracklets: dict[str, list[Tracklet]] = field(default_factory=dict)

    def shard(self, camera: str) -> int:
        return self.cameras[camera].gallery_id or DEFAULT_SHARD


def build_world(*, per_camera: int = 24, seed: int = 0) -> World:
    """Four cameras in three shards; person i of a camera is seen from +i·60 s for 20 s."""
    rng = np.random.default_rng(seed)
    station = Gallery.objects.create(name="Station")
    harbour = Gallery.objects.create(name="Harbour")
    cameras = {
        "A": Camera.objects.create(name="Station hall", gallery=station),
        "B": Camera.objects.create(name="Station exit", gallery=station),
        "C": Camera.objects.create(name="Harbour gate", gallery=harbour),
        "D": Camera.objects.create(name="Back lane"),
    }
    world = World(cameras=cameras, galleries={"Station": station, "Harbour": harbour})
    for offset, (name, camera) in enumerate(cameras.items()):
        recorded = BASE + timedelta(hours=offset)
        video = Video.objects.create(
            camera=camera, original_name=f"{name}.mp4", size_bytes=1, recorded_at=recorded, status="done"
        )
        centre = rng.normal(size=DIM)
        rows = []
        for i in range(per_camera):
            vector = centre + 0.6 * rng.normal(size=DIM)
            vector = (vector / np.linalg.norm(vector)).astype(np.float32)
            rows.append(
                Tracklet(
                    video=video,
                    camera=camera,
                    track_id=i + 1,
                    start_s=60.0 * i,
                    end_s=60.0 * i + 20.0,
                    start_time=recorded + timedelta(seconds=60 * i),
                    end_time=recorded + timedelta(seconds=60 * i + 20),
                    num_frames=20,
                    embedding=vector.tobytes(),
                    embedder="test",
                )
            )
        Tracklet.objects.bulk_create(rows)
        world.tracklets[name] = list(Tracklet.objects.filter(video=video).order_by("track_id"))
    return world


def brute_force(query: Tracklet, k: int, filters: dict[str, Any]) -> list[int]:
    """The k best ids by exact inner product over every database row the filters let through."""
    ids, vectors = [], []
    start = datetime.fromisoformat(filters["from"]) if filters.get("from") else None
    end = datetime.fromisoformat(filters["to"]) if filters.get("to") else None
    for t in Tracklet.objects.select_related("camera"):
        if t.pk == query.pk:
            continue
        if filters.get("cameras") and t.camera_id not in filters["cameras"]:
            continue
        if filters.get("galleries") and t.camera.gallery_id not in filters["galleries"]:
            continue
        if start is not None and t.end_time < start:
            continue
        if end is not None and t.start_time > end:
            continue
        ids.append(t.pk)
        vectors.append(np.frombuffer(bytes(t.embedding), dtype=np.float32))
    if not ids:
        return []
    scores = np.stack(vectors).astype(np.float64) @ query.embedding_array().astype(np.float64)
    order = np.lexsort((np.asarray(ids), -scores))[:k]
    return [ids[i] for i in order]


def make_investigator(username: str = "ivy") -> User:
    """An investigator without a password: hashing one costs half a second per test."""
    user = User.objects.create(username=username)
    user.groups.add(Group.objects.get_or_create(name=INVESTIGATOR_GROUP)[0])
    return user


@pytest.fixture
def world(db: None) -> World:
    return build_world()


@pytest.fixture
def investigator(db: None) -> User:
    return make_investigator()


def _filters(world: World, spec: dict[str, Any]) -> dict[str, Any]:
    """Turn a spec written with camera letters and gallery names into API filter values."""
    out: dict[str, Any] = {}
    if "cameras" in spec:
        out["cameras"] = [world.cameras[c].pk for c in spec["cameras"]]
    if "galleries" in spec:
        out["galleries"] = [world.galleries[g].pk for g in spec["galleries"]]
    for key in ("from", "to"):
        if key in spec:
            out[key] = spec[key].isoformat()
    return out


def _query(filters: dict[str, Any]) -> SearchFilters:
    return SearchFilters(
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
    filters = _filters(world, CASES[case])
    expected = brute_force(query, k, filters)
    result = search_now(user=investigator, query=SearchQuery(tracklet=query.pk, k=k, filters=_query(filters)))
    assert [h["tracklet"] for h in result["hits"]] == expected
    assert result["count"] == len(expected)
    scores = [h["score"] for h in result["hits"]]
    assert scores == sorted(scores, reverse=True)
    assert [h["rank"] for h in result["hits"]] == list(range(len(expected)))


def test_a_narrow_filter_returns_k_hits_when_k_match_even_if_none_is_near(world: World, investigator: Any) -> None:
    query = world.tracklets["A"][0]
    filters = _filters(world, {"cameras": "D"})
    unfiltered = search_now(user=investigator, query=SearchQuery(tracklet=query.pk, k=10))
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
        query=SearchQuery(tracklet=query.pk, k=50, filters=SearchFilters(cameras=(world.cameras["B"].pk,), time_from=start, time_to=end)),
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
    plain = search_now(user=investigator, query=SearchQuery(tracklet=query.pk, k=30))
    with_condition = search_now(
        user=investigator, query=SearchQuery(tracklet=query.pk, k=30, filters=SearchFilters(attributes=(condition,)))
    )
    assert with_condition["hits"] == plain["hits"]


def test_filters_round_trip_through_the_search_record(world: World, investigator: Any) -> None:
    from webapp.search.models import SearchRecord

    filters = SearchFilters(
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
