"""Security headers on every page, CSRF on state-changing requests, websocket origin checks, per-user
rate limits, session expiry and failed-login lock-out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from webapp.accounts import lockout
from webapp.audit.ledger import audit_verify
from webapp.audit.models import AuditEntry
from webapp.core.security import HEADERS
from webapp.core.throttles import EndpointRateThrottle

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "frontend" / "templates"


@pytest.fixture(autouse=True)
def _fresh_counters() -> None:
    cache.clear()


def _headers_ok(response: Any) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, (response.request["PATH_INFO"], name)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in csp
    assert "'unsafe-eval'" not in csp
    assert "frame-ancestors 'none'" in csp


def test_every_page_and_api_answer_carries_the_security_headers(investigator: User, camera: Any) -> None:
    anonymous = Client()
    for path in ("/accounts/login/", "/", "/api/videos/", "/no-such-page/"):
        _headers_ok(anonymous.get(path))
    signed_in = Client()
    signed_in.force_login(investigator)
    for path in ("/", "/search/describe/", "/api/videos/", "/api/cameras/", "/api/schema/", "/healthz"):
        response = signed_in.get(path)
        assert response.status_code < 500, path
        _headers_ok(response)


def test_pages_have_no_inline_script_or_style_the_policy_would_block() -> None:
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), template.name
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", text), template.name


def test_every_post_form_carries_a_csrf_token() -> None:
    forms = 0
    for template in TEMPLATES.rglob("*.html"):
        for form in re.findall(r"<form\b.*?</form>", template.read_text(), flags=re.S | re.I):
            if re.search(r"method=[\"']?post", form, flags=re.I):
                forms += 1
                assert "{% csrf_token %}" in form, template.name
    assert forms > 0


def test_a_cross_site_post_without_the_csrf_token_is_refused(investigator: User, camera: Any) -> None:
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/accounts/login/", {"username": "ivy", "password": "pw-ivy-123"},
                            HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    browser.force_login(investigator)
    # A forged request from another site rides on the session cookie but has no token.
    response = browser.post("/api/cameras/", {"name": "Forged"}, content_type="application/json",
                            HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    response = browser.delete(f"/api/cameras/{camera.pk}/", HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403


def _websocket(origin: str, cookie: str) -> tuple[bool, Any]:
    from webapp.asgi import application

    async def connect() -> tuple[bool, Any]:
        comm = WebsocketCommunicator(application, "/ws/events/",
                                     headers=[(b"origin", origin.encode()), (b"host", b"localhost"),
                                              (b"cookie", cookie.encode())])
        connected, code = await comm.connect(timeout=5)
        await comm.disconnect()
        return connected, code

    return async_to_sync(connect)()


def test_a_websocket_from_a_foreign_origin_is_refused(investigator: User, transactional_db: None) -> None:
    client = Client()
    client.force_login(investigator)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    assert _websocket("http://localhost", cookie)[0] is True
    assert _websocket("https://evil.example", cookie)[0] is False
    assert _websocket("null", cookie)[0] is False


def test_searches_photo_searches_and_uploads_are_rate_limited_per_user(
    investigator: User, admin_user: User, monkeypatch: pytest.MonkeyPatch, client_for: Any,
) -> None:
    monkeypatch.setattr(EndpointRateThrottle, "THROTTLE_RATES", {"search": "3/min", "photo_search": "2/min", "upload": "2/hour"})
    ivy, ada = client_for(investigator), client_for(admin_user)
    for path, limit in (("/api/search/", 3), ("/api/search/image/", 2), ("/api/videos/", 2)):
        codes = [ivy.post(path, {}, format="json").status_code for _ in range(limit)]
        assert 429 not in codes, path
        refused = ivy.post(path, {}, format="json")
        assert refused.status_code == 429, path
        assert "throttled" in refused.json()["detail"].lower()
        assert "Retry-After" in refused.headers
        # Another user is not slowed down by the first one's requests.
        assert ada.post(path, {}, format="json").status_code != 429, path
    # Reads are not counted.
    assert all(ivy.get("/api/videos/").status_code == 200 for _ in range(5))


def test_a_session_expires_after_the_configured_age(investigator: User, settings: Any) -> None:
    response = Client().post("/accounts/login/", {"username": "ivy", "password": "pw-ivy-123"})
    assert response.status_code == 302
    assert int(response.cookies["sessionid"]["max-age"]) == settings.SESSION_COOKIE_AGE <= 12 * 3600
    assert response.cookies["sessionid"]["httponly"]


def test_failed_logins_lock_the_username_out_and_say_so_once(investigator: User, settings: Any) -> None:
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_LOCKOUT_SECONDS = 120
    events: list[dict[str, Any]] = []

    def listener(**kwargs: Any) -> None:
        events.append(kwargs)

    lockout.login_locked_out.connect(listener)
    try:
        browser = Client(REMOTE_ADDR="203.0.113.9")
        for _ in range(3):
            assert browser.post("/accounts/login/", {"username": "ivy", "password": "wrong"}).status_code == 200
        # Locked: even the right password is refused, in the form and over HTTP Basic.
        assert browser.post("/accounts/login/", {"username": "ivy", "password": "pw-ivy-123"}).status_code == 200
        basic = Client(REMOTE_ADDR="203.0.113.9").get("/api/videos/", HTTP_AUTHORIZATION="Basic aXZ5OnB3LWl2eS0xMjM=")
        assert basic.status_code in (401, 403)
        assert [(e["username"], e["address"]) for e in events] == [("ivy", "203.0.113.9")]
        # The audit ledger says so once, next to each failed attempt.
        locked = AuditEntry.objects.filter(action="login.locked")
        assert [(e.client_address, e.details["username"]) for e in locked] == [("203.0.113.9", "ivy")]
        assert AuditEntry.objects.filter(action="login.failed", client_address="203.0.113.9").count() >= 3
        assert audit_verify().ok
        # Another address is not locked out by this one's guesses.
        other = Client(REMOTE_ADDR="198.51.100.4")
        assert other.post("/accounts/login/", {"username": "ivy", "password": "pw-ivy-123"}).status_code == 302
    finally:
        lockout.login_locked_out.disconnect(listener)
