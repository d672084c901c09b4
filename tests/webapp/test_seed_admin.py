"""``manage.py seed_admin``: the first admin of a deployment, from environment variables."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from webapp.accounts.roles import is_admin
from webapp.accounts.services import user_create_with_role

pytestmark = pytest.mark.django_db


def _seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_admin", *args, stdout=out)
    return out.getvalue()


def test_an_admin_is_created_once_and_its_password_kept_unless_reset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LONGVIEW_ADMIN_USERNAME", "chief")
    monkeypatch.setenv("LONGVIEW_ADMIN_PASSWORD", "Correct-horse-battery-9")
    assert "created" in _seed()
    assert is_admin(authenticate(username="chief", password="Correct-horse-battery-9"))
    monkeypatch.setenv("LONGVIEW_ADMIN_PASSWORD", "Another-horse-battery-10")
    assert "left as it is" in _seed()
    assert authenticate(username="chief", password="Another-horse-battery-10") is None
    assert "password reset" in _seed("--reset-password")
    assert is_admin(authenticate(username="chief", password="Another-horse-battery-10"))


def test_without_a_password_it_fails_or_with_if_configured_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LONGVIEW_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="LONGVIEW_ADMIN_PASSWORD"):
        _seed()
    assert "no admin created" in _seed("--if-configured")


def test_a_weak_password_or_a_taken_non_admin_name_is_refused(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    settings.AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
    monkeypatch.setenv("LONGVIEW_ADMIN_PASSWORD", "short")
    with pytest.raises(CommandError, match="too short"):
        _seed()
    user_create_with_role(username="ivy", password="pw-ivy-123", role="investigator")
    monkeypatch.setenv("LONGVIEW_ADMIN_USERNAME", "ivy")
    monkeypatch.setenv("LONGVIEW_ADMIN_PASSWORD", "Correct-horse-battery-9")
    with pytest.raises(CommandError, match="not an admin"):
        _seed()
