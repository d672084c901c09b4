"""Builders the web tests share: a world of cameras and people with known vectors, its brute-force
ranking, users, and reading what was pushed to a websocket channel."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import Group, User
from django.utils import timezone

from webapp.accounts.roles import INVESTIGATOR_GROUP
from webapp.cameras.models import Camera, Gallery
from webapp.cases.models import Case, CaseMember, CaseVideo
from webapp.search.filters import SearchFilters
from webapp.search.shards import DEFAULT_SHARD
from webapp.tracklets.models import Tracklet
from webapp.videos import services as video_services
from webapp.videos.models import Video

BASE = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DIM = 32


def the_case() -> Case:
    """The case the web tests' footage is collected into; their investigators are its members."""
    case, _ = Case.objects.get_or_create(
        reference="T-1",
        defaults={"title": "Tests", "purpose": "automated tests",
                  "retention_until": timezone.localdate() + timedelta(days=365)},
    )
    return case


def join_case(user: User, role: str = "investigator", case: Case | None = None) -> User:
    CaseMember.objects.get_or_create(case=case or the_case(), user=user, defaults={"role": role})
    return user


def in_case(body: dict[str, Any], justification: str = "a test search") -> dict[str, Any]:
    """A search request as the API wants it: in the tests' case, with a reason."""
    return {"case": the_case().pk, "justification": justification, **body}


def case_filters(**kwargs: Any) -> SearchFilters:
    """Search filters of a search run in the tests' case."""
    return SearchFilters(case=the_case().pk, **kwargs)


@dataclass
class World:
    cameras: dict[str, Camera]
    galleries: dict[str, Gallery]
    tracklets: dict[str, list[Tracklet]] = field(default_factory=dict)
    case: Case | None = None

    def shard(self, camera: str) -> int:
        return self.cameras[camera].gallery_id or DEFAULT_SHARD


def build_world(*, per_camera: int = 24, seed: int = 0) -> World:
    """Four cameras in three shards (galleries Station: A, B; Harbour: C; D in none); person i of a
    camera is seen from +i·60 s for 20 s, each camera's people clustered around their own point."""
    rng = np.random.default_rng(seed)
    station = Gallery.objects.create(name="Station")
    harbour = Gallery.objects.create(name="Harbour")
    cameras = {
        "A": Camera.objects.create(name="Station hall", gallery=station),
        "B": Camera.objects.create(name="Station exit", gallery=station),
        "C": Camera.objects.create(name="Harbour gate", gallery=harbour),
        "D": Camera.objects.create(name="Back lane"),
    }
    world = World(cameras=cameras, galleries={"Station": station, "Harbour": harbour}, case=the_case())
    for offset, (name, camera) in enumerate(cameras.items()):
        recorded = BASE + timedelta(hours=offset)
        video = Video.objects.create(
            camera=camera, original_name=f"{name}.mp4", size_bytes=1, recorded_at=recorded, status="done"
        )
        CaseVideo.objects.create(case=world.case, video=video)
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
                    appearance_embedding=vector.tobytes(),
                    appearance_embedder="test",
                )
            )
        Tracklet.objects.bulk_create(rows)
        world.tracklets[name] = list(Tracklet.objects.filter(video=video).order_by("track_id"))
    return world


def passes_filters(t: Tracklet, filters: dict[str, Any]) -> bool:
    """Whether a tracklet passes API filter values (cameras, galleries, from, to), checked by hand."""
    start = datetime.fromisoformat(filters["from"]) if filters.get("from") else None
    end = datetime.fromisoformat(filters["to"]) if filters.get("to") else None
    if filters.get("cameras") and t.camera_id not in filters["cameras"]:
        return False
    if filters.get("galleries") and t.camera.gallery_id not in filters["galleries"]:
        return False
    if start is not None and t.end_time < start:
        return False
    return end is None or t.start_time <= end


def brute_force(query: Tracklet, k: int, filters: dict[str, Any]) -> list[int]:
    """The k best ids by exact inner product over every database row the filters let through."""
    ids, vectors = [], []
    for t in Tracklet.objects.select_related("camera"):
        if t.pk == query.pk or not passes_filters(t, filters):
            continue
        ids.append(t.pk)
        vectors.append(np.frombuffer(bytes(t.appearance_embedding), dtype=np.float32))
    if not ids:
        return []
    scores = np.stack(vectors).astype(np.float64) @ query.appearance_embedding_array().astype(np.float64)
    order = np.lexsort((np.asarray(ids), -scores))[:k]
    return [ids[i] for i in order]


def api_filters(world: World, spec: dict[str, Any]) -> dict[str, Any]:
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


def make_investigator(username: str = "ivy") -> User:
    """Another investigator of the tests' case, for tests that need more than the ``investigator`` fixture."""
    user = User.objects.create(username=username)
    user.groups.add(Group.objects.get_or_create(name=INVESTIGATOR_GROUP)[0])
    return join_case(user)


def new_channel() -> str:
    """A fresh channel of the test's channel layer, standing in for one socket."""
    return str(async_to_sync(get_channel_layer().new_channel)())


def drain(channel: str) -> list[dict[str, Any]]:
    """Every message pushed to ``channel`` so far, in order."""
    layer = get_channel_layer()
    out: list[dict[str, Any]] = []

    async def pull() -> None:
        while True:
            try:
                message = await asyncio.wait_for(layer.receive(channel), timeout=0.2)
            except TimeoutError:
                return
            out.append(message["message"])

    async_to_sync(pull)()
    return out


def queued_video(camera: Camera, path: Path) -> Video:
    """A video uploaded whole into the tests' case, probed and queued for ingestion (the task itself
    not run)."""
    video = video_services.video_upload_create(
        user=None, camera=camera, filename=path.name, size_bytes=path.stat().st_size, recorded_at=timezone.now(),
        case=the_case(),
    )
    shutil.copyfile(path, video.file_path)
    Video.objects.filter(pk=video.pk).update(upload_offset=video.size_bytes)
    video.refresh_from_db()
    video_services.video_upload_complete(video=video)
    return video
