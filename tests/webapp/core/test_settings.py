"""The production profile passes Django's deployment checks; a missing secret is refused."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


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


def test_a_bad_number_in_an_environment_variable_names_the_variable() -> None:
    out = _manage("check", MAX_UPLOAD_BYTES="8GB")
    assert out.returncode != 0
    assert "ImproperlyConfigured: MAX_UPLOAD_BYTES must be a whole number, got '8GB'" in out.stderr


def test_an_unknown_key_in_the_settings_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "longview.toml"
    config.write_text("search_k = 20\nserch_batch = 4\n")
    out = _manage("check", LONGVIEW_CONFIG=str(config))
    assert out.returncode != 0
    assert "unknown config key serch_batch" in out.stderr


def test_the_settings_file_sets_the_product_settings(tmp_path: Path) -> None:
    config = tmp_path / "longview.toml"
    config.write_text("search_k = 20\n[search_refine]\ncandidates = 50\n")
    out = _manage(
        "shell", "-c", "from django.conf import settings; print(settings.LONGVIEW['SEARCH_K'], settings.LONGVIEW['SEARCH_REFINE'])",
        LONGVIEW_CONFIG=str(config),
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "20 {'candidates': 50}"
