"""The permission matrix: every route and websocket message, for every persona, on objects of their
own case and of a foreign one, against the declared table of what each may do.

The routes come from the URL configuration and the messages from the consumer's dispatch table: a
route or message without an entry in ``RULES`` / ``MESSAGES`` fails ``test_every_route_is_declared``.
Objects a persona may not reach answer 404, never 403, so their existence is not confirmed.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from PIL import Image

from webapp.accounts.roles import ADMIN_GROUP, INVESTIGATOR_GROUP
from webapp.cameras.models import Camera, Gallery, WalkingTime
from webapp.cameras.plans import plan_create
from webapp.cases.models import Case, CaseMember, CaseVideo
from webapp.pages.consumers import EventsConsumer
from webapp.search.models import SearchRecord
from webapp.tracklets.models import Tracklet
from webapp.videos.models import Video

OWN, FOREIGN = "own", "foreign"
PERSONAS = ("anonymous", "inactive", "viewer", "investigator", "outsider", "lead", "admin", "admin_member")
# Case roles per persona in the two cases; "outsider" investigates the foreign case only.
ROLES: dict[str, dict[str, str]] = {
    "inactive": {OWN: "investigator"},
    "viewer": {OWN: "viewer"},
    "investigator": {OWN: "investigator"},
    "outsider": {FOREIGN: "investigator"},
    "lead": {OWN: "lead"},
    "admin_member": {OWN: "investigator"},
}
ADMINS = {"admin", "admin_member"}
CAPS = {
    "lead": {"view", "upload", "search", "manage", "close", "export", "delete"},
    "investigator": {"view", "upload", "search"},
    "viewer": {"view"},
}
ADMIN_CAPS = {"manage", "close", "export", "delete"}


class Kind(Enum):
    PUBLIC = "anyone, signed in or not"
    PAGE = "a page any signed-in user with a role sees"
    ADMIN_PAGE = "a page for admins: others with a role are refused"
    CASE_PAGE = "a page of case content: members only"
    API_ROLE = "API for any active user with a role"
    API_ADMIN = "API writes for admins only"
    API_CASE = "API on case content or administration, by case capability"
    API_CASE_DETAIL = "a case's details: members and admins"
    ADMIN_SITE = "the Django admin: staff only"


@dataclass
class World:
    users: dict[str, User | None]
    cases: dict[str, Case]
    videos: dict[str, Video]
    tracklets: dict[str, Tracklet]
    searches: dict[str, SearchRecord]
    camera: Camera
    spare: User
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    kind: Kind
    ok: int = 200
    capability: str = "view"
    # (world, which case) -> (path, data, extra client kwargs)
    request: Callable[[World, str], tuple[str, Any, dict[str, Any]]] = lambda w, c: ("/", None, {})
    fmt: str = "json"
    # Whether an admin's case-administration rights apply without membership (the case itself)
    # or only as a member (content: footage, people, searches).
    admin_without_membership: bool = False


def _p(path: str) -> Callable[[World, str], tuple[str, Any, dict[str, Any]]]:
    return lambda w, c: (path, None, {})


def _png() -> io.BytesIO:
    buf = io.BytesIO()
    Image.fromarray(np.full((128, 64, 3), 90, np.uint8)).save(buf, format="PNG")
    buf.seek(0)
    buf.name = "person.png"
    return buf


def _plan_body(w: World, c: str) -> tuple[str, Any, dict[str, Any]]:
    return "/api/plans/", {"name": "New plan", "image": _png()}, {}


def _search_body(w: World, c: str) -> tuple[str, Any, dict[str, Any]]:
    return "/api/search/", {"case": w.cases[c].pk, "justification": "matrix", "tracklet": w.tracklets[c].pk, "k": 5}, {}


def _photo_body(w: World, c: str) -> tuple[str, Any, dict[str, Any]]:
    return "/api/search/image/", {"case": w.cases[c].pk, "justification": "matrix", "image": _png()}, {}


def _upload_body(w: World, c: str) -> tuple[str, Any, dict[str, Any]]:
    body = {"case": w.cases[c].pk, "camera": w.camera.pk, "recorded_at": "2026-11-02T09:00:00Z",
            "filename": "more.mp4", "size": 10}
    return "/api/videos/", body, {}


RULES: dict[tuple[str, str], Rule] = {
    ("healthz", "get"): Rule(Kind.PUBLIC, request=_p("/healthz")),
    ("login", "get"): Rule(Kind.PUBLIC, request=_p("/accounts/login/")),
    ("login", "post"): Rule(Kind.PUBLIC, request=lambda w, c: ("/accounts/login/", {"username": "x", "password": "y"}, {}),
                            fmt="form"),
    ("login", "put"): Rule(Kind.PUBLIC, request=_p("/accounts/login/")),
    ("logout", "post"): Rule(Kind.PUBLIC, ok=302, request=_p("/accounts/logout/"), fmt="form"),
    ("dashboard", "get"): Rule(Kind.PAGE, request=_p("/")),
    ("case-list", "get"): Rule(Kind.PAGE, request=_p("/cases/")),
    ("case-page", "get"): Rule(Kind.CASE_PAGE, request=lambda w, c: (f"/cases/{w.cases[c].pk}/", None, {})),
    ("video-page", "get"): Rule(Kind.CASE_PAGE, request=lambda w, c: (f"/videos/{w.videos[c].pk}/", None, {})),
    ("search-page", "get"): Rule(Kind.CASE_PAGE,
                                 request=lambda w, c: (f"/search/tracklet/{w.tracklets[c].pk}/", None, {})),
    ("describe-page", "get"): Rule(Kind.CASE_PAGE,
                                   request=lambda w, c: (f"/search/describe/?case={w.cases[c].pk}", None, {})),
    ("tracklet-thumbnail", "get"): Rule(
        Kind.CASE_PAGE, request=lambda w, c: (f"/media/tracklets/{w.tracklets[c].pk}/thumbnail.jpg", None, {})),
    ("video-proxy", "get"): Rule(Kind.CASE_PAGE,
                                 request=lambda w, c: (f"/media/videos/{w.videos[c].pk}/review.mp4", None, {})),
    ("schema", "get"): Rule(Kind.API_ROLE, request=_p("/api/schema/")),
    ("api-root", "get"): Rule(Kind.API_ROLE, request=_p("/api/")),
    ("users", "get"): Rule(Kind.API_ROLE, request=_p("/api/users/")),
    ("camera-list", "get"): Rule(Kind.API_ROLE, request=_p("/api/cameras/")),
    ("camera-list", "post"): Rule(Kind.API_ADMIN, ok=201, request=lambda w, c: ("/api/cameras/", {"name": "New"}, {})),
    ("camera-detail", "get"): Rule(Kind.API_ROLE, request=lambda w, c: (f"/api/cameras/{w.camera.pk}/", None, {})),
    ("camera-detail", "put"): Rule(Kind.API_ADMIN,
                                   request=lambda w, c: (f"/api/cameras/{w.camera.pk}/", {"name": "Renamed"}, {})),
    ("camera-detail", "patch"): Rule(Kind.API_ADMIN,
                                     request=lambda w, c: (f"/api/cameras/{w.camera.pk}/", {"location": "x"}, {})),
    ("camera-detail", "delete"): Rule(Kind.API_ADMIN, ok=204, request=lambda w, c: (
        f"/api/cameras/{w.extra['idle_camera'].pk}/", None, {})),
    ("sites-page", "get"): Rule(Kind.ADMIN_PAGE, request=_p("/sites/")),
    ("plan-list", "get"): Rule(Kind.API_ROLE, request=_p("/api/plans/")),
    ("plan-list", "post"): Rule(Kind.API_ADMIN, ok=201, request=_plan_body, fmt="multipart"),
    ("plan-detail", "get"): Rule(Kind.API_ROLE, request=lambda w, c: (f"/api/plans/{w.extra['plan'].pk}/", None, {})),
    ("plan-detail", "patch"): Rule(Kind.API_ADMIN, request=lambda w, c: (
        f"/api/plans/{w.extra['plan'].pk}/", {"width_m": 40}, {})),
    ("plan-detail", "delete"): Rule(Kind.API_ADMIN, ok=204,
                                    request=lambda w, c: (f"/api/plans/{w.extra['plan'].pk}/", None, {})),
    ("plan-image", "get"): Rule(Kind.API_ROLE,
                                request=lambda w, c: (f"/api/plans/{w.extra['plan'].pk}/image", None, {})),
    ("walking-time-list", "get"): Rule(Kind.API_ROLE, request=_p("/api/walking-times/")),
    ("walking-time-list", "post"): Rule(Kind.API_ADMIN, ok=201, request=lambda w, c: (
        "/api/walking-times/", {"camera_a": w.camera.pk, "camera_b": w.extra["idle_camera"].pk, "seconds": 30}, {})),
    ("walking-time-detail", "get"): Rule(Kind.API_ROLE, request=lambda w, c: (
        f"/api/walking-times/{w.extra['walking'].pk}/", None, {})),
    ("walking-time-detail", "put"): Rule(Kind.API_ADMIN, request=lambda w, c: (
        f"/api/walking-times/{w.extra['walking'].pk}/",
        {"camera_a": w.camera.pk, "camera_b": w.extra["far_camera"].pk, "seconds": 45}, {})),
    ("walking-time-detail", "patch"): Rule(Kind.API_ADMIN, request=lambda w, c: (
        f"/api/walking-times/{w.extra['walking'].pk}/", {"seconds": 50}, {})),
    ("walking-time-detail", "delete"): Rule(Kind.API_ADMIN, ok=204, request=lambda w, c: (
        f"/api/walking-times/{w.extra['walking'].pk}/", None, {})),
    ("gallery-list", "get"): Rule(Kind.API_ROLE, request=_p("/api/galleries/")),
    ("gallery-list", "post"): Rule(Kind.API_ADMIN, ok=201,
                                   request=lambda w, c: ("/api/galleries/", {"name": "North"}, {})),
    ("gallery-detail", "get"): Rule(Kind.API_ROLE,
                                    request=lambda w, c: (f"/api/galleries/{w.extra['gallery'].pk}/", None, {})),
    ("gallery-detail", "put"): Rule(Kind.API_ADMIN, request=lambda w, c: (
        f"/api/galleries/{w.extra['gallery'].pk}/", {"name": "South"}, {})),
    ("gallery-detail", "patch"): Rule(Kind.API_ADMIN, request=lambda w, c: (
        f"/api/galleries/{w.extra['gallery'].pk}/", {"description": "d"}, {})),
    ("gallery-detail", "delete"): Rule(Kind.API_ADMIN, ok=204, request=lambda w, c: (
        f"/api/galleries/{w.extra['gallery'].pk}/", None, {})),
    ("case-list", "post"): Rule(Kind.API_ROLE, ok=201, request=lambda w, c: ("/api/cases/", {
        "title": "t", "reference": "NEW-1", "purpose": "p",
        "retention_until": (timezone.localdate() + dt.timedelta(days=9)).isoformat()}, {})),
    ("case-detail", "get"): Rule(Kind.API_CASE_DETAIL, request=lambda w, c: (f"/api/cases/{w.cases[c].pk}/", None, {})),
    ("case-detail", "patch"): Rule(Kind.API_CASE, admin_without_membership=True, capability="manage",
                                   request=lambda w, c: (f"/api/cases/{w.cases[c].pk}/", {"title": "Renamed"}, {})),
    ("case-detail", "delete"): Rule(Kind.API_CASE, admin_without_membership=True, ok=204, capability="delete",
                                    request=lambda w, c: (f"/api/cases/{w.cases[c].pk}/", None, {})),
    ("case-set-status", "post"): Rule(Kind.API_CASE, admin_without_membership=True, capability="close", request=lambda w, c: (
        f"/api/cases/{w.cases[c].pk}/status/", {"status": "closed"}, {})),
    ("case-members", "get"): Rule(Kind.API_CASE, request=lambda w, c: (f"/api/cases/{w.cases[c].pk}/members/", None, {})),
    ("case-members", "post"): Rule(Kind.API_CASE, admin_without_membership=True, ok=201, capability="manage", request=lambda w, c: (
        f"/api/cases/{w.cases[c].pk}/members/", {"user": w.spare.pk, "role": "viewer"}, {})),
    ("case-member", "patch"): Rule(Kind.API_CASE, admin_without_membership=True, capability="manage", request=lambda w, c: (
        f"/api/cases/{w.cases[c].pk}/members/{w.extra['member_' + c].pk}/", {"role": "viewer"}, {})),
    ("case-member", "delete"): Rule(Kind.API_CASE, admin_without_membership=True, ok=204, capability="manage", request=lambda w, c: (
        f"/api/cases/{w.cases[c].pk}/members/{w.extra['member_' + c].pk}/", None, {})),
    ("case-videos", "post"): Rule(Kind.API_CASE, admin_without_membership=True, ok=404, capability="manage", request=lambda w, c: (
        # Linking the other case's footage: refused unless the user leads that case too.
        f"/api/cases/{w.cases[c].pk}/videos/", {"video": w.videos[FOREIGN if c == OWN else OWN].pk}, {})),
    ("case-audit", "get"): Rule(Kind.API_CASE, admin_without_membership=True, capability="export",
                                request=lambda w, c: (f"/api/cases/{w.cases[c].pk}/audit/", None, {})),
    ("video-list", "get"): Rule(Kind.API_ROLE, request=_p("/api/videos/")),
    ("video-list", "post"): Rule(Kind.API_CASE, ok=201, capability="upload", request=_upload_body),
    ("video-detail", "get"): Rule(Kind.API_CASE, request=lambda w, c: (f"/api/videos/{w.videos[c].pk}/", None, {})),
    ("video-detail", "delete"): Rule(Kind.API_CASE, ok=204, capability="delete",
                                     request=lambda w, c: (f"/api/videos/{w.videos[c].pk}/", None, {})),
    ("video-content", "put"): Rule(Kind.API_CASE, ok=409, capability="upload", request=lambda w, c: (
        f"/api/videos/{w.videos[c].pk}/content/", b"x", {"HTTP_CONTENT_RANGE": "bytes 0-0/1"}), fmt="raw"),
    ("video-tracklets", "get"): Rule(Kind.API_CASE,
                                     request=lambda w, c: (f"/api/videos/{w.videos[c].pk}/tracklets/", None, {})),
    ("tracklet-list", "get"): Rule(Kind.API_ROLE, request=_p("/api/tracklets/")),
    ("tracklet-detail", "get"): Rule(Kind.API_CASE,
                                     request=lambda w, c: (f"/api/tracklets/{w.tracklets[c].pk}/", None, {})),
    ("search", "post"): Rule(Kind.API_CASE, capability="search", request=_search_body),
    ("search-image", "post"): Rule(Kind.API_CASE, ok=202, capability="search", request=_photo_body, fmt="multipart"),
    ("search-detail", "get"): Rule(Kind.API_CASE,
                                   request=lambda w, c: (f"/api/search/{w.searches[c].pk}/", None, {})),
    ("admin:*", "get"): Rule(Kind.ADMIN_SITE, request=_p("/admin/")),
}

# Lists are answered for everyone with a role, but hold only what the user's cases hold.
LIST_SCOPED = {("video-list", "get"): "videos", ("tracklet-list", "get"): "tracklets"}


def _routes(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            yield from _routes(p.url_patterns, prefix + str(p.pattern), ns)
            continue
        assert isinstance(p, URLPattern)
        if namespace == "admin":
            yield "admin:*", "get"
            continue
        callback = p.callback
        actions = getattr(callback, "actions", None)
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if actions:
            methods = sorted(m for m in actions if m != "head")
        elif cls is not None:
            methods = sorted(m for m in cls.http_method_names if hasattr(cls, m) and m not in ("options", "head"))
        else:
            methods = ["get"]
        for method in methods:
            yield p.name or prefix + str(p.pattern), method


def test_every_route_and_message_is_declared() -> None:
    routes = set(_routes(get_resolver().url_patterns))
    undeclared = sorted(routes - set(RULES))
    assert not undeclared, f"routes without an entry in the permission table: {undeclared}"
    stale = sorted(set(RULES) - routes)
    assert not stale, f"entries for routes that no longer exist: {stale}"
    assert set(EventsConsumer.MESSAGE_TYPES) == set(MESSAGES), "websocket messages without an entry"


def _member_can(persona: str, case: str, capability: str) -> bool | None:
    """True/False for a member; None when the persona is not a member of that case."""
    role = ROLES.get(persona, {}).get(case)
    if role is None:
        return None
    return capability in CAPS[role]


def expected(rule: Rule, persona: str, case: str) -> int:
    signed_in = persona not in ("anonymous", "inactive")
    if rule.kind is Kind.PUBLIC:
        return rule.ok
    if rule.kind is Kind.ADMIN_SITE:
        return 200 if persona in ADMINS else 302
    if rule.kind is Kind.ADMIN_PAGE:
        return 302 if not signed_in else rule.ok if persona in ADMINS else 403
    if rule.kind in (Kind.PAGE, Kind.CASE_PAGE):
        if not signed_in:
            return 302
        if rule.kind is Kind.PAGE:
            return rule.ok
        return rule.ok if _member_can(persona, case, "view") else 404
    if not signed_in:
        return 403
    if rule.kind is Kind.API_ROLE:
        return rule.ok
    if rule.kind is Kind.API_ADMIN:
        return rule.ok if persona in ADMINS else 403
    member = _member_can(persona, case, rule.capability)
    if rule.kind is Kind.API_CASE_DETAIL:
        return rule.ok if member is not None or persona in ADMINS else 404
    if persona in ADMINS and rule.capability in ADMIN_CAPS and (rule.admin_without_membership or member is not None):
        return rule.ok
    if member is None:
        return 404
    return rule.ok if member else 403


def _user(name: str, *, role: str = INVESTIGATOR_GROUP, active: bool = True) -> User:
    user = User.objects.create(username=name, is_active=active, is_staff=role == ADMIN_GROUP,
                               is_superuser=role == ADMIN_GROUP)
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def build_world(settings: Any) -> World:
    users: dict[str, User | None] = {"anonymous": None}
    for persona in PERSONAS[1:]:
        users[persona] = _user(persona, role=ADMIN_GROUP if persona in ADMINS else INVESTIGATOR_GROUP,
                               active=persona != "inactive")
    until = timezone.localdate() + dt.timedelta(days=30)
    lead_b = _user("lead_b")
    cases = {
        OWN: Case.objects.create(title="Own", reference="OWN-1", purpose="p", retention_until=until),
        FOREIGN: Case.objects.create(title="Foreign", reference="FOR-1", purpose="p", retention_until=until),
    }
    for persona, roles in ROLES.items():
        for which, role in roles.items():
            CaseMember.objects.create(case=cases[which], user=users[persona], role=role)
    CaseMember.objects.create(case=cases[FOREIGN], user=lead_b, role="lead")
    gallery = Gallery.objects.create(name="Town")
    camera = Camera.objects.create(name="Gate", gallery=gallery)
    idle_camera = Camera.objects.create(name="Unused")
    videos, tracklets, searches = {}, {}, {}
    rng = np.random.default_rng(0)
    base = dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC)
    for which, case in cases.items():
        video = Video.objects.create(camera=camera, original_name=f"{which}.mp4", size_bytes=1, recorded_at=base,
                                     status="done")
        CaseVideo.objects.create(case=case, video=video)
        video.proxy_path.parent.mkdir(parents=True, exist_ok=True)
        video.proxy_path.write_bytes(b"\x00\x00\x00\x18ftypmp42")
        vector = rng.normal(size=8).astype(np.float32)
        vector /= np.linalg.norm(vector)
        tracklet = Tracklet.objects.create(
            video=video, camera=camera, track_id=1, start_s=0, end_s=2, start_time=base,
            end_time=base + dt.timedelta(seconds=2), num_frames=4, appearance_embedding=vector.tobytes(), appearance_embedder="test")
        tracklet.thumbnail_path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.zeros((8, 4, 3), np.uint8)).save(tracklet.thumbnail_path, format="JPEG")
        searches[which] = SearchRecord.objects.create(user=lead_b, case=case, query_description="x",
                                                      params={"tracklet": tracklet.pk, "k": 5})
        videos[which], tracklets[which] = video, tracklet
    far_camera = Camera.objects.create(name="Far")
    plan = plan_create(name="Site", width_m=50.0, upload=SimpleUploadedFile("site.png", _png().getvalue()))
    extra = {"gallery": Gallery.objects.create(name="Spare"), "idle_camera": idle_camera,
             "member_own": users["investigator"], "member_foreign": users["outsider"], "plan": plan,
             "far_camera": far_camera, "walking": WalkingTime.objects.create(camera_a=camera, camera_b=far_camera,
                                                                             seconds=60)}
    return World(users=users, cases=cases, videos=videos, tracklets=tracklets, searches=searches, camera=camera,
                 spare=_user("spare"), extra=extra)


def _send(client: Client, method: str, rule: Rule, path: str, data: Any, extra: dict[str, Any]) -> Any:
    call = getattr(client, method)
    if data is None:
        return call(path, **extra)
    if rule.fmt == "json":
        return call(path, data, content_type="application/json", **extra)
    if rule.fmt == "raw":
        return call(path, data, content_type="application/octet-stream", **extra)
    if rule.fmt == "multipart" or (rule.fmt == "form" and method == "post"):
        return call(path, data, **extra)
    return call(path, data, **extra)


class _Rollback(Exception):
    pass


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(RULES), ids=lambda k: f"{k[1].upper()} {k[0]}")
def test_route_answers_each_persona_as_declared(key: tuple[str, str], settings: Any) -> None:
    rule = RULES[key]
    world = build_world(settings)
    wrong: list[str] = []
    for persona in PERSONAS:
        for which in (OWN, FOREIGN):
            client = Client(REMOTE_ADDR="10.9.8.7")
            user = world.users[persona]
            if user is not None:
                client.force_login(user)
            path, data, extra = rule.request(world, which)
            want = expected(rule, persona, which)
            try:
                # Each request runs on the same world: whatever it changes is rolled back.
                with transaction.atomic():
                    response = _send(client, key[1], rule, path, data, extra)
                    got = response.status_code
                    if response.streaming:
                        body = b"".join(response.streaming_content)[:300]
                        # Not response.close(): that sends request_finished, which drops the
                        # connection of a test transaction on PostgreSQL.
                        stream = getattr(response, "file_to_stream", None)
                        if stream is not None:
                            stream.close()
                    else:
                        body = response.content[:300]
                    if key in LIST_SCOPED and got == 200:
                        visible = {row.get("id", row.get("tracklet")) for row in response.json()["results"]}
                        attr = getattr(world, LIST_SCOPED[key])
                        allowed = {attr[c].pk for c in (OWN, FOREIGN) if _member_can(persona, c, "view")}
                        if visible != allowed:
                            wrong.append(f"{persona}: list shows {sorted(visible)}, expected {sorted(allowed)}")
                    raise _Rollback
            except _Rollback:
                pass
            if got != want:
                wrong.append(f"{persona} on {which} case: {key[1].upper()} {path} -> {got}, expected {want} ({body!r})")
            if want == 404 and got == 404 and key[0] not in ("case-videos",):
                # Not found must not say more than not found.
                assert b"forbidden" not in body.lower()
    assert not wrong, "\n".join(wrong)


# ---- websocket messages ----

def _ws_message(kind: str, world: World, which: str) -> dict[str, Any]:
    if kind == "ingest.subscribe":
        return {"type": kind, "videos": [world.videos[which].pk]}
    if kind == "search.start":
        return {"type": kind, "case": world.cases[which].pk, "justification": "matrix",
                "tracklet": world.tracklets[which].pk, "k": 3}
    return {"type": kind}


# For each message: the capability it needs on the case of its objects, or None for one that
# concerns only the user's own events.
MESSAGES: dict[str, str | None] = {"ingest.subscribe": "view", "search.start": "search", "search.subscribe": None}


@pytest.mark.django_db(transaction=True)
def test_websocket_messages_answer_each_persona_as_declared(settings: Any) -> None:
    from celery import current_app
    from channels.testing import WebsocketCommunicator

    world = build_world(settings)
    current_app.conf.task_always_eager = True
    wrong: list[str] = []

    async def talk(user: Any, message: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
        socket = WebsocketCommunicator(EventsConsumer.as_asgi(), "/ws/events/")
        socket.scope["user"] = user
        socket.scope["client"] = ("10.9.8.7", 5000)
        connected, _ = await socket.connect()
        if not connected:
            return False, None
        await socket.send_json_to(message)
        # Every message is answered: an acknowledgement, search.started, or an error.
        reply = await socket.receive_json_from(timeout=10)
        await socket.disconnect()
        return True, reply

    try:
        for kind, capability in MESSAGES.items():
            for persona in PERSONAS:
                for which in (OWN, FOREIGN):
                    user = world.users[persona]
                    connected, reply = async_to_sync(talk)(user if user is not None else _anon(),
                                                           _ws_message(kind, world, which))
                    signed_in = persona not in ("anonymous", "inactive")
                    if not signed_in:
                        if connected:
                            wrong.append(f"{persona}: socket accepted")
                        continue
                    allowed = True if capability is None else bool(_member_can(persona, which, capability))
                    refused = reply is not None and reply.get("type") == "error"
                    if allowed == refused:
                        wrong.append(f"{kind} by {persona} on {which} case: reply {reply}")
                    if refused and _member_can(persona, which, "view") is None:
                        assert "no such" in reply["detail"], reply
    finally:
        current_app.conf.task_always_eager = False
    assert not wrong, "\n".join(wrong)


def _anon() -> Any:
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()
