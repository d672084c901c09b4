"""Searching by an uploaded photo: checked and stored by the web side, embedded by the worker with
the real models, streamed to the requester's sockets, and deleted when the search ends."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.webapp.factories import drain, in_case, new_channel, queued_video
from webapp.cameras.models import Camera
from webapp.core.events import photo_searches_group
from webapp.ingest.services import video_ingest_run
from webapp.search.models import SearchRecord
from webapp.search.photos import PHOTO_FOLDER
from webapp.search.worker import search_photo_run
from webapp.tracklets.models import Tracklet
from webapp.videos.models import Video

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("models_in_data_dir")]


def _ingest(camera: Camera, path: Path) -> Video:
    video = queued_video(camera, path)
    video_ingest_run(video_id=video.pk)
    video.refresh_from_db()
    assert video.status == "done", video.error
    return video


def _frame(path: Path, index: int) -> np.ndarray:
    with av.open(str(path)) as src:
        for i, frame in enumerate(src.decode(video=0)):
            if i == index:
                return frame.to_ndarray(format="rgb24")
    raise AssertionError(f"{path} has no frame {index}")


def _jpeg(rgb: np.ndarray, name: str = "photo.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=92)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def _png(width: int, height: int, name: str = "photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (128, 128, 128)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def _listen(user_id: int) -> str:
    """A socket that sent ``search.subscribe``: in the user's photo-search group."""
    channel = new_channel()
    async_to_sync(get_channel_layer().group_add)(photo_searches_group(user_id), channel)
    return channel


def _stored_photos(settings: Any) -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / PHOTO_FOLDER
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.mark.slow
def test_a_photo_cut_from_the_footage_finds_that_persons_tracklet_and_is_deleted_afterwards(
    camera: Camera, clip_factory: Callable[..., Path], investigator: Any, client_for: Any, settings: Any
) -> None:
    clip = clip_factory(0.0, 6.0)
    _ingest(camera, clip)
    # The person seen largest, cut out with the detector's box from the middle of their track.
    person = max(Tracklet.objects.all(), key=lambda t: np.median([b[5] - b[3] for b in t.boxes]))
    frame_index, _, x1, y1, x2, y2 = person.boxes[len(person.boxes) // 2]
    frame = _frame(clip, int(frame_index))
    crop = frame[max(0, int(y1)) : int(np.ceil(y2)), max(0, int(x1)) : int(np.ceil(x2))]
    assert crop.shape[0] > crop.shape[1]

    client = client_for(investigator)
    channel = _listen(investigator.pk)
    response = client.post("/api/search/image/", in_case({"image": _jpeg(crop, "witness.jpg"), "k": 10}), format="multipart")
    assert response.status_code == 202, response.content
    search_id = response.json()["search"]
    record = SearchRecord.objects.get(pk=search_id)
    assert record.params["kind"] == "photo"
    assert record.query_tracklet is None
    assert record.query_description == "uploaded photo witness.jpg"
    assert len(_stored_photos(settings)) == 1
    assert client.get(f"/api/search/{search_id}/").json()["status"] == "running"

    search_photo_run(search_id=search_id)
    messages = drain(channel)
    assert messages[-1]["type"] == "search.done", messages[-1]
    same_outfit = [h["tracklet"] for m in messages if m["type"] == "search.hits" and m["lane"] == "same_outfit" for h in m["hits"]]
    assert person.pk in same_outfit[:3], (person.pk, same_outfit)
    assert {m["lane"] for m in messages if m["type"] == "search.hits"} <= {"same_outfit", "clothes_change"}
    assert _stored_photos(settings) == []
    detail = client.get(f"/api/search/{search_id}/").json()
    assert detail["status"] == "done"
    assert detail["kind"] == "photo"
    assert [h["tracklet"] for h in detail["lanes"]["same_outfit"]] == same_outfit

    # The whole frame: the detector finds the people and the largest is searched for.
    channel = _listen(investigator.pk)
    response = client.post("/api/search/image/", in_case({"image": _jpeg(frame, "scene.jpg"), "k": 5}), format="multipart")
    assert response.status_code == 202, response.content
    search_photo_run(search_id=response.json()["search"])
    messages = drain(channel)
    assert messages[-1]["type"] == "search.done", messages[-1]
    assert messages[-1]["lanes"]["same_outfit"] == 5
    assert _stored_photos(settings) == []

    # Filters apply: a camera without footage leaves nobody.
    elsewhere = Camera.objects.create(name="Elsewhere")
    response = client.post(
        "/api/search/image/",
        in_case({"image": _jpeg(crop), "k": 5, "filters": json.dumps({"cameras": [elsewhere.pk]})}),
        format="multipart",
    )
    assert response.status_code == 202, response.content
    search_photo_run(search_id=response.json()["search"])
    assert drain(channel)[-1]["count"] == 0


@pytest.mark.slow
def test_a_scene_without_anyone_fails_with_a_reason_and_the_photo_is_deleted(
    investigator: Any, client_for: Any, settings: Any
) -> None:
    channel = _listen(investigator.pk)
    response = client_for(investigator).post("/api/search/image/", in_case({"image": _png(640, 480)}), format="multipart")
    assert response.status_code == 202, response.content
    search_id = response.json()["search"]
    search_photo_run(search_id=search_id)
    assert drain(channel) == [{"type": "search.failed", "search": search_id, "reason": "no person found in the photo"}]
    record = SearchRecord.objects.get(pk=search_id)
    assert record.status == "failed"
    assert record.error == "no person found in the photo"
    assert _stored_photos(settings) == []


def _oversized_bytes() -> SimpleUploadedFile:
    # A JPEG signature followed by padding: refused on its size before anything is decoded.
    return SimpleUploadedFile("huge.jpg", b"\xff\xd8\xff\xe0" + bytes(10 * 1024**2), content_type="image/jpeg")


def _truncated_jpeg() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 100, 3), dtype=np.uint8)).save(buffer, format="JPEG")
    return SimpleUploadedFile("cut.jpg", buffer.getvalue()[:600], content_type="image/jpeg")


