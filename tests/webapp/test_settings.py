"""The production profile passes Django's deployment checks; a missing secret is refused."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_ENV", "DEBUG")}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env={**base, **env}, capture_output=True, text=True
    )


def test_production_profile_passes_check_deploy() -> None:
    out = _manage(
        "check", "--deploy", "--fail-level", "WARNING",
        DJANGO_ENV="production", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="longview.example.org",
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_production_profile_refuses_to_start_without_a_secret_key() -> None:
    out = _manage("check", DJANGO_ENV="production")
    assert out.returncode != 0
    assert "SECRET_KEY must be set" in out.stderr
