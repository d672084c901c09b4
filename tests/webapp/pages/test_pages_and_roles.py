"""Every page needs a login; cameras are read by investigators and changed only by admins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.webapp.factories import join_case, the_case

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/", "/cases/1/", "/videos/1/", "/search/tracklet/1/", "/media/tracklets/1/thumbnail.jpg"])
def test_pages_redirect_anonymous_users_to_login(url: str) -> None:
    resp = Client().get(url)
    assert resp.status_code == 302
    assert resp["Location"].startswith("/accounts/login/")


def test_login_page_is_open_and_the_dashboard_lists_my_cases_after_login(investigator: Any, camera: Any) -> None:
    client = Client()
    assert client.get("/accounts/login/").status_code == 200
    assert client.login(username="ivy", password="pw-ivy-123")
    resp = client.get("/")
    assert resp.status_code == 200
    assert b"My open cases" in resp.content
    assert f'href="/cases/{the_case().pk}/"'.encode() in resp.content
    page = client.get(f"/cases/{the_case().pk}/")
    assert page.status_code == 200
    assert b"Upload footage into this case" in page.content
    assert b"Gate" in page.content


def test_user_without_role_cannot_see_the_dashboard(django_user_model: Any) -> None:
    django_user_model.objects.create_user("nobody", password="pw-nobody-1")
    client = Client()
    client.login(username="nobody", password="pw-nobody-1")
    assert client.get("/").status_code == 403


def test_investigators_read_cameras_but_only_admins_change_them(
    client_for: Callable[..., Any], investigator: Any, admin_user: Any, camera: Any
) -> None:
    inv = client_for(investigator)
    assert inv.get("/api/cameras/").json()["results"][0]["name"] == "Gate"
    resp = inv.post("/api/cameras/", {"name": "Lobby"}, format="json")
    assert resp.status_code == 403
    assert resp.json()["detail"]
    adm = client_for(admin_user)
    gallery = adm.post("/api/galleries/", {"name": "Campus"}, format="json").json()
    resp = adm.post("/api/cameras/", {"name": "Lobby", "gallery": gallery["id"]}, format="json")
    assert resp.status_code == 201
    assert resp.json()["gallery"] == gallery["id"]


def test_openapi_schema_is_served_to_logged_in_users(client_for: Callable[..., Any], investigator: Any) -> None:
    resp = client_for(investigator).get("/api/schema/")
    assert resp.status_code == 200
    assert b"/api/videos/{id}/content/" in resp.content


def test_unknown_api_route_and_missing_video_get_a_detail(
    client_for: Callable[..., Any], investigator: Any
) -> None:
    resp = client_for(investigator).get("/api/videos/424242/")
    assert resp.status_code == 404
    assert resp.json()["detail"]


def test_media_view_serves_byte_ranges_so_video_can_seek(
    investigator: Any, tmp_path: Any, settings: Any
) -> None:
    from webapp.cameras.models import Camera
    from webapp.cases.models import CaseVideo
    from webapp.videos.models import Video

    camera = Camera.objects.create(name="Lobby")
    video = Video.objects.create(camera=camera, original_name="a.mp4", size_bytes=1, recorded_at="2026-11-02T09:00Z")
    CaseVideo.objects.create(case=the_case(), video=video)
    video.proxy_path.parent.mkdir(parents=True, exist_ok=True)
    video.proxy_path.write_bytes(bytes(range(256)) * 4)
    client = Client()
    client.login(username="ivy", password="pw-ivy-123")
    url = f"/media/videos/{video.pk}/review.mp4"
    whole = client.get(url)
    assert whole.status_code == 200
    assert whole["Accept-Ranges"] == "bytes"
    part = client.get(url, HTTP_RANGE="bytes=10-19")
    assert part.status_code == 206
    assert part["Content-Range"] == "bytes 10-19/1024"
    assert b"".join(part.streaming_content) == bytes(range(10, 20))
    tail = client.get(url, HTTP_RANGE="bytes=-4")
    assert b"".join(tail.streaming_content) == bytes(range(252, 256))
    assert client.get(url, HTTP_RANGE="bytes=5000-").status_code == 416
    assert Client().get(url).status_code == 302  # anonymous: to the login page


def test_admins_can_read_the_search_audit_trail_but_not_change_or_delete_it(admin_user: Any, camera: Any) -> None:
    from webapp.search.models import SearchRecord

    record = SearchRecord.objects.create(
        user=admin_user, case=the_case(), justification="a test search", query_description="person 1",
        params={"tracklet": 1},
    )
    client = Client()
    assert client.login(username="ada", password="pw-ada-123")
    # Searches are case content: an admin reads them as a member of the case, like anyone else.
    assert b"person 1" not in client.get("/admin/search/searchrecord/").content
    join_case(admin_user)
    listing = client.get("/admin/search/searchrecord/")
    assert listing.status_code == 200
    assert b"person 1" in listing.content
    assert client.get("/admin/search/searchrecord/add/").status_code == 403
    assert client.post(f"/admin/search/searchrecord/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(f"/admin/search/searchrecord/{record.pk}/change/", {"query_description": "edited"})
    record.refresh_from_db()
    assert record.query_description == "person 1"
    assert SearchRecord.objects.count() == 1


def _json_script(html: bytes, element_id: str) -> Any:
    import json
    import re

    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>'.encode(), html, re.S)
    assert match is not None, f"no {element_id} on the page"
    return json.loads(match.group(1))


def test_search_pages_take_k_and_the_colour_threshold_from_the_settings(
    investigator: Any, settings: Any
) -> None:
    from tests.webapp.factories import build_world

    world = build_world(per_camera=1)
    settings.LONGVIEW = {**settings.LONGVIEW, "SEARCH_K": 20, "COLOUR_MIN_PROBABILITY": 0.7}
    client = Client()
    client.force_login(investigator)
    for url in (f"/search/tracklet/{world.tracklets['A'][0].pk}/", "/search/describe/"):
        page = client.get(url)
        assert page.status_code == 200
        assert _json_script(page.content, "search-settings") == {
            "k": 20,
            "colour_min_probability": 0.7,
            "lanes": {"appearance": "same_outfit", "identity": "clothes_change"},
        }


def test_the_video_page_hands_its_people_to_the_page_script_as_cards(investigator: Any) -> None:
    from tests.webapp.factories import build_world

    world = build_world(per_camera=3)
    video_id = world.tracklets["B"][0].video_id
    client = Client()
    client.force_login(investigator)
    page = client.get(f"/videos/{video_id}/")
    people = _json_script(page.content, "people-data")
    assert [p["tracklet"] for p in people] == [t.pk for t in world.tracklets["B"]]
    assert people == client.get(f"/api/videos/{video_id}/tracklets/").json()
