"""Real servers for end-to-end tests: Redis, a Celery worker, daphne, and headless Chromium.

Each runs as its own process against a fresh data folder and SQLite database, exactly as
``make run`` starts them; the tests talk to them only over HTTP and websockets.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"

ADMIN = ("admin", "e2e-admin-pass")
INVESTIGATOR = ("investigator", "e2e-investigator-pass")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def postgres_database(server_url: str, name: str) -> str:
    """Create an empty database ``name`` on the server of ``server_url``; returns its URL."""
    import psycopg

    base, _, _ = server_url.rpartition("/")
    with psycopg.connect(server_url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{base}/{name}"


def _wait_for(check: Any, what: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text()[-3000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{tail}")
        try:
            if check():
                return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    tail = log.read_text()[-3000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not come up within {timeout}s\n{tail}")


@dataclass
class Stack:
    url: str
    env: dict[str, str]
    data_dir: Path
    logs: Path

    def api(self, method: str, path: str, body: Any = None, *, user: tuple[str, str] = INVESTIGATOR,
            headers: dict[str, str] | None = None, raw: bytes | None = None) -> tuple[int, Any]:
        token = base64.b64encode(f"{user[0]}:{user[1]}".encode()).decode()
        hdrs = {"Authorization": f"Basic {token}", **(headers or {})}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def demo_case(self) -> int:
        """The id of the case ``seed_demo`` made for the demo investigator."""
        _, cases = self.api("GET", "/api/cases/")
        return next(c["id"] for c in cases if c["reference"] == "DEMO-1")

    def upload(self, path: Path, *, camera: int, recorded_at: str, chunk: int = 256 * 1024, case: int | None = None,
               user: tuple[str, str] = INVESTIGATOR) -> tuple[int, Any]:
        data = path.read_bytes()
        body = {"case": case if case is not None else self.demo_case(), "camera": camera, "recorded_at": recorded_at,
                "filename": path.name, "size": len(data)}
        status, video = self.api("POST", "/api/videos/", body, user=user)
        if status != 201:
            return status, video
        offset = 0
        while offset < len(data):
            end = min(offset + chunk, len(data))
            status, video = self.api(
                "PUT", f"/api/videos/{video['id']}/content/", raw=data[offset:end], user=user,
                headers={"Content-Type": "application/octet-stream", "Content-Range": f"bytes {offset}-{end - 1}/{len(data)}"},
            )
            if status != 200:
                return status, video
            offset = video["upload_offset"]
        return status, video

    def add_user(self, username: str, password: str, role: str = "investigator") -> None:
        code = ("from webapp.accounts.services import user_create_with_role; "
                f"user_create_with_role(username={username!r}, password={password!r}, role={role!r})")
        subprocess.run([str(VENV_BIN / "python"), "manage.py", "shell", "-c", code], cwd=REPO, env=self.env, check=True)

    def wait_video(self, video_id: int, timeout: float = 240.0, user: tuple[str, str] = INVESTIGATOR) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, video = self.api("GET", f"/api/videos/{video_id}/", user=user)
            if video["status"] in ("done", "failed", "rejected"):
                return video
            time.sleep(0.5)
        raise AssertionError(f"video {video_id} still {video['status']} after {timeout}s")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Iterator[Stack]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server is not installed: run `make setup`")
    root = tmp_path_factory.mktemp("stack")
    logs = root / "logs"
    logs.mkdir()
    (root / "models").symlink_to(data_dir / "models")
    redis_port, web_port = free_port(), free_port()
    env = {
        **os.environ,
        "LONGVIEW_DATA_DIR": str(root),
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CHANNEL_PREFIX": f"e2e{redis_port}",
        "DEMO_ADMIN_PASSWORD": ADMIN[1],
        "DEMO_INVESTIGATOR_PASSWORD": INVESTIGATOR[1],
        # Small chunks: a browser upload of a test clip takes several, so one can stop part-way.
        "UPLOAD_CHUNK_BYTES": str(64 * 1024),
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "INFO",
    }
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"] = postgres_database(os.environ["DATABASE_URL"], f"e2e_{redis_port}")
    else:
        env.pop("DATABASE_URL", None)
    procs: list[subprocess.Popen] = []

    def spawn(name: str, args: list[str]) -> subprocess.Popen:
        log = (logs / f"{name}.log").open("wb")
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    py = str(VENV_BIN / "python")
    try:
        redis = spawn("redis", ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no"])
        _wait_for(lambda: socket.create_connection(("127.0.0.1", redis_port), 0.5).close() is None,
                  "redis", 10, redis, logs / "redis.log")
        subprocess.run([py, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
        subprocess.run([py, "manage.py", "seed_demo"], cwd=REPO, env=env, check=True, capture_output=True)
        worker = spawn("worker", [str(VENV_BIN / "celery"), "-A", "webapp", "worker", "-n", f"e2e{redis_port}@%h",
                                  "-Q", "ingest,search", "--concurrency", "2", "--pool", "prefork",
                                  "--without-mingle", "--without-gossip", "--loglevel", "INFO"])
        web = spawn("web", [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(web_port), "webapp.asgi:application"])
        url = f"http://127.0.0.1:{web_port}"
        _wait_for(lambda: urllib.request.urlopen(url + "/healthz", timeout=1).status == 200,
                  "daphne", 60, web, logs / "web.log")
        _wait_for(lambda: b"ready" in (logs / "worker.log").read_bytes(), "celery worker", 60, worker,
                  logs / "worker.log")
        yield Stack(url=url, env=env, data_dir=root, logs=logs)
        # Whatever the journeys did, the audit ledger's chain must still be whole.
        check = subprocess.run([py, "manage.py", "verify_audit"], cwd=REPO, env=env, capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        (logs / "verify_audit.log").write_text(check.stdout)
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is not installed: run `make setup`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
        )
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, stack: Stack, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    yield pg
    artifacts = REPO / "test-artifacts"
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        artifacts.mkdir(exist_ok=True)
        pg.screenshot(path=str(artifacts / f"{request.node.name}.png"), full_page=True)
        for log in stack.logs.glob("*.log"):
            shutil.copy(log, artifacts / f"{request.node.name}-{log.name}")
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def login(page: Any, stack: Stack, user: tuple[str, str] = INVESTIGATOR) -> None:
    page.goto(stack.url + "/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=username]", user[0])
    page.fill("input[name=password]", user[1])
    page.click("button[type=submit]")
    page.wait_for_selector(".topbar nav")


def open_case(page: Any, stack: Stack, case_id: int) -> None:
    """Open a case's page: it becomes the case the pages work in."""
    page.goto(f"{stack.url}/cases/{case_id}/")
    page.wait_for_selector("#case-page")
