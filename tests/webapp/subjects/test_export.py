"""Evidence packages built from real ingested footage: what they hold, that verify_export accepts
them and refuses any changed byte, and that redaction hides the other people and not the subject."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import zipfile
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from reid_engine.video import iter_frames, probe_video
from tests.webapp.subjects.exporting import (
    CaseWorld,
    case_with_lead,
    ingested,
    members_of,
    run_export,
    subject_of,
)
from webapp.audit.models import Action, AuditEntry
from webapp.subjects.clips import best_sample, box_at
from webapp.subjects.models import EvidenceExport
from webapp.tracklets.models import Tracklet

pytestmark = [pytest.mark.django_db, pytest.mark.slow, pytest.mark.usefixtures("models_in_data_dir")]


@pytest.fixture
def world(db: None) -> CaseWorld:
    return case_with_lead()


def _verify(path: Path) -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("verify_export", str(path), stdout=out)
    except CommandError as exc:
        return False, str(exc)
    return True, out.getvalue()


def _refusal(path: Path) -> str:
    """What verify_export says is wrong with ``path`` ("" when it accepts it)."""
    ok, said = _verify(path)
    return "" if ok else said


def _flip(path: Path, offset: int, dest: Path) -> Path:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x5A
    dest.write_bytes(bytes(data))
    return dest


def test_a_package_holds_clips_stills_report_and_manifest_and_verifies_until_a_byte_changes(
    world: CaseWorld, clip_factory: Callable[..., Path], django_capture_on_commit_callbacks: Any, tmp_path: Path,
    client_for: Any,
) -> None:
    video = ingested(world, clip_factory(0.0, 4.0))
    people = sorted(Tracklet.objects.filter(video=video), key=lambda t: -len(t.boxes))
    assert len(people) >= 3
    confirmed, rejected = sorted(people[:2], key=lambda t: t.start_time), people[2]
    subject = subject_of(world, confirmed, [rejected])
    export, events = run_export(world.lead, subject, redact=False, capture=django_capture_on_commit_callbacks)

    assert export.status == "done", export.error
    path = export.file_path
    assert not path.with_suffix(".part").exists()
    assert export.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert export.size_bytes == path.stat().st_size
    entry = AuditEntry.objects.get(pk=export.audit_entry_id)
    assert (entry.action, entry.case_id, entry.object_type, entry.object_ids) == (
        Action.EXPORT, world.case.pk, "subject", [subject.pk])
    assert entry.details == {"export": export.pk, "sha256": export.sha256, "sightings": 2, "redacted": False}
    assert entry.username == world.lead.username
    assert entry.client_address == "10.1.2.3"
    # Progress reached the subject's page: queued, running per sighting, done with the sha256.
    statuses = [e["status"] for e in events]
    assert statuses[0] == "queued"
    assert statuses[-1] == "done"
    assert "running" in statuses
    percents = [e["percent"] for e in events if e["status"] == "running"]
    assert percents == sorted(percents)
    assert any(0 < p < 100 for p in percents)
    assert any(e["stage"] == "sighting 2 of 2" for e in events)
    assert events[-1]["sha256"] == export.sha256
    assert events[-1]["percent"] == 100.0

    members = members_of(path)
    manifest = json.loads(members["manifest.json"])
    assert manifest["format"] == "longview-evidence/1"
    assert manifest["case"] == {"id": world.case.pk, "reference": "EV-1", "title": world.case.title}
    assert manifest["subject"] == {"id": subject.pk, "label": subject.label}
    assert (manifest["export"], manifest["generated_by"], manifest["redacted"]) == (export.pk, "lena", False)
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(members) - {"manifest.json"}
    for name, entry_ in listed.items():
        assert entry_["sha256"] == hashlib.sha256(members[name]).hexdigest()
        assert entry_["bytes"] == len(members[name])
    clips = sorted(n for n in members if n.endswith(".mp4"))
    stills = sorted(n for n in members if n.endswith(".jpg"))
    assert [re.sub(r"-east-gate-\d{8}-\d{6}", "", n) for n in clips] == ["sightings/01.mp4", "sightings/02.mp4"]
    assert [n.removesuffix(".jpg") for n in stills] == [n.removesuffix(".mp4") for n in clips]

    # Each clip: H.264 mp4 with its index at the front (plays in a browser at once), full size, and
    # spanning the sighting plus up to 3 s either side within the 4 s of footage.
    for name, tracklet in zip(clips, confirmed, strict=True):
        clip = tmp_path / "clip.mp4"
        clip.write_bytes(members[name])
        info = probe_video(clip)
        assert (info.codec, info.width, info.height) == ("h264", 768, 576)
        assert members[name].find(b"moov") < members[name].find(b"mdat")
        want = min(4.0, tracklet.end_s + 3.0) - max(0.0, tracklet.start_s - 3.0)
        assert abs(info.duration_s - want) < 0.35, (info.duration_s, want)
        assert sum(1 for _ in iter_frames(clip)) >= round(want * 10) - 1
    for name in stills:
        image = cv2.imdecode(np.frombuffer(members[name], np.uint8), cv2.IMREAD_COLOR)
        assert image.shape == (576, 768, 3)

    report = members["report.html"].decode()
    for text in ("EV-1", world.case.title, subject.label, "Seen leaving with the bag.", video.original_name,
                 video.sha256, "lena", "Redaction", "off:", "East gate", "<svg class=\"timeline\"",
                 "Cameras by latitude and longitude", "Outfit 1"):
        assert text in report, text
    assert len(video.sha256) == 64
    for ref in re.findall(r'(?:src|href)="([^"#:]+)"', report):
        assert ref in members, ref  # every picture and link points inside the package
    first_frames = [int(min(b[0] for b in t.boxes)) for t in confirmed]
    assert all(f"<td>{f}–" in report for f in first_frames)

    # The download is the same file, as an attachment, and is recorded.
    response = client_for(world.lead).get(f"/api/exports/{export.pk}/download")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment; filename=\"evidence-EV-1-")
    assert b"".join(response.streaming_content) == path.read_bytes()
    assert AuditEntry.objects.filter(action=Action.EXPORT, details__download=True, details__export=export.pk).exists()

    ok, said = _verify(path)
    assert ok, said
    assert said.startswith("evidence package intact: export")
    assert len(said.strip().splitlines()) == 1
    out = StringIO()
    call_command("verify_export", str(path), "--json", stdout=out)
    assert json.loads(out.getvalue())["ok"] is True

    # A byte changed inside a member (a clip's data) names that file.
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(clips[0])
        comment_at = path.stat().st_size - len(archive.comment)
        central_at = path.read_bytes().rfind(b"PK\x01\x02")
    data_at = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.file_size // 2
    assert f"changed file: {clips[0]}" in _refusal(_flip(path, data_at, tmp_path / "member.zip"))
    # A byte of the zip's comment or of its central directory changes no member, but the package's
    # sha256 is no longer the one the ledger recorded.
    for offset, name in ((comment_at + 3, "comment.zip"), (central_at + 38, "central.zip")):
        assert "is not the one the ledger recorded" in _refusal(_flip(path, offset, tmp_path / name))
    # A file added or taken away is named.
    for extra, name in ((True, "extra.zip"), (False, "missing.zip")):
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / name, "w") as dst:
            for item in src.infolist():
                if extra or item.filename != stills[0]:
                    dst.writestr(item, src.read(item.filename))
            if extra:
                dst.writestr("notes.txt", b"added later")
        assert ("extra file: notes.txt" if extra else f"missing file: {stills[0]}") in _refusal(tmp_path / name)
    # An intact package fails too when the ledger's chain is broken behind the ORM's back.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditentry SET justification = 'edited' WHERE id = %s", [entry.pk])
    assert "the audit ledger is broken at record" in _refusal(path)


def _region_diff(a: np.ndarray, b: np.ndarray, box: tuple[float, float, float, float], inset: int = 0,
                 exclude: tuple[float, float, float, float] | None = None) -> float:
    x1, y1, x2, y2 = (round(v) for v in box)
    mask = np.zeros(a.shape[:2], bool)
    mask[max(0, y1 + inset):max(0, y2 - inset), max(0, x1 + inset):max(0, x2 - inset)] = True
    if exclude is not None:
        ex1, ey1, ex2, ey2 = (round(v) for v in exclude)
        mask[max(0, ey1 - 6):ey2 + 6, max(0, ex1 - 6):ex2 + 6] = False
    assert mask.sum() > 200
    return float(np.abs(a.astype(int) - b.astype(int))[mask].mean())


def _clip_frame(data: bytes, t: float, tmp: Path) -> np.ndarray:
    tmp.write_bytes(data)
    frames = list(iter_frames(tmp))
    return min(frames, key=lambda f: abs(f.pts_s - t)).image


def test_redaction_pixelates_the_other_people_and_not_the_subject(
    world: CaseWorld, clip_factory: Callable[..., Path], django_capture_on_commit_callbacks: Any, tmp_path: Path,
) -> None:
    video = ingested(world, clip_factory(0.0, 4.0))
    people = list(Tracklet.objects.filter(video=video))
    # The subject: a person whose still shows someone else clear of their box.
    chosen = None
    for person in sorted(people, key=lambda t: -len(t.boxes)):
        at = float(best_sample(person.boxes)[1])
        mine = box_at(person.boxes, at)
        for other in people:
            theirs = box_at(other.boxes, at, 0.0) if other.pk != person.pk else None
            if mine and theirs and (theirs[2] < mine[0] - 20 or theirs[0] > mine[2] + 20) \
                    and (theirs[2] - theirs[0]) * (theirs[3] - theirs[1]) > 1500:
                chosen = (person, at, mine, theirs)
                break
        if chosen:
            break
    assert chosen is not None, "no still with another person clear of the subject"
    person, at, mine, theirs = chosen
    subject = subject_of(world, [person])
    plain, _ = run_export(world.lead, subject, redact=False, capture=django_capture_on_commit_callbacks)
    hidden, _ = run_export(world.lead, subject, redact=True, capture=django_capture_on_commit_callbacks)
    assert plain.status == hidden.status == "done", (plain.error, hidden.error)
    assert json.loads(members_of(hidden.file_path)["manifest.json"])["redacted"] is True
    a, b = members_of(plain.file_path), members_of(hidden.file_path)
    assert "on: every other person" in b["report.html"].decode()
    still = next(n for n in a if n.endswith(".jpg"))
    plain_still = cv2.imdecode(np.frombuffer(a[still], np.uint8), cv2.IMREAD_GRAYSCALE)
    hidden_still = cv2.imdecode(np.frombuffer(b[still], np.uint8), cv2.IMREAD_GRAYSCALE)
    other_change = _region_diff(plain_still, hidden_still, theirs, exclude=mine)
    subject_change = _region_diff(plain_still, hidden_still, mine, inset=4)
    assert other_change > 8.0, other_change
    assert subject_change < 1.5, subject_change
    # The same in the clips, at the still's moment (clip times start at the clip's first frame).
    clip = still.replace(".jpg", ".mp4")
    offset = at - max(0.0, person.start_s - 3.0)
    plain_frame = _clip_frame(a[clip], offset, tmp_path / "a.mp4")
    hidden_frame = _clip_frame(b[clip], offset, tmp_path / "b.mp4")
    assert _region_diff(plain_frame, hidden_frame, theirs, exclude=mine) > 8.0
    assert _region_diff(plain_frame, hidden_frame, mine, inset=4) < 3.0
    # Both packages verify; each sha256 is its own ledger record.
    for export in (plain, hidden):
        copy = shutil.copy(export.file_path, tmp_path / f"{export.pk}.zip")
        assert call_command("verify_export", copy, stdout=StringIO()) is None
    assert EvidenceExport.objects.filter(sha256__in=[plain.sha256, hidden.sha256]).count() == 2
