"""Subjects: made from a person, built from confirmed and rejected sightings, searched with every
confirmed outfit; judged people never come back; decisions reach the ledger and the other members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.utils import timezone

from tests.webapp.factories import BASE, drain, join_case, new_channel, the_case
from webapp.accounts.services import user_create_with_role
from webapp.audit.ledger import audit_verify
from webapp.audit.models import AuditEntry
from webapp.cameras.models import Camera
from webapp.cases.models import Case, CaseVideo
from webapp.core.events import subject_group
from webapp.search.filters import SearchQuery
from webapp.search.services import search_now
from webapp.subjects.models import Sighting, Subject
from webapp.subjects.searches import subject_search_run, subject_search_start
from webapp.tracklets.models import Tracklet
from webapp.videos.models import Video

pytestmark = pytest.mark.django_db

DIM = 32


def _unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v)).astype(np.float32)


@dataclass
class Scene:
    """Person P in a red coat at the gate (``red``), later in a grey hoodie on the platform
    (``grey``); strangers in red coats (``red_strangers``); a near-twin pair of strangers (``twins``)."""

    red: list[Tracklet]
    grey: list[Tracklet]
    red_strangers: list[Tracklet]
    twins: list[Tracklet]
    gate: Camera
    platform: Camera


def _video(camera: Camera, case: Case, start: Any) -> Video:
    video = Video.objects.create(camera=camera, original_name=f"{camera.name}.mp4", size_bytes=1, recorded_at=start,
                                 status="done")
    CaseVideo.objects.create(case=case, video=video)
    return video


def _person(video: Video, track: int, at_s: float, appearance: np.ndarray, identity: np.ndarray) -> Tracklet:
    return Tracklet.objects.create(
        video=video, camera=video.camera, track_id=track, start_s=at_s, end_s=at_s + 10,
        start_time=video.recorded_at + timedelta(seconds=at_s), end_time=video.recorded_at + timedelta(seconds=at_s + 10),
        num_frames=10, appearance_embedding=appearance.tobytes(), appearance_embedder="test",
        identity_embedding=identity.tobytes(), identity_embedder="test",
    )


def build_scene(case: Case | None = None, seed: int = 0) -> Scene:
    rng = np.random.default_rng(seed)
    case = case or the_case()
    red_coat, grey_hoodie, p_identity = (_unit(rng.normal(size=DIM)) for _ in range(3))
    gate, _ = Camera.objects.get_or_create(name="Gate A")
    platform, _ = Camera.objects.get_or_create(name="Platform B")
    at_gate = _video(gate, case, BASE + timedelta(days=seed))
    on_platform = _video(platform, case, BASE + timedelta(days=seed, hours=1))
    red = [_person(at_gate, i + 1, 60.0 * i, _unit(red_coat + 0.15 * rng.normal(size=DIM)),
                   _unit(p_identity + 0.3 * rng.normal(size=DIM))) for i in range(4)]
    grey = [_person(on_platform, i + 1, 60.0 * i, _unit(grey_hoodie + 0.15 * rng.normal(size=DIM)),
                    _unit(p_identity + 0.3 * rng.normal(size=DIM))) for i in range(4)]
    red_strangers = [_person(at_gate, 10 + i, 30.0 + 60 * i, _unit(red_coat + 0.5 * rng.normal(size=DIM)),
                             _unit(rng.normal(size=DIM))) for i in range(8)]
    twin = _unit(0.6 * red_coat + 0.2 * rng.normal(size=DIM))
    twins = [_person(at_gate, 30 + i, 500.0 + 20 * i, _unit(twin + 0.05 * rng.normal(size=DIM)),
                     _unit(rng.normal(size=DIM))) for i in range(2)]
    # The crowd: everyone else the cameras saw, like neither outfit, so that each outfit query's
    # candidates are mostly its own look-alikes, as in footage of any length.
    Tracklet.objects.bulk_create([
        Tracklet(video=video, camera=video.camera, track_id=100 + i, start_s=900.0 + i, end_s=905.0 + i,
                 start_time=video.recorded_at + timedelta(seconds=900 + i),
                 end_time=video.recorded_at + timedelta(seconds=905 + i), num_frames=5,
                 appearance_embedding=_unit(rng.normal(size=DIM)).tobytes(), appearance_embedder="test",
                 identity_embedding=_unit(rng.normal(size=DIM)).tobytes(), identity_embedder="test")
        for video in (at_gate, on_platform) for i in range(150)
    ])
    return Scene(red, grey, red_strangers, twins, gate, platform)


@pytest.fixture
def scene(investigator: User) -> Scene:
    return build_scene()


def _ids(cards: list[dict[str, Any]]) -> list[int]:
    return [c["tracklet"] for c in cards]


def _search(client: Any, subject: int, k: int = 6) -> dict[str, Any]:
    response = client.post(f"/api/subjects/{subject}/search/", {"justification": "witness 3", "k": k}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def _make(client: Any, tracklet: Tracklet, label: str = "P") -> dict[str, Any]:
    response = client.post(
        "/api/subjects/", {"case": the_case().pk, "label": label, "tracklet": tracklet.pk}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()


def _decide(client: Any, subject: int, tracklet: Tracklet, decision: str) -> Any:
    return client.post(f"/api/subjects/{subject}/sightings/", {"tracklet": tracklet.pk, "decision": decision},
                       format="json")


def test_a_subject_made_from_a_person_starts_with_it_confirmed_and_the_ledger_says_so(
    scene: Scene, investigator: User, client_for: Any
) -> None:
    client = client_for(investigator)
    made = _make(client, scene.red[0], label="  Woman in red  ")
    assert made["label"] == "Woman in red"
    assert made["origin"] == "person"
    assert _ids(made["sightings"]) == [scene.red[0].pk]
    assert made["sightings"][0]["decided_by"] == "ivy"
    assert [o["sightings"] for o in made["outfits"]] == [[scene.red[0].pk]]
    actions = list(AuditEntry.objects.order_by("seq").values_list("action", "object_ids"))
    assert actions[-2:] == [("subject.create", [made["id"]]), ("sighting.confirm", [scene.red[0].pk])]
    assert audit_verify().ok


def test_a_confirmed_sighting_in_another_outfit_pulls_that_outfit_in(
    scene: Scene, investigator: User, client_for: Any
) -> None:
    client = client_for(investigator)
    single = search_now(user=investigator, query=SearchQuery(
        tracklet=scene.red[0].pk, k=10, filters=_case_filters(), justification="witness 3"))
    single_outfit = _ids(single["lanes"]["same_outfit"])
    # One crop of the red coat finds the rest of the red coat and strangers in red, never the hoodie.
    assert set(_ids([{"tracklet": t.pk} for t in scene.red[1:]])) <= set(single_outfit)
    assert not set(single_outfit) & {t.pk for t in scene.grey}

    subject = _make(client, scene.red[0])["id"]
    assert _decide(client, subject, scene.grey[0], "confirmed").status_code == 200
    detail = client.get(f"/api/subjects/{subject}/").json()
    assert [o["sightings"] for o in detail["outfits"]] == [[scene.red[0].pk], [scene.grey[0].pk]]

    found = _search(client, subject, k=10)
    outfit_lane = _ids(found["lanes"]["same_outfit"])
    # Both outfits pull in their own sightings; the confirmed ones are not shown again.
    assert {t.pk for t in scene.grey[1:]} <= set(outfit_lane)
    assert {t.pk for t in scene.red[1:]} <= set(outfit_lane)
    assert not set(outfit_lane) & {scene.red[0].pk, scene.grey[0].pk}
    assert len(outfit_lane) == 10


def _case_filters() -> Any:
    from tests.webapp.factories import case_filters

    return case_filters()


def test_a_rejected_person_never_comes_back_and_its_look_alikes_go_down(
    scene: Scene, investigator: User, client_for: Any
) -> None:
    client = client_for(investigator)
    subject = _make(client, scene.red[0])["id"]
    before = _search(client, subject, k=20)
    twin, other_twin = scene.twins
    assert twin.pk in _ids(before["lanes"]["same_outfit"])
    assert _decide(client, subject, twin, "rejected").status_code == 200

    after = _search(client, subject, k=20)
    # Pushed below the twenty shown.
    assert other_twin.pk not in _ids(after["lanes"]["same_outfit"])
    # Every candidate shown, to see where it went.
    after = _search(client, subject, k=500)
    for lane in ("same_outfit", "clothes_change"):
        assert twin.pk not in _ids(after["lanes"][lane])
    cards = after["lanes"]["same_outfit"]
    flagged = {c["tracklet"] for c in cards if c.get("like_rejected")}
    # The near-twin of the rejected stranger looks more like him than like the subject: it goes
    # below everyone not like him, with the reason on its card; the subject's own sightings do not.
    assert other_twin.pk in flagged
    assert not flagged & {t.pk for t in scene.red}
    order = _ids(cards)
    assert all(order.index(t) > order.index(r.pk) for t in flagged for r in scene.red[1:])
    assert order.index(other_twin.pk) > _ids(before["lanes"]["same_outfit"]).index(other_twin.pk)
    rejected = client.get(f"/api/subjects/{subject}/").json()["rejected_sightings"]
    assert _ids(rejected) == [twin.pk]

    # Withdrawing the decision lets the person be shown again.
    assert client.delete(f"/api/subjects/{subject}/sightings/{twin.pk}/").status_code == 200
    assert twin.pk in _ids(_search(client, subject, k=500)["lanes"]["same_outfit"])
    assert list(AuditEntry.objects.filter(action__startswith="sighting.").order_by("seq").values_list(
        "action", flat=True)) == ["sighting.confirm", "sighting.reject", "sighting.undo"]


def test_a_decision_reaches_the_other_members_with_the_subject_open(
    scene: Scene, investigator: User, django_capture_on_commit_callbacks: Any
) -> None:
    from webapp.subjects.services import sighting_decide, subject_create

    subject = subject_create(user=investigator, case_id=the_case().pk, label="P", tracklet_id=scene.red[0].pk)
    watcher = new_channel()
    async_to_sync(get_channel_layer().group_add)(subject_group(subject.pk), watcher)
    with django_capture_on_commit_callbacks(execute=True):
        sighting_decide(user=investigator, subject_id=subject.pk, tracklet_id=scene.grey[1].pk, decision="confirmed")
    assert drain(watcher) == [
        {"type": "subject.sighting", "subject": subject.pk, "tracklet": scene.grey[1].pk, "decision": "confirmed",
         "by": "ivy"}
    ]


def test_a_subject_search_streams_like_a_person_search(scene: Scene, investigator: User) -> None:
    from webapp.subjects.services import sighting_decide, subject_create

    subject = subject_create(user=investigator, case_id=the_case().pk, label="P", tracklet_id=scene.red[0].pk)
    sighting_decide(user=investigator, subject_id=subject.pk, tracklet_id=scene.grey[0].pk, decision="confirmed")
    channel = new_channel()
    record = subject_search_start(user=investigator, subject_id=subject.pk, data={"justification": "w", "k": 10},
                                  reply_channel=channel)
    assert record.params["kind"] == "subject"
    assert record.params["subject"] == subject.pk
    assert record.query_description == "subject P (2 confirmed sightings)"
    subject_search_run(search_id=record.pk, reply_channel=channel)
    messages = drain(channel)
    assert messages[-1]["type"] == "search.done"
    streamed = [h["tracklet"] for m in messages if m["type"] == "search.hits" and m["lane"] == "same_outfit"
                for h in m["hits"]]
    assert {t.pk for t in scene.grey[1:]} <= set(streamed)
    record.refresh_from_db()
    assert record.status == "done"
    assert AuditEntry.objects.filter(action="search", details__kind="subject").count() == 1


def test_the_subject_page_data_has_the_timeline_and_the_map(
    scene: Scene, investigator: User, client_for: Any
) -> None:
    client = client_for(investigator)
    subject = _make(client, scene.red[1])["id"]
    for t in (scene.red[0], scene.grey[2]):
        _decide(client, subject, t, "confirmed")
    detail = client.get(f"/api/subjects/{subject}/").json()
    assert _ids(detail["sightings"]) == [scene.red[0].pk, scene.red[1].pk, scene.grey[2].pk]
    timeline = detail["timeline"]
    assert [c["name"] for c in timeline["cameras"]] == ["Gate A", "Platform B"]
    # red[0] 0–10 s, red[1] 60–70 s at the gate, grey[2] 120–130 s on the platform an hour later.
    assert [g["seconds"] for g in timeline["gaps"]] == [50.0, 3600.0 + 120 - 70]
    assert [p["camera"] for p in detail["map"]["path"]] == [scene.gate.pk, scene.gate.pk, scene.platform.pk]
    assert {c["name"] for c in detail["map"]["cameras"]} == {"Gate A", "Platform B"}
    listed = client.get(f"/api/subjects/?case={the_case().pk}").json()
    assert [(s["id"], s["confirmed"], s["rejected"]) for s in listed] == [(subject, 3, 0)]


@pytest.fixture
def outsider() -> User:
    """An investigator of another case, with a subject of his own there."""
    other = Case.objects.create(reference="O-1", title="Other", purpose="x",
                                retention_until=timezone.localdate() + timedelta(days=30))
    user = join_case(user_create_with_role(username="otto", password="pw-otto-123", role="investigator"), case=other)
    return user


def test_bad_requests_are_refused_with_a_reason_and_leave_nothing(
    scene: Scene, investigator: User, outsider: User, client_for: Any
) -> None:
    client = client_for(investigator)
    subject = _make(client, scene.red[0])["id"]
    other_case = Case.objects.get(reference="O-1")
    other_scene = build_scene(other_case, seed=1)
    foreign = Subject.objects.create(case=other_case, label="theirs", origin="person")
    viewer = join_case(user_create_with_role(username="vic", password="pw-vic-123", role="investigator"),
                       role="viewer")
    entries = AuditEntry.objects.count()
    sightings = Sighting.objects.count()

    refusals = [
        (client, "post", "/api/subjects/", {"case": the_case().pk, "label": " "}, 400, "label"),
        (client, "post", "/api/subjects/", {"case": the_case().pk, "label": "x", "colour": 1}, 400, "colour"),
        (client, "post", "/api/subjects/", {"case": other_case.pk, "label": "x"}, 404, "no such case"),
        (client, "post", "/api/subjects/", {"case": the_case().pk, "label": "x",
                                            "tracklet": other_scene.red[0].pk}, 404, "no person"),
        (client, "post", f"/api/subjects/{subject}/sightings/", {"tracklet": other_scene.red[1].pk,
                                                                 "decision": "confirmed"}, 404, "no person"),
        (client, "post", f"/api/subjects/{subject}/sightings/", {"tracklet": scene.red[1].pk,
                                                                 "decision": "maybe"}, 400, "decision"),
        (client, "post", f"/api/subjects/{foreign.pk}/sightings/", {"tracklet": scene.red[1].pk,
                                                                    "decision": "confirmed"}, 404, "no such subject"),
        (client, "get", f"/api/subjects/{foreign.pk}/", None, 404, "no such subject"),
        (client_for(outsider), "get", f"/api/subjects/{subject}/", None, 404, "no such subject"),
        (client_for(outsider), "post", f"/api/subjects/{subject}/search/", {"justification": "x"}, 404, "no such"),
        (client_for(viewer), "post", f"/api/subjects/{subject}/sightings/", {"tracklet": scene.red[1].pk,
                                                                             "decision": "confirmed"}, 403, "role"),
        (client, "delete", f"/api/subjects/{subject}/", None, 403, "role"),
        (client, "delete", f"/api/subjects/{subject}/sightings/{scene.red[3].pk}/", None, 404, "no decision"),
        (client, "post", f"/api/subjects/{subject}/search/", {"justification": " "}, 400, "justification"),
        (client, "post", f"/api/subjects/{subject}/search/", {"justification": "x", "k": 0}, 400, "k"),
    ]
    for who, method, url, body, code, words in refusals:
        response = getattr(who, method)(url, body, format="json") if body is not None else getattr(who, method)(url)
        assert response.status_code == code, (url, body, response.json())
        assert words in response.json()["detail"], (url, response.json())
    assert AuditEntry.objects.count() == entries
    assert Sighting.objects.count() == sightings

    empty = client.post("/api/subjects/", {"case": the_case().pk, "label": "nobody yet"}, format="json").json()
    response = client.post(f"/api/subjects/{empty['id']}/search/", {"justification": "x"}, format="json")
    assert response.status_code == 400
    assert "confirm at least one" in response.json()["detail"]

    Case.objects.filter(reference="T-1").update(status=Case.Status.CLOSED)
    response = _decide(client, subject, scene.red[1], "confirmed")
    assert response.status_code == 409
    assert "closed" in response.json()["detail"]
