"""Uploading footage through the API: chunked, resumable, probed before it is accepted."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.webapp.factories import the_case
from webapp.cases.models import CaseVideo
from webapp.videos.models import Video
from webapp.videos.services import video_sha256_ensure

pytestmark = pytest.mark.django_db

WHEN = "2026-11-02T09:00:00Z"


def _open(client: Any, camera: Any, name: str, size: int) -> Any:
    body = {"case": the_case().pk, "camera": camera.pk, "recorded_at": WHEN, "filename": name, "size": size}
    return client.post("/api/videos/", body, format="json")


def _put(client: Any, video_id: int, data: bytes, start: int, total: int) -> Any:
    return client.generic(
        "PUT",
        f"/api/videos/{video_id}/content/",
        data,
        content_type="application/octet-stream",
        HTTP_CONTENT_RANGE=f"bytes {start}-{start + len(data) - 1}/{total}",
    )


def _upload(client: Any, camera: Any, path: Path, chunk: int = 64 * 1024) -> Any:
    data = path.read_bytes()
    resp = _open(client, camera, path.name, len(data))
    assert resp.status_code == 201, resp.json()
    video_id = resp.json()["id"]
    for start in range(0, len(data), chunk):
        resp = _put(client, video_id, data[start : start + chunk], start, len(data))
        if resp.status_code != 200:
            return resp
    return resp


def test_api_refuses_anonymous_users(client_for: Callable[..., Any], camera: Any) -> None:
    resp = _open(client_for(None), camera, "a.mp4", 10)
    assert resp.status_code in (401, 403)
    assert "detail" in resp.json()


def test_api_refuses_users_without_a_role(client_for: Callable[..., Any], camera: Any, django_user_model: Any) -> None:
    nobody = django_user_model.objects.create_user("nobody", password="x")
    resp = client_for(nobody).get("/api/videos/")
    assert resp.status_code == 403
    assert "role" in resp.json()["detail"]


def test_chunked_upload_of_a_real_video_is_probed_and_queued(
    client_for: Callable[..., Any], investigator: Any, camera: Any, clip_factory: Callable[..., Path],
    django_capture_on_commit_callbacks: Any,
) -> None:
    clip = clip_factory(0.0, 3.0)
    with django_capture_on_commit_callbacks() as callbacks:
        resp = _upload(client_for(investigator), camera, clip)
    assert resp.status_code == 200, resp.json()
    body = resp.json()
    assert body["status"] == "queued"
    assert body["probe"]["codec"] == "h264"
    assert body["probe"]["width"] == 768
    assert abs(body["duration_s"] - 3.0) < 0.5
    assert len(callbacks) == 1  # the ingest task is queued once the row is committed
    video = Video.objects.get(pk=body["id"])
    assert video.file_path.read_bytes() == clip.read_bytes()
    # The sha256 of the file as received, kept for evidence packages.
    assert video.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    # Stored under a generated name inside MEDIA_ROOT, never the client's name, never under static.
    assert clip.name not in str(video.file_path)
    assert Path(settings.MEDIA_ROOT) in video.file_path.parents
    assert CaseVideo.objects.filter(case=the_case(), video=video).exists()


def test_upload_resumes_from_the_offset_the_server_reports(
    client_for: Callable[..., Any], investigator: Any, camera: Any, clip_factory: Callable[..., Path]
) -> None:
    client = client_for(investigator)
    data = clip_factory(0.0, 3.0).read_bytes()
    video_id = _open(client, camera, "cam.mp4", len(data)).json()["id"]
    assert _put(client, video_id, data[:1000], 0, len(data)).status_code == 200
    skipped = _put(client, video_id, data[5000:6000], 5000, len(data))
    assert skipped.status_code == 409
    assert skipped.json()["offset"] == 1000
    # The same chunk sent twice (a retry after a lost reply) is refused, not written twice.
    assert _put(client, video_id, data[:1000], 0, len(data)).status_code == 409
    resp = _put(client, video_id, data[1000:], 1000, len(data))
    assert resp.status_code == 200
    assert resp.json()["status"] == "queued"
    assert Video.objects.get(pk=video_id).file_path.read_bytes() == data


def test_whole_file_upload_in_one_request_is_accepted(
    client_for: Callable[..., Any], investigator: Any, camera: Any, clip_factory: Callable[..., Path]
) -> None:
    clip = clip_factory(0.0, 3.0)
    with clip.open("rb") as fh:
        resp = client_for(investigator).post(
            "/api/videos/", {"case": the_case().pk, "camera": camera.pk, "recorded_at": WHEN, "file": fh},
            format="multipart",
        )
    assert resp.status_code == 201, resp.json()
    assert resp.json()["status"] == "queued"
    assert Video.objects.get(pk=resp.json()["id"]).sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()


def test_ingest_file_keeps_the_sha256_and_an_older_row_gets_it_when_asked(
    camera: Any, clip_factory: Callable[..., Path], django_capture_on_commit_callbacks: Any
) -> None:
    clip = clip_factory(0.0, 3.0)
    digest = hashlib.sha256(clip.read_bytes()).hexdigest()
    with django_capture_on_commit_callbacks():
        call_command("ingest_file", str(clip), "--camera", camera.name, "--case", the_case().reference,
                     stdout=StringIO())
    video = Video.objects.get(original_name=clip.name)
    assert video.sha256 == digest
    # A row made before the sha256 was kept: computed from the file on first need, and saved.
    Video.objects.filter(pk=video.pk).update(sha256="")
    video.refresh_from_db()
    assert video_sha256_ensure(video=video) == digest
    assert Video.objects.get(pk=video.pk).sha256 == digest


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("empty", "is empty"), ("text", "not a video file (it is a text document)"), ("truncated", "refused")],
)
def test_bad_files_are_refused_with_a_clear_reason(
    client_for: Callable[..., Any], investigator: Any, camera: Any, bad_files: dict[str, Path],
    kind: str, expected: str,
) -> None:
    path = bad_files[kind]
    client = client_for(investigator)
    resp = _open(client, camera, path.name, 0) if kind == "empty" else _upload(client, camera, path)
    assert resp.status_code == 400
    detail = resp.json()["detail"]
    assert expected in detail
    assert "Traceback" not in detail
    if kind != "empty":
        video = Video.objects.get(original_name=path.name)
        assert video.status == "rejected"
        assert video.error
        assert not video.file_path.exists()


def test_wrong_file_type_and_huge_uploads_are_refused_before_any_byte_is_sent(
    client_for: Callable[..., Any], investigator: Any, camera: Any
) -> None:
    client = client_for(investigator)
    resp = _open(client, camera, "report.pdf", 1000)
    assert resp.status_code == 400
    assert "not a video file type" in resp.json()["detail"]
    resp = _open(client, camera, "huge.mp4", settings.LONGVIEW["MAX_UPLOAD_BYTES"] + 1)
    assert resp.status_code == 413
    assert "limit" in resp.json()["detail"]
    assert Video.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [{}, {"camera": 999, "recorded_at": WHEN, "filename": "a.mp4", "size": 5}, {"camera": "x"},
     {"camera": 1, "recorded_at": "yesterday", "filename": "a.mp4", "size": 5}],
)
def test_malformed_upload_requests_get_a_detail(
    client_for: Callable[..., Any], investigator: Any, camera: Any, payload: dict[str, Any]
) -> None:
    resp = client_for(investigator).post("/api/videos/", {"case": the_case().pk, **payload}, format="json")
    assert resp.status_code == 400
    assert resp.json()["detail"]


def test_chunk_without_content_range_is_refused(
    client_for: Callable[..., Any], investigator: Any, camera: Any
) -> None:
    client = client_for(investigator)
    video_id = _open(client, camera, "a.mp4", 10).json()["id"]
    resp = client.generic("PUT", f"/api/videos/{video_id}/content/", b"0123456789",
                          content_type="application/octet-stream")
    assert resp.status_code == 400
    assert "Content-Range" in resp.json()["detail"]
