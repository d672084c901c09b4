"""Builders the export tests share: a case with its lead, footage ingested for real or made with the
ORM, a subject with confirmed sightings, and running an export to the end in-process."""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.auth.models import User
from django.utils import timezone

from tests.webapp.factories import drain, new_channel
from webapp.accounts.services import user_create_with_role
from webapp.cameras.models import Camera
from webapp.cases.models import Case, CaseMember
from webapp.cases.services import case_create
from webapp.core.events import subject_group
from webapp.ingest.services import video_ingest_run
from webapp.subjects import exports
from webapp.subjects.models import EvidenceExport, Sighting, Subject
from webapp.tracklets.models import Tracklet
from webapp.videos import services as video_services
from webapp.videos.models import Video

RECORDED = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@dataclass
class CaseWorld:
    case: Case
    lead: User
    camera: Camera


def case_with_lead(reference: str = "EV-1", username: str = "lena") -> CaseWorld:
    lead = user_create_with_role(username=username, password=f"pw-{username}-123", role="investigator")
    case = case_create(user=lead, title="Robbery at the east gate", reference=reference, purpose="robbery inquiry",
                       retention_until=timezone.localdate() + dt.timedelta(days=90))
    camera, _ = Camera.objects.get_or_create(name="East gate", defaults={"latitude": 51.5007, "longitude": -0.1246})
    return CaseWorld(case=case, lead=lead, camera=camera)


def member(case: Case, username: str, role: str) -> User:
    user = user_create_with_role(username=username, password=f"pw-{username}-123", role="investigator")
    CaseMember.objects.create(case=case, user=user, role=role)
    return user


def ingested(world: CaseWorld, clip: Path) -> Video:
    """``clip`` uploaded into the case (sha256 kept) and ingested with the real models."""
    video = video_services.video_upload_create(
        user=world.lead, camera=world.camera, filename=clip.name, size_bytes=clip.stat().st_size,
        recorded_at=RECORDED, case=world.case,
    )
    shutil.copyfile(clip, video.file_path)
    Video.objects.filter(pk=video.pk).update(upload_offset=video.size_bytes)
    video.refresh_from_db()
    video_services.video_upload_complete(video=video)
    video_ingest_run(video_id=video.pk)
    video.refresh_from_db()
    assert video.status == "done", video.error
    return video


def orm_video(world: CaseWorld, *, file_from: Path | None = None) -> tuple[Video, Tracklet]:
    """A video row (with ``file_from`` copied in as its file, else none) and one person in it."""
    video = Video.objects.create(camera=world.camera, original_name="gate.mp4", size_bytes=1, recorded_at=RECORDED,
                                 status="done")
    video.case_links.create(case=world.case)
    if file_from is not None:
        video.file_path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file_from, video.file_path)
    vector = np.full(8, 1 / np.sqrt(8), np.float32)
    boxes = [[i * 2, i * 0.2, 100.0, 100.0, 160.0, 260.0] for i in range(10)]
    tracklet = Tracklet.objects.create(
        video=video, camera=world.camera, track_id=1, start_s=0.0, end_s=1.8, start_time=RECORDED,
        end_time=RECORDED + dt.timedelta(seconds=1.8), num_frames=10, boxes=boxes,
        appearance_embedding=vector.tobytes(), appearance_embedder="test",
    )
    return video, tracklet


def subject_of(world: CaseWorld, confirmed: Sequence[Tracklet], rejected: Sequence[Tracklet] = (),
               label: str = "Man in the grey coat") -> Subject:
    subject = Subject.objects.create(case=world.case, label=label, notes="Seen leaving with the bag.\nWitness 2.",
                                     origin=Subject.Origin.PERSON, created_by=world.lead)
    for tracklet in confirmed:
        Sighting.objects.create(subject=subject, tracklet=tracklet, decision=Sighting.Decision.CONFIRMED,
                                decided_by=world.lead, decided_at=timezone.now())
    for tracklet in rejected:
        Sighting.objects.create(subject=subject, tracklet=tracklet, decision=Sighting.Decision.REJECTED,
                                decided_by=world.lead, decided_at=timezone.now())
    return subject


def run_export(user: Any, subject: Subject, *, redact: bool, capture: Any) -> tuple[EvidenceExport, list[dict[str, Any]]]:
    """Ask for an export as the API does, run the worker's side in-process, and return the export
    with every event pushed to the subject's page."""
    channel = new_channel()
    async_to_sync(get_channel_layer().group_add)(subject_group(subject.pk), channel)
    with capture(execute=False) as callbacks:
        export = exports.export_start(user=user, subject_id=subject.pk, redact=redact, client_address="10.1.2.3")
    assert len(callbacks) == 2  # the "queued" event and the task, both once the request commits
    callbacks[0]()
    exports.export_run(export_id=export.pk, client_address="10.1.2.3")
    export.refresh_from_db()
    return export, drain(channel)


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
