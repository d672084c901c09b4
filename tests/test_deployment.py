"""The container deployment: the compose file's structure (and ``docker compose config`` where a
compose tool is installed), and the entry-point steps the images run (model assets into the data
volume, migrations, the admin from environment variables, static files) run here against a fresh
data folder under the production profile, then a request as the TLS proxy forwards it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
COMPOSE = REPO / "docker" / "compose.yml"
PY = str(Path(sys.executable))

# The Compose Specification keys the file may use (a subset of the specification's own).
TOP_LEVEL = {"services", "volumes", "networks", "configs", "secrets", "name"}
SERVICE_KEYS = {
    "build", "image", "command", "entrypoint", "environment", "volumes", "depends_on", "ports", "expose",
    "restart", "healthcheck", "profiles", "deploy", "networks",
}
CONDITIONS = {"service_started", "service_healthy", "service_completed_successfully"}


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_the_compose_file_uses_known_keys_and_its_references_resolve() -> None:
    spec = _compose()
    assert set(spec) - TOP_LEVEL <= {k for k in spec if k.startswith("x-")}
    services = spec["services"]
    volumes = set(spec["volumes"])
    for name, service in services.items():
        assert set(service) <= SERVICE_KEYS, (name, set(service) - SERVICE_KEYS)
        assert "image" in service or "build" in service, name
        depends = service.get("depends_on", {})
        targets = depends if isinstance(depends, list) else list(depends)
        assert set(targets) <= set(services), (name, targets)
        if isinstance(depends, dict):
            assert all(set(d) == {"condition"} and d["condition"] in CONDITIONS for d in depends.values()), name
        for mount in service.get("volumes", []):
            assert mount.split(":")[0] in volumes, (name, mount)
        if "healthcheck" in service:
            assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    # Everything that runs Longview waits for the one-shot init, which waits for a ready database.
    for name in ("web", "worker", "beat", "worker-gpu"):
        assert services[name]["depends_on"]["init"] == {"condition": "service_completed_successfully"}, name
    assert services["init"]["command"] == ["init"]
    assert services["init"]["depends_on"]["db"] == {"condition": "service_healthy"}
    assert "LONGVIEW_ADMIN_PASSWORD" in services["init"]["environment"]
    # The web server is reached through the proxy only, which says the browser's request was HTTPS.
    assert "ports" not in services["web"]
    assert services["web"]["environment"]["SECURE_PROXY_SSL_HEADER"] == "X-Forwarded-Proto: https"


def _compose_tool() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return None


def test_docker_compose_config_accepts_the_file() -> None:
    tool = _compose_tool()
    if tool is None:
        pytest.skip("no docker compose here; the structure test above still checks the file")
    env = {**os.environ, "SECRET_KEY": "x" * 50, "POSTGRES_PASSWORD": "pw"}
    for profile in ([], ["--profile", "gpu"]):
        done = subprocess.run([*tool, "-f", str(COMPOSE), *profile, "config", "-q"], env=env,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    # Without the secrets it refuses to start, naming them.
    done = subprocess.run([*tool, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "POSTGRES_PASSWORD")})
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr or "POSTGRES_PASSWORD" in done.stderr


def test_the_image_builds_its_assets_and_static_files_with_the_set_up_scripts_own_steps() -> None:
    dockerfile = (REPO / "docker" / "Dockerfile").read_text()
    assert "bash scripts/fetch_assets.sh" in dockerfile
    assert "bash docker/entrypoint.sh static" in dockerfile
    assert 'ENTRYPOINT ["bash", "docker/entrypoint.sh"]' in dockerfile
    assert "bash scripts/fetch_assets.sh" in (REPO / "scripts" / "setup.sh").read_text()
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", "var", ".git"} <= set(ignored)


_PROXIED = r"""
from django.test import Client
c = Client()
plain = c.get("/accounts/login/", HTTP_HOST="longview.example")
proxied = c.get("/accounts/login/", HTTP_HOST="longview.example", HTTP_X_FORWARDED_PROTO="https")
print(plain.status_code, plain.get("Location", ""), proxied.status_code)
"""

_ADMIN = r"""
from django.contrib.auth import authenticate
from webapp.accounts.roles import is_admin
print(is_admin(authenticate(username="chief", password="Correct-horse-battery-9")))
"""


@pytest.mark.slow
def test_the_entry_point_prepares_a_fresh_data_folder_and_serves_behind_a_proxy(
    tmp_path: Path, data_dir: Path
) -> None:
    fresh = tmp_path / "data"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "MEDIA_ROOT", "INDEX_DIR")},
        "DJANGO_ENV": "production",
        "SECRET_KEY": "deployment-test-" + "k" * 40,
        "ALLOWED_HOSTS": "longview.example",
        "LONGVIEW_DATA_DIR": str(fresh),
        "STATIC_ROOT": str(tmp_path / "static"),
        "LONGVIEW_ASSETS_DIR": str(data_dir),
        "LONGVIEW_PYTHON": PY,
        "LONGVIEW_ADMIN_USERNAME": "chief",
        "LONGVIEW_ADMIN_PASSWORD": "Correct-horse-battery-9",
        "LONGVIEW_ADMIN_EMAIL": "chief@example.org",
    }
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        from tests.e2e.conftest import postgres_database

        env["DATABASE_URL"] = postgres_database(os.environ["DATABASE_URL"], f"deploy_{os.getpid()}")

    def run(*args: str) -> str:
        done = subprocess.run(["bash", "docker/entrypoint.sh", *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout + done.stderr

    run("static")
    assert (tmp_path / "static" / "staticfiles.json").exists()
    first = run("init")
    assert "admin 'chief' created" in first
    for source in (data_dir / "models").rglob("*"):
        if source.is_file():
            copy = fresh / "models" / source.relative_to(data_dir / "models")
            assert copy.read_bytes() == source.read_bytes(), copy
    # Again (every `compose up`): nothing copied, nothing to migrate, the admin left as it is.
    again = run("init")
    assert "installed models/" not in again
    assert "No migrations to apply" in again
    assert "admin 'chief' exists; its password is left as it is" in again
    assert run("python", "-c", "print('passed through')").strip() == "passed through"
    assert run(PY, "manage.py", "migrate", "--check").strip() == ""

    def last(text: str) -> str:
        return text.strip().splitlines()[-1]  # the shell prints a banner first

    assert last(run(PY, "manage.py", "shell", "-c", _ADMIN)) == "True"
    run(PY, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    # Plain HTTP is sent to HTTPS; the proxy's HTTPS request is served, not redirected again.
    plain, location, proxied = last(run(PY, "manage.py", "shell", "-c", _PROXIED)).split()
    assert (plain, location, proxied) == ("301", "https://longview.example/accounts/login/", "200")


def test_the_proxy_header_setting_is_read_and_checked() -> None:
    code = "from django.conf import settings; print(settings.SECURE_PROXY_SSL_HEADER)"
    base = {**os.environ, "DJANGO_ENV": "production", "SECRET_KEY": "s" * 50}

    def header(value: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PY, "-c", f"import django; django.setup(); {code}"], cwd=REPO, capture_output=True,
                              text=True, env={**base, "DJANGO_SETTINGS_MODULE": "webapp.settings",
                                              "SECURE_PROXY_SSL_HEADER": value})

    assert header("X-Forwarded-Proto: https").stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
    assert header("X-Forwarded-Ssl: on").stdout.strip() == "('HTTP_X_FORWARDED_SSL', 'on')"
    assert header("").stdout.strip() == "None"
    refused = header("https")
    assert refused.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER must read" in refused.stderr
