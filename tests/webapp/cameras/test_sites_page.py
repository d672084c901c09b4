"""The admins' Sites page: what it hands its script, who reaches it, and the header link to it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from webapp.cameras.models import Camera, SitePlan, WalkingTime

pytestmark = pytest.mark.django_db


def _signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_page_hands_its_script_the_plans_cameras_and_walking_times(admin_user: User, settings: Any) -> None:
    settings.LONGVIEW = {**settings.LONGVIEW, "WALKING_SPEED_MPS": 1.2}
    plan = SitePlan.objects.create(name="Depot", image_type="png", width_px=640, height_px=480, width_m=30)
    gate = Camera.objects.create(name="Gate", plan=plan, plan_x=0.5, plan_y=0.25)
    yard = Camera.objects.create(name="Yard", latitude=52.1, longitude=5.1)
    WalkingTime.objects.create(camera_a=gate, camera_b=yard, seconds=42)

    response = _signed_in(admin_user).get("/sites/")
    assert response.status_code == 200
    text = response.content.decode()
    found = re.search(r'<script id="sites-data" type="application/json">(.*?)</script>', text, flags=re.S)
    assert found is not None
    data = json.loads(found.group(1))
    assert [(p["name"], p["image_url"], p["cameras"]) for p in data["plans"]] == [
        ("Depot", f"/api/plans/{plan.pk}/image", [gate.pk])]
    assert [(c["name"], c["plan_x"], c["latitude"]) for c in data["cameras"]] == [("Gate", 0.5, None),
                                                                                  ("Yard", None, 52.1)]
    assert [(w["camera_a"], w["camera_b"], w["seconds"]) for w in data["walking_times"]] == [(gate.pk, yard.pk, 42.0)]
    assert data["walking_speed_mps"] == 1.2
    assert 'src="/static/longview/pages/sites.js"' in text
    assert 'href="/sites/"' in text  # the header link


def test_investigators_are_refused_the_page_and_see_no_link(investigator: User) -> None:
    client = _signed_in(investigator)
    assert client.get("/sites/").status_code == 403
    assert b'href="/sites/"' not in client.get("/").content


def test_anonymous_users_are_sent_to_log_in() -> None:
    response = Client().get("/sites/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_django_admin_shows_a_cameras_position_and_refuses_half_of_one(admin_user: User) -> None:
    client = _signed_in(admin_user)
    camera = Camera.objects.create(name="Gate")
    page = client.get(f"/admin/cameras/camera/{camera.pk}/change/")
    assert page.status_code == 200
    for field in ("latitude", "longitude", "plan", "plan_x", "plan_y"):
        assert f'name="{field}"' in page.content.decode()
    assert client.get("/admin/cameras/siteplan/").status_code == 200
    refused = client.post(f"/admin/cameras/camera/{camera.pk}/change/", {"name": "Gate", "latitude": "52.1"})
    assert refused.status_code == 200  # the form again, with the reason
    assert b"give latitude and longitude together" in refused.content
    camera.refresh_from_db()
    assert camera.latitude is None
