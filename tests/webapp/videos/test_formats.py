"""Recorder exports through the web upload: accepted by what the content is, whatever the video name,
and ingested end to end with the people in them found."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.videoformats import EXPORTS, Export, source_frames, write_export
from tests.webapp.factories import the_case
from webapp.ingest.services import video_ingest_run
from webapp.tracklets.models import Tracklet
from webapp.videos.models import Video

pytestmark = pytest.mark.django_db

WHEN = "2026-11-02T09:00:00Z"
EXPORT_IDS = [e.name for e in EXPORTS]
# A full ingest takes seconds: by default one format per family (its own demuxer; a raw stream, the
# one without a declared rate; MPEG program stream; ASF; HEVC in MP4) is ingested, and every format
# with LONGVIEW_ALL_FORMATS=1. Every format is uploaded and probed in any case.
FAMILIES = ("dahua.dav", "untimed.hevc", "nvr.ps", "export.asf", "hevc.mp4")
INGESTED = [e for e in EXPORTS if os.environ.get("LONGVIEW_ALL_FORMATS") == "1" or e.name in FAMILIES]
NOTES = {
    "export.264": "raw H.264 stream without timestamps: frame times counted at the 10 fps the stream declares",
    "export.265": "raw H.265 stream without timestamps: frame times counted at the 10 fps the stream declares",
    "untimed.hevc": "raw H.265 stream without timestamps or a declared frame rate: frame times counted at a "
                    "default 25 fps, so times and the duration may be off",
}


@pytest.fixture(scope="session")
def exports(vtest_path: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three seconds of the street scene (people walking) at half size, in every export format."""
    frames = source_frames(vtest_path, start_s=0.0, seconds=3.0, scale=2)
    folder = tmp_path_factory.mktemp("exports")
    return {e.name: write_export(e, folder / e.name, frames) for e in EXPORTS}


def _upload(client: Any, camera: Any, data: bytes, name: str, chunk: int = 64 * 1024) -> Any:
    """Opens a chunked upload of ``data`` named ``name`` and sends it; the last reply."""
    body = {"case": the_case().pk, "camera": camera.pk, "recorded_at": WHEN, "filename": name, "size": len(data)}
    resp = client.post("/api/videos/", body, format="json")
    if resp.status_code != 201:
        return resp
    video_id = resp.json()["id"]
    for start in range(0, len(data), chunk):
        part = data[start : start + chunk]
        resp = client.generic("PUT", f"/api/videos/{video_id}/content/", part,
                              content_type="application/octet-stream",
                              HTTP_CONTENT_RANGE=f"bytes {start}-{start + len(part) - 1}/{len(data)}")
        if resp.status_code != 200:
            return resp
    return resp


@pytest.mark.parametrize("export", EXPORTS, ids=EXPORT_IDS)
def test_every_export_format_is_accepted_and_probed_as_what_it_is(
    client_for: Callable[..., Any], investigator: Any, camera: Any, exports: dict[str, Path], export: Export
) -> None:
    resp = _upload(client_for(investigator), camera, exports[export.name].read_bytes(), export.name)

    assert resp.status_code == 200, resp.json()
    body = resp.json()
    assert body["status"] == "queued"
    assert (body["probe"]["container"], body["probe"]["codec"]) == (export.container, export.codec)
    assert body["probe"]["timestamps"] == export.timestamps
    assert (body["probe"]["width"], body["probe"]["height"]) == (384, 288)
    # A raw stream's derived frame times are on the video's page from the moment it is accepted.
    assert body["warnings"] == ([NOTES[export.name]] if export.name in NOTES else [])


@pytest.mark.parametrize(
    ("content", "name", "container"),
    [("hevc.mp4", "camera3.dav", "mov,mp4,m4a,3gp,3g2,mj2"), ("export.ts", "export.mp4", "mpegts"),
     ("dahua.dav", "channel1.h264", "dhav"), ("export.264", "export.mkv", "h264")],
)
def test_the_content_decides_what_a_file_is_not_its_name(
    client_for: Callable[..., Any], investigator: Any, camera: Any, exports: dict[str, Path],
    content: str, name: str, container: str,
) -> None:
    resp = _upload(client_for(investigator), camera, exports[content].read_bytes(), name)

    assert resp.status_code == 200, resp.json()
    assert resp.json()["probe"]["container"] == container
    assert Video.objects.get(pk=resp.json()["id"]).original_name == name


def test_a_name_plainly_not_video_is_refused_before_any_byte_and_text_under_a_video_name_after(
    client_for: Callable[..., Any], investigator: Any, camera: Any
) -> None:
    client = client_for(investigator)
    resp = _upload(client, camera, b"MZ\x90\x00" + bytes(1000), "setup.exe")
    assert resp.status_code == 400
    assert "'setup.exe' is not a video file type we accept (" in resp.json()["detail"]
    assert ".dav" in resp.json()["detail"]
    assert Video.objects.count() == 0

    resp = _upload(client, camera, b"Camera 3 exported 09:00-09:30, see the attached footage.\n" * 30, "camera3.dav")
    assert resp.status_code == 400
    assert resp.json()["detail"] == "'camera3.dav' was refused: not a video file (it is a text document)"
    video = Video.objects.get()
    assert (video.status, video.error) == ("rejected", "not a video file (it is a text document)")
    assert not video.file_path.exists()


@pytest.mark.slow
@pytest.mark.usefixtures("models_in_data_dir")
@pytest.mark.parametrize("export", INGESTED, ids=[e.name for e in INGESTED])
def test_every_export_format_is_ingested_with_its_people_found(
    client_for: Callable[..., Any], investigator: Any, camera: Any, exports: dict[str, Path], export: Export
) -> None:
    resp = _upload(client_for(investigator), camera, exports[export.name].read_bytes(), export.name)
    assert resp.status_code == 200, resp.json()

    video_ingest_run(video_id=resp.json()["id"])  # what the ingest worker's task runs

    video = Video.objects.get(pk=resp.json()["id"])
    assert video.status == "done", video.error
    assert video.frames_decoded == (6 if export.timestamps == "default_rate" else 15)  # 3 s sampled at 5 fps
    assert video.frames_skipped == 0
    assert video.warnings == ([NOTES[export.name]] if export.name in NOTES else [])
    people = Tracklet.objects.filter(video=video)
    # At a default 25 fps the 30 frames last 1.2 s, too short for most of the street's people.
    assert people.count() >= (1 if export.timestamps == "default_rate" else 2)
    assert all(t.thumbnail_path.exists() for t in people)
    assert max(t.end_s for t in people) <= video.duration_s + 0.35
