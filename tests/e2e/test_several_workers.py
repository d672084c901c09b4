"""Several workers, as separate hosts would run them: two ingest workers (``-Q ingest``) and one search
worker (``-Q search``), each its own process with its own empty working directory, its own name and
log, sharing only the database, Redis and the data folder (``LONGVIEW_DATA_DIR``, as shared storage).

Two clips uploaded at once ingest in parallel, one on each ingest worker, and both end ``done``; a
person search over the websocket is answered by the search worker and finds people of both videos.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import urllib.request
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import (
    ADMIN,
    INVESTIGATOR,
    REPO,
    VENV_BIN,
    Stack,
    _wait_for,
    free_port,
    login,
    postgres_database,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]

WORKERS = {"ingest-a": "ingest", "ingest-b": "ingest", "search-a": "search"}

# Opens the page's own kind of socket, starts a person search and collects its events to the end.
_SEARCH_OVER_SOCKET = """([caseId, trackletId]) => new Promise((resolve, reject) => {
  const ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/events/");
  const events = [];
  const timer = setTimeout(() => { ws.close(); resolve(events); }, 60000);
  ws.onopen = () => ws.send(JSON.stringify({type: "search.start", case: caseId, tracklet: trackletId,
                                            justification: "Two cameras: the same person on both?"}));
  ws.onmessage = (e) => {
    const message = JSON.parse(e.data);
    events.push(message);
    if (["search.done", "search.failed", "error"].includes(message.type)) { clearTimeout(timer); ws.close(); resolve(events); }
  };
  ws.onerror = () => { clearTimeout(timer); reject(new Error("websocket error")); };
})"""


@pytest.fixture
def hosts_stack(tmp_path: Path, data_dir: Path) -> Iterator[Stack]:
    shared = tmp_path / "shared"
    logs = tmp_path / "logs"
    logs.mkdir(parents=True)
    shared.mkdir()
    (shared / "models").symlink_to(data_dir / "models")
    redis_port, web_port = free_port(), free_port()
    env = {**os.environ, "LONGVIEW_DATA_DIR": str(shared), "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "CHANNEL_PREFIX": f"hosts{redis_port}", "DEMO_ADMIN_PASSWORD": ADMIN[1],
           "DEMO_INVESTIGATOR_PASSWORD": INVESTIGATOR[1], "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO"}
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"] = postgres_database(os.environ["DATABASE_URL"], f"hosts_{redis_port}")
    else:
        env.pop("DATABASE_URL", None)
    # A worker host has the code installed, not a checkout as its working directory.
    worker_env = {**env, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)}
    procs: list[subprocess.Popen] = []
    try:
        procs.append(subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=(logs / "redis.log").open("wb"), stderr=subprocess.STDOUT))
        _wait_for(lambda: socket.create_connection(("127.0.0.1", redis_port), 0.5).close() is None,
                  "redis", 10, procs[0], logs / "redis.log")
        py = str(VENV_BIN / "python")
        subprocess.run([py, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
        subprocess.run([py, "manage.py", "seed_demo"], cwd=REPO, env=env, check=True, capture_output=True)
        web = subprocess.Popen(
            [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(web_port), "webapp.asgi:application"],
            cwd=REPO, env=env, stdout=(logs / "web.log").open("wb"), stderr=subprocess.STDOUT)
        procs.append(web)
        workers: dict[str, subprocess.Popen] = {}
        for name, queue in WORKERS.items():
            cwd = tmp_path / "hosts" / name
            cwd.mkdir(parents=True)
            workers[name] = subprocess.Popen(
                [str(VENV_BIN / "celery"), "-A", "webapp", "worker", "-n", f"{name}@host-{name}", "-Q", queue,
                 "--concurrency", "1", "--pool", "prefork", "--without-mingle", "--without-gossip",
                 "--loglevel", "INFO"],
                cwd=cwd, env=worker_env, stdout=(logs / f"{name}.log").open("wb"), stderr=subprocess.STDOUT)
            procs.append(workers[name])
        url = f"http://127.0.0.1:{web_port}"
        _wait_for(lambda: urllib.request.urlopen(url + "/healthz", timeout=1).status == 200,
                  "daphne", 60, web, logs / "web.log")
        for name, proc in workers.items():
            log = logs / f"{name}.log"
            _wait_for(lambda log=log: b" ready." in log.read_bytes(), f"celery worker {name}", 90, proc, log)
        yield Stack(url=url, env=env, data_dir=shared, logs=logs)
    finally:
        for proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _tasks(log: Path, task: str) -> list[str]:
    """The ids of the ``task`` runs a worker's log shows succeeded."""
    return re.findall(rf"Task {re.escape(task)}\[([0-9a-f-]+)\] succeeded", log.read_text())


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_two_ingest_workers_and_a_search_worker_share_the_work(
    hosts_stack: Stack, clip_factory: Callable[..., Path], browser: Any
) -> None:
    stack = hosts_stack
    clips = [clip_factory(0.0, 4.0), clip_factory(30.0, 4.0)]
    case_id = stack.demo_case()
    results: dict[int, tuple[int, Any]] = {}

    def upload(n: int) -> None:
        results[n] = stack.upload(clips[n], camera=1, recorded_at=f"2026-11-04T10:0{n}:00Z", case=case_id)

    senders = [threading.Thread(target=upload, args=(n,)) for n in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(120)
    for n in range(2):
        assert results[n][0] == 200, results[n]
    video_ids = [results[n][1]["id"] for n in range(2)]
    finals = [stack.wait_video(v, timeout=180) for v in video_ids]
    assert [f["status"] for f in finals] == ["done", "done"], [(f["id"], f["status"], f.get("error")) for f in finals]

    # Each ingest worker ran one of the two ingests, and they ran at the same time.
    ingests = {name: _tasks(stack.logs / f"{name}.log", "videos.ingest") for name in WORKERS}
    assert len(ingests["ingest-a"]) == 1, ingests
    assert len(ingests["ingest-b"]) == 1, ingests
    assert ingests["search-a"] == []
    (a_start, a_end), (b_start, b_end) = ((_when(f["started_at"]), _when(f["finished_at"])) for f in finals)
    intervals = [(f["started_at"], f["finished_at"]) for f in finals]
    assert a_start < b_end, intervals
    assert b_start < a_end, intervals

    people = {v: {p["tracklet"] for p in stack.api("GET", f"/api/videos/{v}/tracklets/")[1]} for v in video_ids}
    assert all(people.values()), people

    # A person search over the page's websocket: the search worker answers it.
    context = browser.new_context()
    try:
        page = context.new_page()
        login(page, stack)
        events = page.evaluate(_SEARCH_OVER_SOCKET, [case_id, min(people[video_ids[0]])])
    finally:
        context.close()
    kinds = [e["type"] for e in events]
    assert kinds[0] == "search.started", events
    assert kinds[-1] == "search.done", events
    status, record = stack.api("GET", f"/api/search/{events[0]['search']}/")
    assert status == 200, record
    assert record["status"] == "done", record
    found = {h["tracklet"] for hits in record["lanes"].values() for h in hits}
    assert found & people[video_ids[0]], (found, people)
    assert found & people[video_ids[1]], (found, people)
    searches = {name: _tasks(stack.logs / f"{name}.log", "search.run") for name in WORKERS}
    assert len(searches["search-a"]) == 1, searches
    assert searches["ingest-a"] == [], searches
    assert searches["ingest-b"] == [], searches
