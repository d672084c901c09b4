"""Deleting footage from the admin goes through the API's service and rule, leaving no rows, files or
index entries of it; a deletion that fails leaves the footage whole; the pages offer the delete button
only to those the rule lets delete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from reid_engine.index import load_snapshot
from tests.webapp.factories import join_case, queued_video, the_case
from webapp.accounts.services import user_create_with_role
from webapp.audit.ledger import audit_verify
from webapp.audit.models import AuditEntry
from webapp.cases.models import CaseVideo
from webapp.cases.services import case_create
from webapp.ingest.services import video_ingest_run
from webapp.tracklets.models import Tracklet
from webapp.videos import services
from webapp.videos.models import Video

pytestmark = pytest.mark.django_db

ADMIN_VIDEOS = "/admin/videos/video/"


def _files() -> set[Path]:
    return {p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}


def _files_of(video: Video) -> set[Path]:
    return {p for p in _files() if str(video.storage_key) in str(p)}


def _index_ids() -> set[int]:
    ids: set[int] = set()
    for path in Path(settings.INDEX_DIR).glob("*.faiss"):
        ids |= {int(i) for i in load_snapshot(path).ids()}
    return ids


def _ingested(camera: Any, clip: Path) -> Video:
    video = queued_video(camera, clip)
    video_ingest_run(video_id=video.pk)
    video.refresh_from_db()
    assert video.status == "done", video.error
    return video


def _lead(username: str = "lea", role: str = "investigator") -> User:
    return join_case(user_create_with_role(username=username, password=f"pw-{username}-123", role=role), "lead")


def _admin_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _foreign_case() -> Any:
    outsider = user_create_with_role(username="oz", password="pw-oz-123", role="investigator")
    return case_create(user=outsider, title="Other", reference="O-1", purpose="another inquiry",
                       retention_until=the_case().retention_until)


@pytest.mark.slow
@pytest.mark.usefixtures("models_in_data_dir")
def test_the_admin_deletes_footage_one_and_in_bulk_with_its_files_people_and_index_entries(
    admin_user: User, camera: Any, clip_factory: Callable[..., Path], django_capture_on_commit_callbacks: Any
) -> None:
    join_case(admin_user, "lead")
    one, two = (_ingested(camera, clip_factory(start, 2.0)) for start in (0.0, 10.0))
    three = queued_video(camera, clip_factory(20.0, 2.0))  # accepted, not analysed yet: a file, no people
    people = {v.pk: set(Tracklet.objects.filter(video=v).values_list("pk", flat=True)) for v in (one, two, three)}
    assert people[one.pk]
    assert people[two.pk]
    assert _index_ids() == people[one.pk] | people[two.pk]
    for video in (one, two):  # the file, its review copy and the people's thumbnails
        assert {video.file_path, video.proxy_path} <= _files_of(video)
        assert len(_files_of(video)) == 2 + len(people[video.pk])
    assert _files_of(three) == {three.file_path}
    client = _admin_client(admin_user)

    confirm = client.get(f"{ADMIN_VIDEOS}{one.pk}/delete/")
    assert confirm.status_code == 200
    assert b"Are you sure" in confirm.content
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"{ADMIN_VIDEOS}{one.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 302
    assert not Video.objects.filter(pk=one.pk).exists()
    assert not Tracklet.objects.filter(pk__in=people[one.pk]).exists()
    assert _files_of(one) == set()
    assert _index_ids() == people[two.pk]
    record = AuditEntry.objects.filter(action="video.delete").get()
    assert (record.username, record.case_id, record.object_ids) == ("ada", the_case().pk, [one.pk])
    assert record.details == {"name": one.original_name, "people_deleted": len(people[one.pk])}

    selected = {"action": "delete_selected", "_selected_action": [two.pk, three.pk]}
    page = client.post(ADMIN_VIDEOS, selected)
    assert page.status_code == 200
    assert b"Are you sure" in page.content
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(ADMIN_VIDEOS, {**selected, "post": "yes"})
    assert resp.status_code == 302
    assert Video.objects.count() == 0
    assert Tracklet.objects.count() == 0
    assert CaseVideo.objects.count() == 0
    assert _files() == set()
    assert _index_ids() == set()
    assert AuditEntry.objects.filter(action="video.delete").count() == 3
    assert audit_verify().ok


def test_the_admin_refuses_to_delete_footage_another_case_holds_with_the_reason(
    admin_user: User, camera: Any, clip_factory: Callable[..., Path], django_capture_on_commit_callbacks: Any
) -> None:
    join_case(admin_user, "lead")
    shared = queued_video(camera, clip_factory(0.0, 2.0))
    mine = queued_video(camera, clip_factory(10.0, 2.0))
    CaseVideo.objects.create(case=_foreign_case(), video=shared)
    files, rows = _files(), Video.objects.count()
    client = _admin_client(admin_user)
    reason = b"this footage is also held by a case you are not a member of; ask its lead to remove it"

    page = client.get(f"{ADMIN_VIDEOS}{shared.pk}/delete/")
    assert page.status_code == 200
    assert reason in page.content
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{ADMIN_VIDEOS}{shared.pk}/delete/", {"post": "yes"})
        # In bulk, one refused video keeps the whole selection.
        bulk = client.post(ADMIN_VIDEOS, {"action": "delete_selected", "_selected_action": [shared.pk, mine.pk],
                                          "post": "yes"})
    assert reason in bulk.content
    assert (Video.objects.count(), _files()) == (rows, files)
    assert not AuditEntry.objects.filter(action="video.delete").exists()


def test_a_deletion_that_fails_leaves_the_footage_whole(
    camera: Any, clip_factory: Callable[..., Path], monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    lead = _lead()
    video = queued_video(camera, clip_factory(0.0, 2.0))
    video.proxy_path.parent.mkdir(parents=True, exist_ok=True)
    video.proxy_path.write_bytes(b"review copy")
    files = _files()

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(Video, "delete", fail)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        services.video_delete_as(user=lead, video=video)
    assert Video.objects.filter(pk=video.pk).exists()
    assert _files() == files
    assert not AuditEntry.objects.filter(action="video.delete").exists()


def _buttons(client: Client, url: str) -> int:
    page = client.get(url)
    assert page.status_code == 200
    return page.content.count(b"video-delete")


def test_the_delete_button_is_shown_only_to_those_who_may_delete(camera: Any, clip_factory: Callable[..., Path]) -> None:
    lead, investigator = _lead(), join_case(user_create_with_role(username="ivo", password="pw-ivo-123",
                                                                   role="investigator"))
    mine = queued_video(camera, clip_factory(0.0, 2.0))
    shared = queued_video(camera, clip_factory(10.0, 2.0))
    CaseVideo.objects.create(case=_foreign_case(), video=shared)
    case_page = f"/cases/{the_case().pk}/"

    as_lead = _admin_client(lead)
    assert _buttons(as_lead, f"/videos/{mine.pk}/") > 0
    assert _buttons(as_lead, f"/videos/{shared.pk}/") == 0  # another case holds it too
    page = as_lead.get(case_page).content.decode()
    assert f'class="link video-delete" data-video="{mine.pk}"' in page
    assert f'data-video="{shared.pk}" data-name' not in page

    as_investigator = _admin_client(investigator)
    assert _buttons(as_investigator, f"/videos/{mine.pk}/") == 0
    assert 'class="link video-delete"' not in as_investigator.get(case_page).content.decode()


def test_a_refused_api_delete_changes_nothing_and_says_why(
    client_for: Callable[..., Any], camera: Any, clip_factory: Callable[..., Path]
) -> None:
    lead = _lead()
    investigator = join_case(user_create_with_role(username="ivo", password="pw-ivo-123", role="investigator"))
    shared = queued_video(camera, clip_factory(0.0, 2.0))
    mine = queued_video(camera, clip_factory(10.0, 2.0))
    CaseVideo.objects.create(case=_foreign_case(), video=shared)
    files = _files()

    resp = client_for(lead).delete(f"/api/videos/{shared.pk}/")
    assert resp.status_code == 409
    assert resp.json()["detail"] == (
        "this footage is also held by a case you are not a member of; ask its lead to remove it")
    resp = client_for(investigator).delete(f"/api/videos/{mine.pk}/")
    assert resp.status_code == 403
    assert resp.json()["detail"] == "your role in this case (investigator) does not allow delete"
    assert Video.objects.count() == 2
    assert _files() == files
