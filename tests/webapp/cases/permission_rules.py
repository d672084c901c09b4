"""The permission table: for every route and websocket message, who may use it and the request
that exercises it on an object of a given case."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from django.utils import timezone
from PIL import Image

from tests.webapp.cases.matrix_world import FOREIGN, OWN, World
from webapp.subjects.models import EvidenceExport


class Kind(Enum):
    PUBLIC = "anyone, signed in or not"
    PAGE = "a page any signed-in user with a role sees"
    CASE_PAGE = "a page of case content: members only"
    API_ROLE = "API for any active user with a role"
    API_ADMIN = "API writes for admins only"
    API_CASE = "API on case content or administration, by case capability"
    API_CASE_DETAIL = "a case's details: members and admins"
    ADMIN_SITE = "the Django admin: staff only"
    ADMIN_PAGE = "a page for admins: others with a role are refused"



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


def _search_body(w: World, c: str) -> tuple[str, Any, dict[str, Any]]:
    return "/api/search/", {"case": w.cases[c].pk, "justification": "matrix", "tracklet": w.tracklets[c].pk, "k": 5}, {}


def _photo_body(w: World, c: str) -> tuple[str, Any, dict[str, Any]]:
    return "/api/search/image/", {"case": w.cases[c].pk, "justification": "matrix", "image": _png()}, {}


def _plan_body(w: World, c: str) -> tuple[str, Any, dict[str, Any]]:
    return "/api/plans/", {"name": "New plan", "image": _png()}, {}


def _upload_body(w: World, c: str) -> tuple[str, Any, dict[str, Any]]:
    body = {"case": w.cases[c].pk, "camera": w.camera.pk, "recorded_at": "2026-11-02T09:00:00Z",
            "filename": "more.mp4", "size": 10}
    return "/api/videos/", body, {}


def _export_world(w: World, c: str) -> EvidenceExport:
    """A finished export of the case's subject (made once per world, outside the request's
    rolled-back transaction)."""
    key = f"export_{c}"
    if key not in w.extra:
        export = EvidenceExport.objects.create(subject=w.extra["subject_" + c], status=EvidenceExport.Status.DONE,
                                               sha256="0" * 64)
        export.file_path.parent.mkdir(parents=True, exist_ok=True)
        export.file_path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
        w.extra[key] = export
    return w.extra[key]


def _subject(w: World, c: str) -> str:
    return f"/api/subjects/{w.extra['subject_' + c].pk}/"


SUBJECT_RULES: dict[tuple[str, str], Rule] = {
    ("subject-page", "get"): Rule(Kind.CASE_PAGE, request=lambda w, c: (
        f"/subjects/{w.extra['subject_' + c].pk}/", None, {})),
    ("subject-list", "get"): Rule(Kind.API_ROLE, request=_p("/api/subjects/")),
    ("subject-list", "post"): Rule(Kind.API_CASE, ok=201, capability="confirm", request=lambda w, c: (
        "/api/subjects/", {"case": w.cases[c].pk, "label": "new", "tracklet": w.tracklets[c].pk}, {})),
    ("subject-detail", "get"): Rule(Kind.API_CASE, request=lambda w, c: (_subject(w, c), None, {})),
    ("subject-detail", "patch"): Rule(Kind.API_CASE, capability="confirm",
                                      request=lambda w, c: (_subject(w, c), {"notes": "seen twice"}, {})),
    ("subject-detail", "delete"): Rule(Kind.API_CASE, ok=204, capability="manage",
                                       request=lambda w, c: (_subject(w, c), None, {})),
    ("subject-sightings", "post"): Rule(Kind.API_CASE, capability="confirm", request=lambda w, c: (
        _subject(w, c) + "sightings/", {"tracklet": w.tracklets[c].pk, "decision": "rejected"}, {})),
    ("subject-sighting", "delete"): Rule(Kind.API_CASE, capability="confirm", request=lambda w, c: (
        _subject(w, c) + f"sightings/{w.tracklets[c].pk}/", None, {})),
    ("subject-search", "post"): Rule(Kind.API_CASE, capability="search", request=lambda w, c: (
        _subject(w, c) + "search/", {"justification": "matrix", "k": 3}, {})),
    # Evidence packages are case content: a lead (or an admin member) exports and downloads; every
    # member follows an export; an admin outside the case gets 404.
    ("subject-exports", "post"): Rule(Kind.API_CASE, ok=202, capability="export", request=lambda w, c: (
        f"/api/subjects/{_export_world(w, c).subject_id}/exports/", {"redact": True}, {})),
    ("export-detail", "get"): Rule(Kind.API_CASE, request=lambda w, c: (
        f"/api/exports/{_export_world(w, c).pk}/", None, {})),
    ("export-download", "get"): Rule(Kind.API_CASE, capability="export", request=lambda w, c: (
        f"/api/exports/{_export_world(w, c).pk}/download", None, {})),
}

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
    ("attributes", "get"): Rule(Kind.API_ROLE, request=_p("/api/attributes/")),
    ("camera-list", "get"): Rule(Kind.API_ROLE, request=_p("/api/cameras/")),
    ("camera-list", "post"): Rule(Kind.API_ADMIN, ok=201, request=lambda w, c: ("/api/cameras/", {"name": "New"}, {})),
    ("camera-detail", "get"): Rule(Kind.API_ROLE, request=lambda w, c: (f"/api/cameras/{w.camera.pk}/", None, {})),
    ("camera-detail", "put"): Rule(Kind.API_ADMIN,
                                   request=lambda w, c: (f"/api/cameras/{w.camera.pk}/", {"name": "Renamed"}, {})),
    ("camera-detail", "patch"): Rule(Kind.API_ADMIN,
                                     request=lambda w, c: (f"/api/cameras/{w.camera.pk}/", {"location": "x"}, {})),
    ("camera-detail", "delete"): Rule(Kind.API_ADMIN, ok=204, request=lambda w, c: (
        f"/api/cameras/{w.extra['idle_camera'].pk}/", None, {})),
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
    ("video-content", "get"): Rule(Kind.API_CASE, capability="upload", request=lambda w, c: (
        f"/api/videos/{w.videos[c].pk}/content/", None, {})),
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
    **SUBJECT_RULES,
}

# Lists are answered for everyone with a role, but hold only what the user's cases hold.
LIST_SCOPED = {("video-list", "get"): "videos", ("tracklet-list", "get"): "tracklets"}



def ws_message(kind: str, world: World, which: str) -> dict[str, Any]:
    if kind == "ingest.subscribe":
        return {"type": kind, "videos": [world.videos[which].pk]}
    if kind == "search.start":
        return {"type": kind, "case": world.cases[which].pk, "justification": "matrix",
                "tracklet": world.tracklets[which].pk, "k": 3}
    if kind == "subject.subscribe":
        return {"type": kind, "subject": world.extra["subject_" + which].pk}
    if kind == "subject.search":
        return {"type": kind, "subject": world.extra["subject_" + which].pk, "justification": "matrix", "k": 3}
    return {"type": kind}


# For each message: the capability it needs on the case of its objects, or None for one that
# concerns only the user's own events.
MESSAGES: dict[str, str | None] = {
    "ingest.subscribe": "view", "search.start": "search", "search.subscribe": None,
    "subject.subscribe": "view", "subject.search": "search",
}

