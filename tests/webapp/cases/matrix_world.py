"""The world the permission matrix runs in: personas with their case roles in an own and a foreign
case, and one object of every kind in each case."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from webapp.accounts.roles import ADMIN_GROUP, INVESTIGATOR_GROUP
from webapp.cameras.models import Camera, Gallery, WalkingTime
from webapp.cameras.plans import plan_create
from webapp.cases.models import Case, CaseMember, CaseVideo
from webapp.search.models import SearchRecord
from webapp.subjects.models import Sighting, Subject
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
    "lead": {"view", "upload", "search", "confirm", "manage", "close", "export", "delete"},
    "investigator": {"view", "upload", "search", "confirm"},
    "viewer": {"view"},
}
ADMIN_CAPS = {"manage", "close", "export", "delete"}


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



def member_can(persona: str, case: str, capability: str) -> bool | None:
    """True/False for a member; None when the persona is not a member of that case."""
    role = ROLES.get(persona, {}).get(case)
    if role is None:
        return None
    return capability in CAPS[role]



def _user(name: str, *, role: str = INVESTIGATOR_GROUP, active: bool = True) -> User:
    user = User.objects.create(username=name, is_active=active, is_staff=role == ADMIN_GROUP,
                               is_superuser=role == ADMIN_GROUP)
    user.set_unusable_password()
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role)[0])
    return user


def _png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((120, 200, 3), 200, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


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
    extra: dict[str, Any] = {
        "gallery": Gallery.objects.create(name="Spare"), "idle_camera": idle_camera,
        "member_own": users["investigator"], "member_foreign": users["outsider"], "far_camera": far_camera,
        "plan": plan_create(name="Site", width_m=50.0, upload=SimpleUploadedFile("site.png", _png_bytes())),
        "walking": WalkingTime.objects.create(camera_a=camera, camera_b=far_camera, seconds=60),
    }
    for which, case in cases.items():
        subject = Subject.objects.create(case=case, label=f"subject of {which}", origin="person", created_by=lead_b)
        Sighting.objects.create(subject=subject, tracklet=tracklets[which], decision="confirmed", decided_by=lead_b,
                                decided_at=timezone.now())
        extra[f"subject_{which}"] = subject
    return World(users=users, cases=cases, videos=videos, tracklets=tracklets, searches=searches, camera=camera,
                 spare=_user("spare"), extra=extra)
