"""The export API and the worker's failures, on footage made with the ORM: who may ask for a package
(a lead), who may follow it and download it, and that a build that breaks ends as failed with a
reason and leaves no file."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from django.core.management import call_command

from tests.webapp.subjects.exporting import (
    CaseWorld,
    case_with_lead,
    member,
    members_of,
    orm_video,
    run_export,
    subject_of,
)
from webapp.accounts.services import user_create_with_role
from webapp.audit.models import Action, AuditEntry
from webapp.cameras.models import Camera, SitePlan
from webapp.cases.models import Case
from webapp.subjects import package
from webapp.subjects.exports import export_run
from webapp.subjects.models import EvidenceExport, Subject
from webapp.tracklets.models import Tracklet

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None) -> CaseWorld:
    return case_with_lead()


@pytest.fixture
def subject(world: CaseWorld) -> Subject:
    _, tracklet = orm_video(world)
    return subject_of(world, [tracklet])


def _post(client: Any, subject_id: int, body: Any) -> Any:
    return client.post(f"/api/subjects/{subject_id}/exports/", body, format="json")


def test_a_lead_asks_for_a_package_and_the_task_is_queued_once_the_request_commits(
    world: CaseWorld, subject: Subject, client_for: Callable[..., Any], django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(client_for(world.lead), subject.pk, {"redact": True})
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["subject"], body["status"], body["redact"], body["download"]) == (subject.pk, "queued", True, None)
    assert len(callbacks) == 2
    export = EvidenceExport.objects.get(pk=body["id"])
    assert export.requested_by == world.lead
    detail = client_for(world.lead).get(f"/api/exports/{export.pk}/")
    assert detail.status_code == 200
    assert detail.json()["status"] == "queued"
    # Not done yet: no download, and the same answer as for an export that does not exist.
    early = client_for(world.lead).get(f"/api/exports/{export.pk}/download")
    assert early.status_code == 404
    assert "detail" in early.json()


def test_who_may_export_follow_and_download(
    world: CaseWorld, subject: Subject, client_for: Callable[..., Any], django_capture_on_commit_callbacks: Any,
) -> None:
    viewer = member(world.case, "vera", "viewer")
    investigator = member(world.case, "ivan", "investigator")
    stranger = case_with_lead("OTHER-1", "olga").lead
    admin = user_create_with_role(username="adam", password="pw-adam-123", role="admin")
    for user, code in ((viewer, 403), (investigator, 403), (stranger, 404), (admin, 404)):
        response = _post(client_for(user), subject.pk, {})
        assert response.status_code == code, (user.username, response.json())
        assert "detail" in response.json()
    assert _post(client_for(world.lead), 999999, {}).status_code == 404
    with django_capture_on_commit_callbacks(execute=False):
        export_id = _post(client_for(world.lead), subject.pk, {}).json()["id"]
    export = EvidenceExport.objects.get(pk=export_id)
    export.file_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(export.file_path, "w") as archive:
        archive.writestr("manifest.json", "{}")
    EvidenceExport.objects.filter(pk=export_id).update(status="done", sha256="ab" * 32)
    # Every member follows the export; only a lead downloads it; outsiders get 404 for both.
    for user, code in ((viewer, 200), (investigator, 200), (world.lead, 200), (stranger, 404), (admin, 404)):
        assert client_for(user).get(f"/api/exports/{export_id}/").status_code == code, user.username
    missing = client_for(stranger).get(f"/api/exports/{export_id}/download")
    nonexistent = client_for(stranger).get("/api/exports/999999/download")
    assert missing.status_code == nonexistent.status_code == 404
    assert missing.json() == nonexistent.json()
    assert client_for(investigator).get(f"/api/exports/{export_id}/download").status_code == 403
    before = AuditEntry.objects.filter(action=Action.EXPORT).count()
    response = client_for(world.lead).get(f"/api/exports/{export_id}/download")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == f'attachment; filename="evidence-EV-1-subject{subject.pk}-export{export_id}.zip"'
    assert b"".join(response.streaming_content) == export.file_path.read_bytes()
    assert AuditEntry.objects.filter(action=Action.EXPORT).count() == before + 1
    # A closed case still allows its lead to export.
    Case.objects.filter(pk=world.case.pk).update(status="closed")
    with django_capture_on_commit_callbacks(execute=False):
        assert _post(client_for(world.lead), subject.pk, {"redact": False}).status_code == 202


def test_an_empty_subject_or_a_bad_request_is_refused_with_a_reason(
    world: CaseWorld, client_for: Callable[..., Any]
) -> None:
    _, tracklet = orm_video(world)
    empty = subject_of(world, [], [tracklet])  # only a rejected sighting
    response = _post(client_for(world.lead), empty.pk, {"redact": False})
    assert response.status_code == 400
    assert response.json()["detail"] == "the subject has no confirmed sightings"
    bad = _post(client_for(world.lead), empty.pk, {"redact": "perhaps"})
    assert bad.status_code == 400
    assert bad.json()["detail"].startswith("redact:")
    assert not EvidenceExport.objects.exists()


def test_a_build_whose_source_video_is_gone_fails_with_a_reason_and_leaves_no_file(
    world: CaseWorld, subject: Subject, django_capture_on_commit_callbacks: Any,
) -> None:
    export, events = run_export(world.lead, subject, redact=False, capture=django_capture_on_commit_callbacks)
    assert export.status == "failed"
    assert export.error == "the source video 'gate.mp4' of sighting 1 is missing"
    assert export.finished_at is not None
    assert not export.sha256
    assert [e["status"] for e in events] == ["queued", "running", "running", "failed"]
    assert events[-1]["error"] == export.error
    assert not list(export.file_path.parent.glob("*"))  # no zip, no .part, no work folder
    assert not AuditEntry.objects.filter(action=Action.EXPORT).exists()


def test_a_build_that_crashes_fails_with_a_reason_and_leaves_no_file(
    world: CaseWorld, clip_factory: Callable[..., Path], django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, tracklet = orm_video(world, file_from=clip_factory(0.0, 3.0))
    subject = subject_of(world, [tracklet])
    seen: list[Path] = []

    def broken(source: Path, clip_path: Path, **kwargs: Any) -> Any:
        seen.extend(clip_path.parent.parent.glob("*.part"))  # the zip was being written
        raise RuntimeError("encoder fell over")

    monkeypatch.setattr(package, "cut_sighting", broken)
    with pytest.raises(RuntimeError, match="encoder fell over"):
        run_export(world.lead, subject, redact=True, capture=django_capture_on_commit_callbacks)
    export = EvidenceExport.objects.get(subject=subject)
    assert export.status == "failed"
    assert export.error.startswith("internal error while building the package")
    assert seen
    assert not seen[0].exists()
    assert not list(export.file_path.parent.glob("*"))
    # A redelivered task finds it failed and leaves it so.
    export_run(export_id=export.pk)
    assert EvidenceExport.objects.get(pk=export.pk).status == "failed"


def test_deleting_an_export_deletes_its_package(world: CaseWorld, subject: Subject) -> None:
    export = EvidenceExport.objects.create(subject=subject, requested_by=world.lead)
    export.file_path.parent.mkdir(parents=True, exist_ok=True)
    export.file_path.write_bytes(b"zip")
    subject.delete()
    assert not export.file_path.exists()


def test_the_report_maps_cameras_on_their_site_plan_and_lists_those_without_a_position(
    world: CaseWorld, clip_factory: Callable[..., Path], django_capture_on_commit_callbacks: Any, tmp_path: Path,
) -> None:
    plan_image = np.full((300, 400, 3), 230, np.uint8)
    _, png = cv2.imencode(".png", plan_image)
    plan = SitePlan.objects.create(name="Ground floor", image_type="png", width_px=400, height_px=300)
    plan.file_path.parent.mkdir(parents=True, exist_ok=True)
    plan.file_path.write_bytes(png.tobytes())
    Camera.objects.filter(pk=world.camera.pk).update(plan=plan, plan_x=0.25, plan_y=0.5)
    clip = clip_factory(0.0, 3.0)
    _, on_plan = orm_video(world, file_from=clip)
    world.camera = Camera.objects.create(name="Back door")
    _, nowhere = orm_video(world, file_from=clip)
    Tracklet.objects.filter(pk=nowhere.pk).update(start_time=on_plan.start_time + dt.timedelta(seconds=30),
                                                  end_time=on_plan.end_time + dt.timedelta(seconds=30))
    subject = subject_of(world, [nowhere, on_plan])
    export, _ = run_export(world.lead, subject, redact=False, capture=django_capture_on_commit_callbacks)
    assert export.status == "done", export.error
    members = members_of(export.file_path)
    plan_file = f"plans/ground-floor-{plan.pk}.png"
    assert members[plan_file] == png.tobytes()
    assert plan_file in {f["path"] for f in json.loads(members["manifest.json"])["files"]}
    report = members["report.html"].decode()
    assert f'<image href="{plan_file}"' in report
    assert "Site plan: Ground floor" in report
    assert "No position: Back door." in report
    # Sightings are numbered in time order, whatever order they were confirmed in.
    assert sorted(n for n in members if n.endswith(".mp4"))[0].startswith("sightings/01-east-gate-")
    copy = tmp_path / "package.zip"
    copy.write_bytes(export.file_path.read_bytes())
    out = StringIO()
    call_command("verify_export", str(copy), stdout=out)
    assert out.getvalue().startswith("evidence package intact")
