"""Deleting a case, or its retention date passing, leaves nothing of its footage behind: no rows, no
files, no index entries in any shard of either lane; footage another live case holds stays."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from reid_engine.index import load_snapshot
from webapp.accounts.services import user_create_with_role
from webapp.audit.ledger import audit_verify
from webapp.audit.models import AuditEntry
from webapp.cases.models import Case, CaseMember, CaseVideo
from webapp.cases.services import case_create, case_member_add, case_video_add
from webapp.ingest.services import video_ingest_run
from webapp.search.models import SearchRecord
from webapp.search.serializers import search_query_from
from webapp.search.services import search_now
from webapp.tracklets.models import Tracklet
from webapp.videos import services
from webapp.videos.models import Video

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _models_in_data_dir(settings: Any, data_dir: Path) -> None:
    settings.DATA_DIR = data_dir


def _ingested(camera: Any, path: Path, case: Case, user: Any) -> Video:
    video = services.video_upload_create(
        user=user, camera=camera, filename=path.name, size_bytes=path.stat().st_size, recorded_at=timezone.now(),
        case=case,
    )
    shutil.copyfile(path, video.file_path)
    Video.objects.filter(pk=video.pk).update(upload_offset=video.size_bytes)
    video.refresh_from_db()
    services.video_upload_complete(video=video)
    video_ingest_run(video_id=video.pk)
    video.refresh_from_db()
    assert video.status == "done", video.error
    assert video.tracklets.exists()
    return video


def _files() -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def _index_ids() -> set[int]:
    ids: set[int] = set()
    for path in Path(settings.INDEX_DIR).glob("*.faiss"):
        ids |= {int(i) for i in load_snapshot(path).ids()}
    return ids


def _lanes_indexed() -> set[str]:
    return {p.name.split("-")[0] for p in Path(settings.INDEX_DIR).glob("*.faiss")}


def test_deleting_a_case_and_then_retention_leave_zero_rows_files_and_index_entries(
    camera: Any, clip_factory: Callable[..., Path], django_capture_on_commit_callbacks: Any, client_for: Any
) -> None:
    lead = user_create_with_role(username="lee", password="pw-lee-123", role="investigator")
    other = user_create_with_role(username="ola", password="pw-ola-123", role="investigator")
    soon = timezone.localdate() + dt.timedelta(days=30)
    case_a = case_create(user=lead, title="A", reference="A-1", purpose="theft", retention_until=soon)
    case_b = case_create(user=other, title="B", reference="B-1", purpose="assault", retention_until=soon)
    case_member_add(case=case_b, actor=other, user_id=lead.pk, role="lead")
    only_a = _ingested(camera, clip_factory(0.0, 4.0), case_a, lead)
    shared = _ingested(camera, clip_factory(10.0, 4.0), case_a, lead)
    case_video_add(case=case_b, video=shared, user=lead)
    query = Tracklet.objects.filter(video=only_a).first()
    assert query is not None
    search_now(user=lead, query=search_query_from(
        {"case": case_a.pk, "justification": "who else was there", "tracklet": query.pk, "k": 5}))
    photo_dir = Path(settings.MEDIA_ROOT) / "search-photos"

    a_people = set(Tracklet.objects.filter(video=only_a).values_list("pk", flat=True))
    shared_people = set(Tracklet.objects.filter(video=shared).values_list("pk", flat=True))
    files_before = _files()
    assert only_a.file_path in files_before
    assert only_a.proxy_path in files_before
    assert any(str(only_a.storage_key) in str(p) for p in files_before)  # thumbnails
    assert _index_ids() == a_people | shared_people
    assert _lanes_indexed() == {"appearance", "identity"}

    # The lead deletes case A: footage only A held goes; the shared footage stays with case B.
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(lead).delete(f"/api/cases/{case_a.pk}/")
    assert response.status_code == 204
    assert not Video.objects.filter(pk=only_a.pk).exists()
    assert not Tracklet.objects.filter(pk__in=a_people).exists()
    assert not Case.objects.filter(pk=case_a.pk).exists()
    assert not CaseMember.objects.filter(case_id=case_a.pk).exists()
    assert not CaseVideo.objects.filter(case_id=case_a.pk).exists()
    assert not SearchRecord.objects.filter(case_id=case_a.pk).exists()
    left = _files()
    assert not any(str(only_a.storage_key) in str(p) for p in left)
    assert shared.file_path in left
    assert _index_ids() == shared_people
    assert set(Tracklet.objects.values_list("pk", flat=True)) == shared_people

    # Case B's retention runs out: the rest goes too, and the command says what it did.
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("enforce_retention", "--today", (soon + dt.timedelta(days=1)).isoformat(), "--json", stdout=out)
    report = json.loads(out.getvalue())["cases"]
    assert [(r["reference"], r["videos_deleted"]) for r in report] == [("B-1", [shared.pk])]
    assert Video.objects.count() == 0
    assert Tracklet.objects.count() == 0
    assert Case.objects.count() == 0
    assert _files() == set() or all(p.parent == photo_dir for p in _files())
    assert _index_ids() == set()
    assert list(Path(settings.INDEX_DIR).glob("*.faiss")) == []

    # The ledger keeps that it happened, with counts and ids, and no biometric data.
    deletions = list(AuditEntry.objects.filter(action__in=["case.delete", "retention.delete"]).order_by("seq"))
    assert [(d.action, d.details["reference"]) for d in deletions] == [("case.delete", "A-1"),
                                                                        ("retention.delete", "B-1")]
    assert deletions[0].details["videos_deleted"] == [only_a.pk]
    assert deletions[0].details["videos_kept"] == [shared.pk]
    assert "embedding" not in json.dumps([d.details for d in deletions])
    assert audit_verify().ok


def test_a_retention_date_in_the_past_or_a_missing_purpose_is_refused(client_for: Any, investigator: Any) -> None:
    client = client_for(investigator)
    past = client.post("/api/cases/", {"title": "t", "reference": "R", "purpose": "p", "retention_until": "2020-01-01"},
                       format="json")
    assert past.status_code == 400
    assert "in the past" in past.json()["detail"]