REFUSED: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "text file": (
        lambda: {"image": SimpleUploadedFile("photo.jpg", b"A man in a red jacket walked north.\n" * 20, "image/jpeg")},
        "the photo must be a JPEG or PNG image",
    ),
    "empty file": (lambda: {"image": SimpleUploadedFile("photo.png", b"", "image/png")}, "the photo is empty"),
    "too many pixels": (lambda: {"image": _png(5000, 20)}, "the photo is 5000×20 pixels"),
    "too many bytes": (lambda: {"image": _oversized_bytes()}, "the photo is 10.0 MB; the limit is 10.0 MB"),
    "truncated": (lambda: {"image": _truncated_jpeg()}, "the photo could not be decoded"),
    "no image": (lambda: {"k": "5"}, "image: "),
    "bad k": (lambda: {"image": _png(60, 120), "k": "0"}, "k: "),
    "filters not JSON": (lambda: {"image": _png(60, 120), "filters": "cameras=1"}, "filters: "),
    "unknown camera": (lambda: {"image": _png(60, 120), "filters": '{"cameras": [424242]}'}, "filters.cameras: unknown id"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_bad_upload_is_refused_with_400_and_a_detail_and_nothing_is_kept(
    investigator: Any, client_for: Any, settings: Any, case: str
) -> None:
    body, detail = REFUSED[case]
    response = client_for(investigator).post("/api/search/image/", in_case(body()), format="multipart")
    assert response.status_code == 400, response.content
    assert response.json()["detail"].startswith(detail), response.json()
    assert SearchRecord.objects.count() == 0
    assert _stored_photos(settings) == []


def test_only_investigators_may_search_by_photo(client_for: Any) -> None:
    response = client_for(None).post("/api/search/image/", {"image": _png(60, 120)}, format="multipart")
    assert response.status_code in (401, 403)
    assert SearchRecord.objects.count() == 0
