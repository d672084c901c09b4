"""A camera with footage is not deleted, by the API (409) or the admin (the reason instead of the
confirmation); one without footage is, with its walking times."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.webapp.factories import queued_video
from webapp.cameras import admin as cameras_admin
from webapp.cameras import services
from webapp.cameras.models import Camera, WalkingTime
from webapp.core.exceptions import DomainError
from webapp.videos.models import Video

pytestmark = pytest.mark.django_db

ADMIN_CAMERAS = "/admin/cameras/camera/"
REASON = ("camera 'Gate' still has footage; it can be deleted once all its footage has been deleted "
          "(by a lead of each case holding it)")


@pytest.fixture
def filmed(camera: Camera, clip_factory: Callable[..., Path]) -> Video:
    """Footage of the ``camera`` (Gate), in the tests' case."""
    return queued_video(camera, clip_factory(0.0, 2.0))


def _counts() -> tuple[int, int, int]:
    return Camera.objects.count(), Video.objects.count(), WalkingTime.objects.count()


def _admin(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_api_refuses_to_delete_a_camera_with_footage_and_deletes_one_without(
    client_for: Callable[..., Any], admin_user: User, camera: Camera, filmed: Video
) -> None:
    idle = Camera.objects.create(name="Unused")
    WalkingTime.objects.create(camera_a=camera, camera_b=idle, seconds=30)
    before = _counts()

    resp = client_for(admin_user).delete(f"/api/cameras/{camera.pk}/")
    assert resp.status_code == 409
    assert resp.json() == {"detail": REASON}
    assert _counts() == before
    assert filmed.file_path.exists()

    assert client_for(admin_user).delete(f"/api/cameras/{idle.pk}/").status_code == 204
    assert _counts() == (before[0] - 1, before[1], 0)


def test_the_admin_refuses_with_the_reason_and_names_no_footage(
    admin_user: User, camera: Camera, filmed: Video
) -> None:
    # The admin is not a member of the tests' case: its footage stays out of sight, even by name.
    idle = Camera.objects.create(name="Unused")
    before = _counts()
    client = _admin(admin_user)

    page = client.get(f"{ADMIN_CAMERAS}{camera.pk}/delete/")
    assert page.status_code == 200
    assert REASON.replace("'", "&#x27;").encode() in page.content
    assert filmed.original_name.encode() not in page.content
    client.post(f"{ADMIN_CAMERAS}{camera.pk}/delete/", {"post": "yes"})
    bulk = client.post(ADMIN_CAMERAS, {"action": "delete_selected", "_selected_action": [camera.pk, idle.pk],
                                       "post": "yes"})
    assert bulk.status_code == 200
    assert REASON.replace("'", "&#x27;").encode() in bulk.content
    assert _counts() == before

    resp = client.post(f"{ADMIN_CAMERAS}{idle.pk}/delete/", {"post": "yes"})
    assert resp.status_code == 302
    assert not Camera.objects.filter(pk=idle.pk).exists()


def test_footage_arriving_between_the_check_and_the_deletion_still_refuses(
    admin_user: User, camera: Camera, filmed: Video, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check passes (as if the footage came a moment later); the database's protection still holds.
    monkeypatch.setattr(services, "camera_delete_refusal", lambda camera: None)
    monkeypatch.setattr(cameras_admin, "camera_delete_refusal", lambda camera: None)
    before = _counts()

    with pytest.raises(DomainError) as refused:
        services.camera_delete(camera)
    assert refused.value.status_code == 409
    assert "still has footage" in refused.value.detail
    page = _admin(admin_user).post(f"{ADMIN_CAMERAS}{camera.pk}/delete/", {"post": "yes"})
    assert page.status_code == 200
    assert b"rows that depend on it and cannot be deleted here" in page.content
    assert filmed.original_name.encode() not in page.content
    assert _counts() == before
