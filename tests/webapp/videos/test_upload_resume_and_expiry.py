"""Unfinished uploads: their state read back to resume them, the case page's list of them, and the
expiry that deletes the abandoned ones (bytes, rows, links) with a ledger record in each case."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from tests.webapp.factories import join_case, the_case
from webapp.accounts.services import user_create_with_role
from webapp.audit.ledger import audit_verify
from webapp.audit.models import AuditEntry
from webapp.cases.models import CaseVideo
from webapp.cases.services import case_create
from webapp.videos.models import Video
from webapp.videos.uploads import HEAD_BYTES, uploads_expire

pytestmark = pytest.mark.django_db

WHEN = "2026-11-02T09:00:00Z"


def _open(client: Any, camera: Any, name: str, size: int) -> int:
    body = {"case": the_case().pk, "camera": camera.pk, "recorded_at": WHEN, "filename": name, "size": size}
    resp = client.post("/api/videos/", body, format="json")
    assert resp.status_code == 201, resp.json()
    return int(resp.json()["id"])


def _put(client: Any, video_id: int, data: bytes, start: int, total: int) -> Any:
    return client.generic(
        "PUT", f"/api/videos/{video_id}/content/", data, content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=f"bytes {start}-{start + len(data) - 1}/{total}",
    )


def _age(video_id: int, hours: float) -> None:
    """Make an upload look idle for ``hours``: created then, its file last written then."""
    then = timezone.now() - timedelta(hours=hours)
    Video.objects.filter(pk=video_id).update(created_at=then)
    path = Video.objects.get(pk=video_id).file_path
    os.utime(path, (then.timestamp(), then.timestamp()))


def _media_files() -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def test_the_state_of_an_upload_names_its_offset_and_the_hash_of_its_first_bytes(
    client_for: Callable[..., Any], investigator: Any, camera: Any
) -> None:
    client = client_for(investigator)
    data = os.urandom(HEAD_BYTES + 4096)
    video_id = _open(client, camera, "gate.mp4", len(data))
    assert _put(client, video_id, data[:1000], 0, len(data)).status_code == 200
    state = client.get(f"/api/videos/{video_id}/content/").json()
    assert state["status"] == "uploading"
    assert (state["name"], state["size"], state["offset"]) == ("gate.mp4", len(data), 1000)
    assert state["head_bytes"] == 1000
    assert state["head_sha256"] == hashlib.sha256(data[:1000]).hexdigest()
    assert state["expires_at"] is not None
    # More than the head arrived: the hash covers the first HEAD_BYTES only.
    assert _put(client, video_id, data[1000 : HEAD_BYTES + 10], 1000, len(data)).status_code == 200
    state = client.get(f"/api/videos/{video_id}/content/").json()
    assert state["head_bytes"] == HEAD_BYTES
    assert state["head_sha256"] == hashlib.sha256(data[:HEAD_BYTES]).hexdigest()
    # Someone outside the case gets the same answer as for no upload at all.
    outsider = user_create_with_role(username="olga", password="pw-olga-123", role="investigator")
    assert client_for(outsider).get(f"/api/videos/{video_id}/content/").status_code == 404


def test_the_case_page_lists_only_my_unfinished_uploads(
    client_for: Callable[..., Any], investigator: Any, camera: Any
) -> None:
    mine = _open(client_for(investigator), camera, "mine.mp4", 5000)
    colleague = join_case(user_create_with_role(username="cora", password="pw-cora-123", role="investigator"))
    theirs = _open(client_for(colleague), camera, "theirs.mp4", 5000)
    assert _put(client_for(investigator), mine, b"x" * 1250, 0, 5000).status_code == 200
    client = client_for(investigator)
    client.force_login(investigator)
    html = client.get(f"/cases/{the_case().pk}/").content.decode()
    assert f'data-video="{mine}" data-name="mine.mp4" data-size="5000" data-offset="1250"' in html
    assert "25% of" in html
    assert f'data-video="{theirs}" data-name' not in html


def test_expiry_deletes_abandoned_uploads_with_their_bytes_and_links_and_records_each_in_the_ledger(
    client_for: Callable[..., Any], investigator: Any, camera: Any
) -> None:
    client = client_for(investigator)
    abandoned = _open(client, camera, "abandoned.mp4", 9000)
    assert _put(client, abandoned, b"a" * 3000, 0, 9000).status_code == 200
    # The same footage also collected into a second case: both ledgers hear of its deletion.
    other = case_create(user=investigator, title="Second", reference="SECOND-1", purpose="p",
                        retention_until=timezone.localdate() + timedelta(days=30))
    CaseVideo.objects.create(case=other, video_id=abandoned)
    untouched = _open(client, camera, "never-sent.mp4", 9000)
    active = _open(client, camera, "active.mp4", 9000)
    assert _put(client, active, b"b" * 3000, 0, 9000).status_code == 200
    old_but_busy = _open(client, camera, "busy.mp4", 9000)
    hours = settings.LONGVIEW["UPLOAD_EXPIRY_HOURS"]
    _age(abandoned, hours + 1)
    _age(untouched, hours + 2)
    _age(active, hours - 1)
    # Opened long ago, but a chunk arrived just now: not abandoned.
    _age(old_but_busy, hours + 5)
    assert _put(client, old_but_busy, b"c" * 10, 0, 9000).status_code == 200
    Video.objects.filter(pk=old_but_busy).update(created_at=timezone.now() - timedelta(hours=hours + 5))

    doomed = {Video.objects.get(pk=pk).file_path for pk in (abandoned, untouched)}
    files_before = _media_files()
    assert len(files_before) == 4
    assert Video.objects.count() == 4
    assert CaseVideo.objects.count() == 5
    ledger_before = AuditEntry.objects.count()

    out = StringIO()
    call_command("expire_uploads", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert sorted(report["videos"]) == sorted([abandoned, untouched])
    assert report["bytes_deleted"] == 3000

    assert set(Video.objects.values_list("pk", flat=True)) == {active, old_but_busy}
    assert CaseVideo.objects.count() == 2
    after = _media_files()
    assert files_before - after == doomed
    assert len(after) == 2
    records = list(AuditEntry.objects.filter(action="upload.expire").order_by("seq"))
    assert AuditEntry.objects.count() == ledger_before + 3
    assert sorted((r.case_id, r.object_ids[0]) for r in records) == sorted(
        [(the_case().pk, abandoned), (other.pk, abandoned), (the_case().pk, untouched)])
    first = next(r for r in records if r.object_ids == [abandoned] and r.case_id == other.pk)
    assert first.details["received_bytes"] == 3000
    assert first.details["name"] == "abandoned.mp4"
    assert audit_verify().ok

    # A second run finds nothing more to delete.
    assert uploads_expire().videos == []
    # Completing an upload is what keeps it for good: a finished video is never expired.
    Video.objects.filter(pk=active).update(status="queued", created_at=timezone.now() - timedelta(days=30))
    _age(active, hours + 1)
    Video.objects.filter(pk=active).update(status="queued")
    assert uploads_expire().videos == []
    assert Video.objects.filter(pk=active).exists()


def test_the_expiry_time_is_a_setting(settings: Any, client_for: Callable[..., Any], investigator: Any,
                                      camera: Any) -> None:
    video = _open(client_for(investigator), camera, "short.mp4", 100)
    _age(video, 2)
    settings.LONGVIEW = {**settings.LONGVIEW, "UPLOAD_EXPIRY_HOURS": 3.0}
    assert uploads_expire().videos == []
    settings.LONGVIEW = {**settings.LONGVIEW, "UPLOAD_EXPIRY_HOURS": 1.5}
    assert uploads_expire().videos == [video]
