"""The ingest worker SIGKILLed at random moments of real ingests (real Redis, Celery, daphne and the
real pipeline on a clip of the street scene), restarted each time: every video ends ``done`` once,
with the same people as an undisturbed ingest, no orphaned files, and snapshots equal to the database.

Half the kills hit the pool process running the task (Celery requeues it), half the whole worker
(its unacknowledged message waits for the broker's visibility timeout; the restarted worker requeues
what was left unfinished). ``LONGVIEW_WORKER_KILLS`` sets the number (the test command runs 10
with ``LONGVIEW_WORKER_KILLS=10 pytest tests/e2e/test_worker_kills.py``; the suite runs 3).
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
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
    postgres_database,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

KILLS = int(os.environ.get("LONGVIEW_WORKER_KILLS", "3"))

_INSPECT = r"""
import json
from pathlib import Path
from django.conf import settings
from reid_engine.index import load_snapshot
from webapp.videos.models import Video
from webapp.tracklets.models import Tracklet
media, index_dir = Path(settings.MEDIA_ROOT), Path(settings.INDEX_DIR)
videos = {str(v.storage_key): v for v in Video.objects.all()}
rows = list(Tracklet.objects.values_list("pk", "video__storage_key", "track_id", "identity_embedding"))
print(json.dumps({
    "videos": {v.pk: [v.status, sorted(Tracklet.objects.filter(video=v).values_list("track_id", flat=True))]
               for v in videos.values()},
    "orphan_videos": [p.name for p in (media / "videos").glob("*") if p.stem not in videos],
    "orphan_proxies": [p.name for p in (media / "proxies").glob("*") if p.stem not in videos],
    "orphan_thumbs": sorted(
        str(p.relative_to(media)) for p in (media / "thumbs").glob("*/*")
        if (p.parent.name, p.stem) not in {(str(k), str(t)) for _, k, t, _ in rows}
    ),
    "stray_files": sorted(p.name for p in index_dir.glob(".*")),
    "snapshots": {p.name: sorted(int(i) for i in load_snapshot(p).ids()) for p in index_dir.glob("*.faiss")},
    "db_ids": {"appearance": sorted(pk for pk, *_ in rows),
               "identity": sorted(pk for pk, _, _, ident in rows if ident is not None)},
}))
"""


class Worker:
    """One ingest worker, started in its own process group so the test can kill it whole."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log, self.proc = env, log, None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        out = self.log.open("ab")
        self.proc = subprocess.Popen(
            [str(VENV_BIN / "celery"), "-A", "webapp", "worker", "-n", f"kill{self.starts}@%h", "-Q", "ingest",
             "--concurrency", "1", "--pool", "prefork", "--without-mingle", "--without-gossip", "--loglevel", "INFO"],
            cwd=REPO, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        starts = self.starts
        _wait_for(lambda: self.log.read_bytes().count(b" ready.") >= starts, "celery worker", 90, self.proc, self.log)

    def pool_pids(self) -> list[int]:
        assert self.proc is not None
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        return [int(p) for p in path.read_text().split()] if path.exists() else []

    def kill(self, *, whole: bool) -> None:
        assert self.proc is not None
        if whole:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
            self.start()
        else:
            for pid in self.pool_pids():
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def kill_stack(tmp_path: Path, data_dir: Path) -> Iterator[tuple[Stack, Worker]]:
    root = tmp_path / "stack"
    logs = root / "logs"
    logs.mkdir(parents=True)
    (root / "models").symlink_to(data_dir / "models")
    redis_port, web_port = free_port(), free_port()
    env = {**os.environ, "LONGVIEW_DATA_DIR": str(root), "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
           "CHANNEL_PREFIX": f"kill{redis_port}", "DEMO_ADMIN_PASSWORD": ADMIN[1],
           "DEMO_INVESTIGATOR_PASSWORD": INVESTIGATOR[1], "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO"}
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        env["DATABASE_URL"] = postgres_database(os.environ["DATABASE_URL"], f"kill_{redis_port}")
    else:
        env.pop("DATABASE_URL", None)
    procs: list[subprocess.Popen] = []
    worker = Worker(env, logs / "worker.log")
    try:
        procs.append(subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=(logs / "redis.log").open("wb"), stderr=subprocess.STDOUT))
        _wait_for(lambda: socket.create_connection(("127.0.0.1", redis_port), 0.5).close() is None,
                  "redis", 10, procs[0], logs / "redis.log")
        py = str(VENV_BIN / "python")
        subprocess.run([py, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True)
        subprocess.run([py, "manage.py", "seed_demo"], cwd=REPO, env=env, check=True, capture_output=True)
        procs.append(subprocess.Popen(
            [str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(web_port), "webapp.asgi:application"],
            cwd=REPO, env=env, stdout=(logs / "web.log").open("wb"), stderr=subprocess.STDOUT))
        url = f"http://127.0.0.1:{web_port}"
        _wait_for(lambda: urllib.request.urlopen(url + "/healthz", timeout=1).status == 200,
                  "daphne", 60, procs[1], logs / "web.log")
        worker.start()
        yield Stack(url=url, env=env, data_dir=root, logs=logs), worker
    finally:
        worker.stop()
        for proc in reversed(procs):
            proc.terminate()
            proc.wait(20)


def _inspect(stack: Stack) -> dict[str, Any]:
    out = subprocess.run([str(VENV_BIN / "python"), "manage.py", "shell", "-c", _INSPECT], cwd=REPO, env=stack.env,
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_ingest_worker_killed_at_random_moments_loses_and_duplicates_nothing(
    kill_stack: tuple[Stack, Worker], clip_factory: Callable[..., Path]
) -> None:
    stack, worker = kill_stack
    clip = clip_factory(30.0, 3.0)
    rng = random.Random(os.environ.get("LONGVIEW_WORKER_KILLS_SEED", "18"))
    videos = []
    for n in range(max(2, KILLS // 2)):
        status, video = stack.upload(clip, camera=1, recorded_at=f"2026-11-02T10:{n:02d}:00Z")
        assert status == 200, video
        videos.append(video["id"])
    killed = []
    for kill in range(KILLS):
        # Wait until a video is being analysed, then kill at a random moment of its ingest.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            states = [stack.api("GET", f"/api/videos/{v}/")[1]["status"] for v in videos]
            if "processing" in states:
                break
            if all(s == "done" for s in states):
                status, video = stack.upload(clip, camera=1, recorded_at=f"2026-11-02T11:{kill:02d}:00Z")
                videos.append(video["id"])
            time.sleep(0.2)
        time.sleep(rng.uniform(0.2, 8.0))
        whole = kill % 2 == 1
        worker.kill(whole=whole)
        killed.append("worker" if whole else "pool process")
    # An undisturbed ingest of the same clip says which people each video must hold.
    status, reference = stack.upload(clip, camera=1, recorded_at="2026-11-02T12:00:00Z")
    assert status == 200
    finals = [stack.wait_video(v, timeout=600) for v in [*videos, reference["id"]]]
    assert [f["status"] for f in finals] == ["done"] * len(finals), [(f["id"], f["status"], f.get("error")) for f in finals]

    state = _inspect(stack)
    expected = state["videos"][str(reference["id"])][1]
    assert expected, "the clip shows people"
    for v in videos:
        assert state["videos"][str(v)] == ["done", expected]
    assert state["orphan_videos"] == []
    assert state["orphan_proxies"] == []
    assert state["orphan_thumbs"] == []
    assert state["stray_files"] == []
    # Each lane's shards together hold exactly the database's rows, each row in one shard.
    for prefix, lane in (("appearance-", "appearance"), ("identity-", "identity")):
        shards = [ids for name, ids in state["snapshots"].items() if name.startswith(prefix)]
        held = sorted(i for ids in shards for i in ids)
        assert held == state["db_ids"][lane], lane
    assert any(name.startswith("appearance-") for name in state["snapshots"])
    log = (stack.logs / "worker.log").read_text()
    print(f"worker kills: {len(killed)} ({killed.count('worker')} whole worker), {len(videos) + 1} videos done once,"  # noqa: T201
          f" {worker.starts} worker starts, requeued at start: {log.count('requeued')}")
