"""A throw-away Longview stack: Redis, migrate, seed_demo, a Celery worker and daphne.

Each runs as its own process against a fresh data folder and SQLite database (or a fresh
PostgreSQL database when ``DATABASE_URL`` names a server), exactly as ``make run`` starts them.
The end-to-end fixture and the load benchmark (``scripts/load.py``) both start one with
:func:`running_stack`; nothing touches a user's data folder.
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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent

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

    def upload_create(self, path: Path, *, camera: int, recorded_at: str, case: int | None = None,
                      user: tuple[str, str] = INVESTIGATOR) -> tuple[int, Any]:
        """Announce an upload of ``path`` (the first step of :meth:`upload`)."""
        body = {"case": case if case is not None else self.demo_case(), "camera": camera, "recorded_at": recorded_at,
                "filename": path.name, "size": path.stat().st_size}
        return self.api("POST", "/api/videos/", body, user=user)

    def upload_send(self, video_id: int, path: Path, *, chunk: int = 256 * 1024,
                    user: tuple[str, str] = INVESTIGATOR) -> tuple[int, Any]:
        """Send the bytes of an announced upload in ``chunk``-sized ranges."""
        data = path.read_bytes()
        offset, status, video = 0, 200, None
        while offset < len(data):
            end = min(offset + chunk, len(data))
            status, video = self.api(
                "PUT", f"/api/videos/{video_id}/content/", raw=data[offset:end], user=user,
                headers={"Content-Type": "application/octet-stream", "Content-Range": f"bytes {offset}-{end - 1}/{len(data)}"},
            )
            if status != 200:
                return status, video
            offset = video["upload_offset"]
        return status, video

    def upload(self, path: Path, *, camera: int, recorded_at: str, chunk: int = 256 * 1024, case: int | None = None,
               user: tuple[str, str] = INVESTIGATOR) -> tuple[int, Any]:
        status, video = self.upload_create(path, camera=camera, recorded_at=recorded_at, case=case, user=user)
        if status != 201:
            return status, video
        return self.upload_send(video["id"], path, chunk=chunk, user=user)

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

    def verify_audit(self) -> subprocess.CompletedProcess[str]:
        """``manage.py verify_audit`` against this stack's database."""
        return subprocess.run([str(VENV_BIN / "python"), "manage.py", "verify_audit"], cwd=REPO, env=self.env,
                              capture_output=True, text=True)


@contextmanager
def running_stack(root: Path, models: Path, *, extra_env: dict[str, str] | None = None,
                  concurrency: int = 2) -> Iterator[Stack]:
    """Start a stack whose data folder is ``root`` (empty; ``models`` is linked into it), stop it on exit.

    Raises:
        RuntimeError: redis-server is missing, or a server did not come up.
    """
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed: run `make setup`")
    logs = root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    (root / "models").symlink_to(models)
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
        **(extra_env or {}),
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
                                  "-Q", "ingest,search", "--concurrency", str(concurrency), "--pool", "prefork",
                                  "--without-mingle", "--without-gossip", "--loglevel", "INFO"])
        web = spawn("web", [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(web_port), "webapp.asgi:application"])
        url = f"http://127.0.0.1:{web_port}"
        _wait_for(lambda: urllib.request.urlopen(url + "/healthz", timeout=1).status == 200,
                  "daphne", 60, web, logs / "web.log")
        _wait_for(lambda: b"ready" in (logs / "worker.log").read_bytes(), "celery worker", 60, worker,
                  logs / "worker.log")
        yield Stack(url=url, env=env, data_dir=root, logs=logs)
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
