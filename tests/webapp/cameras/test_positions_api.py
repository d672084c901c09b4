"""Where cameras stand, through the API: latitude/longitude and a point on a site plan, checked
field by field and together; site plans uploaded, served and deleted with their files; walking
times between two cameras. Bad input is a 4xx with a ``detail`` and changes nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from webapp.cameras.models import Camera, SitePlan, WalkingTime

pytestmark = pytest.mark.django_db


def image_bytes(fmt: str = "PNG", size: tuple[int, int] = (64, 32)) -> bytes:
    buf = io.BytesIO()
    pixels = np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buf, format=fmt)
    return buf.getvalue()


def stored_plans() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / "plans"
    return sorted(folder.iterdir()) if folder.exists() else []


def upload(client: Any, content: bytes, *, name: str = "Station", filename: str = "plan.png", **extra: Any) -> Any:
    body = {"name": name, "image": SimpleUploadedFile(filename, content), **extra}
    return client.post("/api/plans/", body, format="multipart")


@pytest.fixture
def admin(client_for: Any, admin_user: User) -> Any:
    return client_for(admin_user)


@pytest.fixture
def plan(admin: Any) -> SitePlan:
    response = upload(admin, image_bytes("PNG", (400, 200)), width_m=80)
    assert response.status_code == 201, response.content
    return SitePlan.objects.get(pk=response.json()["id"])


def refused(response: Any, status: int = 400) -> str:
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert isinstance(detail, str)
    assert detail
    return detail


# ---- camera positions ----

def test_an_admin_places_a_camera_by_latitude_longitude_and_on_a_plan(admin: Any, camera: Camera, plan: SitePlan) -> None:
    response = admin.patch(f"/api/cameras/{camera.pk}/", {"latitude": 51.5, "longitude": -0.12}, format="json")
    assert response.status_code == 200, response.content
    response = admin.patch(f"/api/cameras/{camera.pk}/", {"plan": plan.pk, "plan_x": 0.25, "plan_y": 1}, format="json")
    assert response.status_code == 200, response.content
    assert {k: response.json()[k] for k in ("latitude", "longitude", "plan", "plan_x", "plan_y")} == {
        "latitude": 51.5, "longitude": -0.12, "plan": plan.pk, "plan_x": 0.25, "plan_y": 1.0}
    camera.refresh_from_db()
    assert (camera.latitude, camera.longitude, camera.plan_id, camera.plan_x, camera.plan_y) == (
        51.5, -0.12, plan.pk, 0.25, 1.0)
    # Off the plan: the point goes with it; the latitude/longitude stay.
    assert admin.patch(f"/api/cameras/{camera.pk}/", {"plan": None}, format="json").status_code == 200
    camera.refresh_from_db()
    assert (camera.plan_id, camera.plan_x, camera.plan_y, camera.latitude) == (None, None, None, 51.5)


@pytest.mark.parametrize(("body", "field"), [
    ({"latitude": 90.5, "longitude": 0}, "latitude"),
    ({"latitude": 0, "longitude": -180.01}, "longitude"),
    ({"latitude": "NaN", "longitude": 0}, "latitude"),
    ({"latitude": "north", "longitude": 0}, "latitude"),
    ({"latitude": 51.5}, "longitude"),
    ({"longitude": 3.2}, "latitude"),
    ({"plan_x": 0.5, "plan_y": 0.5}, "plan"),
    ({"plan": "PLAN", "plan_x": 1.5, "plan_y": 0.5}, "plan_x"),
    ({"plan": "PLAN", "plan_x": 0.5, "plan_y": -0.1}, "plan_y"),
    ({"plan": "PLAN", "plan_x": 0.5}, "plan_y"),
    ({"plan": 999999, "plan_x": 0.5, "plan_y": 0.5}, "plan"),
])
def test_a_bad_or_half_given_position_is_refused_and_nothing_changes(
    admin: Any, camera: Camera, plan: SitePlan, body: dict[str, Any], field: str
) -> None:
    body = {k: plan.pk if v == "PLAN" else v for k, v in body.items()}
    detail = refused(admin.patch(f"/api/cameras/{camera.pk}/", body, format="json"))
    assert detail.startswith(f"{field}:")
    camera.refresh_from_db()
    assert (camera.latitude, camera.longitude, camera.plan_id, camera.plan_x, camera.plan_y) == (None,) * 5


def test_half_a_position_is_refused_against_what_is_stored(admin: Any, camera: Camera) -> None:
    Camera.objects.filter(pk=camera.pk).update(latitude=10, longitude=20)
    assert refused(admin.patch(f"/api/cameras/{camera.pk}/", {"longitude": None}, format="json")).startswith("longitude:")
    assert admin.patch(f"/api/cameras/{camera.pk}/", {"latitude": None, "longitude": None}, format="json").status_code == 200


def test_an_investigator_cannot_place_a_camera(client_for: Any, investigator: User, camera: Camera) -> None:
    client = client_for(investigator)
    refused(client.patch(f"/api/cameras/{camera.pk}/", {"latitude": 1, "longitude": 2}, format="json"), 403)
    camera.refresh_from_db()
    assert camera.latitude is None
    assert client.get(f"/api/cameras/{camera.pk}/").json()["latitude"] is None


# ---- site plans ----

@pytest.mark.parametrize(("fmt", "kind"), [("PNG", "png"), ("JPEG", "jpeg")])
def test_a_plan_is_stored_with_its_size_and_served_to_investigators(
    admin: Any, client_for: Any, investigator: User, fmt: str, kind: str
) -> None:
    content = image_bytes(fmt, (300, 120))
    response = upload(admin, content, filename=f"plan.{kind}", width_m=45.5)
    assert response.status_code == 201, response.content
    data = response.json()
    assert {k: data[k] for k in ("name", "width_m", "image_type", "width_px", "height_px", "cameras")} == {
        "name": "Station", "width_m": 45.5, "image_type": kind, "width_px": 300, "height_px": 120, "cameras": []}
    plan = SitePlan.objects.get(pk=data["id"])
    assert stored_plans() == [Path(settings.MEDIA_ROOT) / "plans" / f"{plan.storage_key}.{kind}"]
    assert plan.file_path.read_bytes() == content

    served = client_for(investigator).get(data["image_url"])
    assert served.status_code == 200
    assert served["Content-Type"] == f"image/{kind}"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == content
    assert client_for(investigator).get("/api/plans/").json()["results"][0]["id"] == plan.pk


def test_the_plan_image_needs_a_role_and_an_existing_plan(client_for: Any, plan: SitePlan) -> None:
    refused(client_for(None).get(f"/api/plans/{plan.pk}/image"), 403)
    refused(client_for(User.objects.create(username="norole")).get(f"/api/plans/{plan.pk}/image"), 403)
    admin = client_for(User.objects.get(username="ada"))
    assert refused(admin.get(f"/api/plans/{plan.pk + 1}/image"), 404) == "no such site plan"
    plan.file_path.unlink()
    refused(admin.get(f"/api/plans/{plan.pk}/image"), 404)


def _png_too_wide() -> bytes:
    return image_bytes("PNG", (8001, 2))


def _truncated_png() -> bytes:
    whole = image_bytes("PNG", (200, 200))
    return whole[: len(whole) // 2]


@pytest.mark.parametrize(("content", "filename", "needle"), [
    (b"just some text, not a drawing", "plan.png", "not a PNG or JPEG"),
    (b"", "plan.png", "empty"),
    (image_bytes("GIF"), "plan.gif", "must be a PNG or JPEG"),
    (image_bytes("BMP"), "plan.png", "must be a PNG or JPEG"),
    (_truncated_png(), "plan.png", "not a PNG or JPEG"),
    (_png_too_wide(), "plan.png", "8001×2 pixels"),
    (b"\x89PNG\r\n\x1a\n" + bytes(20 * 1024**2), "plan.png", "the limit is 20.0 MB"),
])
def test_a_file_that_is_not_a_usable_image_is_refused_and_nothing_is_stored(
    admin: Any, content: bytes, filename: str, needle: str
) -> None:
    detail = refused(upload(admin, content, filename=filename))
    assert needle in detail
    assert not SitePlan.objects.exists()
    assert stored_plans() == []


@pytest.mark.parametrize("extra", [{"width_m": 0}, {"width_m": "wide"}, {"name": ""}])
def test_bad_plan_fields_are_refused_and_nothing_is_stored(admin: Any, extra: dict[str, Any]) -> None:
    body = {"name": "Station", "image": SimpleUploadedFile("plan.png", image_bytes()), **extra}
    refused(admin.post("/api/plans/", body, format="multipart"))
    assert not SitePlan.objects.exists()
    assert stored_plans() == []


def test_a_plan_name_is_taken_once(admin: Any, plan: SitePlan) -> None:
    assert "name" in refused(upload(admin, image_bytes(), name=plan.name))
    assert stored_plans() == [plan.file_path]


def test_an_investigator_cannot_upload_change_or_delete_a_plan(client_for: Any, investigator: User, plan: SitePlan) -> None:
    client = client_for(investigator)
    refused(upload(client, image_bytes(), name="Mine"), 403)
    refused(client.patch(f"/api/plans/{plan.pk}/", {"width_m": 5}, format="json"), 403)
    refused(client.delete(f"/api/plans/{plan.pk}/"), 403)
    assert list(SitePlan.objects.values_list("name", "width_m")) == [("Station", 80.0)]
    assert stored_plans() == [plan.file_path]
    assert client.get(f"/api/plans/{plan.pk}/").json()["name"] == "Station"


def test_an_admin_scales_a_plan_later(admin: Any, plan: SitePlan) -> None:
    response = admin.patch(f"/api/plans/{plan.pk}/", {"width_m": 120.5}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["width_px"] == 400
    plan.refresh_from_db()
    assert plan.width_m == 120.5
    refused(admin.patch(f"/api/plans/{plan.pk}/", {"width_m": -3}, format="json"))
    assert refused(admin.put(f"/api/plans/{plan.pk}/", {"name": "x"}, format="json"), 405)


def test_deleting_a_plan_deletes_its_file_and_takes_its_cameras_off_it(
    admin: Any, camera: Camera, plan: SitePlan, django_capture_on_commit_callbacks: Any
) -> None:
    Camera.objects.filter(pk=camera.pk).update(plan=plan, plan_x=0.5, plan_y=0.5, latitude=1, longitude=2)
    assert admin.get(f"/api/plans/{plan.pk}/").json()["cameras"] == [camera.pk]
    # The file goes once the deletion is committed.
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert admin.delete(f"/api/plans/{plan.pk}/").status_code == 204
        assert plan.file_path.exists()
    assert len(callbacks) == 1
    assert stored_plans() == []
    assert not SitePlan.objects.exists()
    camera.refresh_from_db()
    assert (camera.plan_id, camera.plan_x, camera.plan_y, camera.latitude) == (None, None, None, 1)


# ---- walking times ----

@pytest.fixture
def cameras(db: None) -> list[Camera]:
    return [Camera.objects.create(name=n) for n in ("North", "South", "East")]


def test_a_walking_time_is_stored_with_the_lower_camera_first(admin: Any, cameras: list[Camera]) -> None:
    north, south, _ = cameras
    response = admin.post("/api/walking-times/", {"camera_a": south.pk, "camera_b": north.pk, "seconds": 75},
                          format="json")
    assert response.status_code == 201, response.content
    assert response.json() == {"id": response.json()["id"], "camera_a": north.pk, "camera_b": south.pk, "seconds": 75.0}
    assert list(WalkingTime.objects.values_list("camera_a", "camera_b", "seconds")) == [(north.pk, south.pk, 75.0)]


@pytest.mark.parametrize("body", [
    {"camera_a": "N", "camera_b": "N", "seconds": 10},
    {"camera_a": "N", "camera_b": "S", "seconds": -1},
    {"camera_a": "N", "camera_b": "S", "seconds": "Infinity"},
    {"camera_a": "N", "camera_b": "S", "seconds": "NaN"},
    {"camera_a": "N", "camera_b": "S", "seconds": "soon"},
    {"camera_a": "N", "camera_b": 999999, "seconds": 10},
    {"camera_a": "N", "seconds": 10},
    {"camera_a": "N", "camera_b": "S"},
])
def test_a_bad_walking_time_is_refused_and_nothing_is_stored(admin: Any, cameras: list[Camera], body: dict[str, Any]) -> None:
    ids = {"N": cameras[0].pk, "S": cameras[1].pk}
    body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    refused(admin.post("/api/walking-times/", body, format="json"))
    assert not WalkingTime.objects.exists()


def test_a_second_time_for_a_pair_is_a_conflict_naming_the_first(admin: Any, cameras: list[Camera]) -> None:
    north, south, east = cameras
    first = admin.post("/api/walking-times/", {"camera_a": north.pk, "camera_b": south.pk, "seconds": 60},
                       format="json").json()
    again = admin.post("/api/walking-times/", {"camera_a": south.pk, "camera_b": north.pk, "seconds": 5}, format="json")
    assert "already a walking time between North and South" in refused(again, 409)
    assert again.json()["id"] == first["id"]
    other = admin.post("/api/walking-times/", {"camera_a": east.pk, "camera_b": south.pk, "seconds": 30},
                       format="json").json()
    # Moving the second onto the first pair is the same conflict.
    refused(admin.patch(f"/api/walking-times/{other['id']}/", {"camera_b": north.pk}, format="json"), 409)
    refused(admin.patch(f"/api/walking-times/{other['id']}/", {"camera_a": east.pk}, format="json"))  # East↔East
    assert list(WalkingTime.objects.order_by("seconds").values_list("camera_a", "camera_b", "seconds")) == [
        (south.pk, east.pk, 30.0), (north.pk, south.pk, 60.0)]
    changed = admin.patch(f"/api/walking-times/{first['id']}/", {"seconds": 45}, format="json")
    assert changed.status_code == 200
    assert WalkingTime.objects.get(pk=first["id"]).seconds == 45.0
    assert admin.delete(f"/api/walking-times/{other['id']}/").status_code == 204


def test_everyone_with_a_role_reads_walking_times_and_only_admins_write(
    client_for: Any, investigator: User, cameras: list[Camera]
) -> None:
    north, south, east = cameras
    row = WalkingTime.objects.create(camera_a=north, camera_b=south, seconds=60)
    WalkingTime.objects.create(camera_a=south, camera_b=east, seconds=20)
    client = client_for(investigator)
    assert [r["seconds"] for r in client.get("/api/walking-times/").json()["results"]] == [60.0, 20.0]
    assert [r["id"] for r in client.get(f"/api/walking-times/?camera={north.pk}").json()["results"]] == [row.pk]
    refused(client.post("/api/walking-times/", {"camera_a": north.pk, "camera_b": east.pk, "seconds": 9},
                        format="json"), 403)
    refused(client.patch(f"/api/walking-times/{row.pk}/", {"seconds": 1}, format="json"), 403)
    refused(client.delete(f"/api/walking-times/{row.pk}/"), 403)
    refused(client_for(None).get("/api/walking-times/"), 403)
    assert WalkingTime.objects.count() == 2
    assert WalkingTime.objects.get(pk=row.pk).seconds == 60.0
