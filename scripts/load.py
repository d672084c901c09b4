"""Load benchmark on loopback: websocket subscribers, person searches at set rates and an upload at once.

It starts a throw-away stack (:mod:`tests.stack`: Redis, a Celery worker, daphne against a fresh
data folder), ingests a short stretch of the demo street footage into the demo case so searches
have people, then for each rate of ``--rates`` runs ``--seconds`` of:

* ``--clients`` websocket clients, signed in with a session cookie, each subscribed to the ingest
  progress of one video uploaded (chunked upload API) while the rate runs; every subscriber should
  receive the same sequence, so a message one received and another did not counts as lost;
* person searches (``search.start``) sent at the rate from ``--search-clients`` sockets, timed
  from sending to the first ``search.hits`` (first batch) and to ``search.done`` (final).

``--json`` prints one JSON object; otherwise a short table. Nothing outside the temporary folder
is read or written besides the demo footage and the model weights it links.

    .venv/bin/python scripts/load.py --json
    .venv/bin/python scripts/load.py --clients 200 --rates 10,20,40 --seconds 120
"""

from __future__ import annotations

import argparse
import asyncio
import http.cookiejar
import json
import os
import re
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autobahn.asyncio.websocket import WebSocketClientFactory, WebSocketClientProtocol  # noqa: E402

from tests.conftest import DATA_DIR, write_clip  # noqa: E402
from tests.stack import INVESTIGATOR, Stack, running_stack  # noqa: E402

BREAK_P99_FIRST_MS = 300.0


def login_cookie(url: str, user: tuple[str, str]) -> str:
    """Sign in through the login form; returns the ``Cookie`` header of the session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(url + "/accounts/login/", timeout=30) as resp:
        page = resp.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if token is None:
        raise RuntimeError("the login page has no CSRF token")
    form = urllib.parse.urlencode({"username": user[0], "password": user[1], "csrfmiddlewaretoken": token[1]})
    # The URL is the loopback server this script started.
    req = urllib.request.Request(url + "/accounts/login/", data=form.encode(), headers={"Referer": url + "/"})  # noqa: S310
    with opener.open(req, timeout=30) as resp:
        resp.read()
    if not any(c.name == "sessionid" or "session" in c.name for c in jar):
        raise RuntimeError("signing in gave no session cookie")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


class _Protocol(WebSocketClientProtocol):
    def onOpen(self) -> None:
        self.factory.client.opened(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.factory.client.received(json.loads(payload))

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self.factory.client.closed(code)


@dataclass
class Search:
    sent: float
    first: float | None = None
    done: float | None = None
    failed: bool = False


@dataclass
class Client:
    """One websocket: the ingest messages it received and the searches it sent."""

    video: int | None = None
    ingest: list[str] = field(default_factory=list)
    ingest_over: asyncio.Event = field(default_factory=asyncio.Event)
    pending: list[float] = field(default_factory=list)
    searches: dict[int, Search] = field(default_factory=dict)
    errors: int = 0
    dropped: bool = False
    closing: bool = False
    proto: Any = None
    ready: asyncio.Future | None = None
    gone: asyncio.Future | None = None

    async def connect(self, url: str, cookie: str) -> None:
        loop = asyncio.get_running_loop()
        self.ready, self.gone = loop.create_future(), loop.create_future()
        parts = urllib.parse.urlsplit(url)
        factory = WebSocketClientFactory(f"ws://{parts.netloc}/ws/events/", origin=url, headers={"Cookie": cookie})
        factory.protocol = _Protocol
        factory.client = self  # type: ignore[attr-defined]
        await loop.create_connection(factory, parts.hostname, parts.port)
        await asyncio.wait_for(self.ready, 30)

    def opened(self, proto: Any) -> None:
        self.proto = proto
        if self.ready is not None and not self.ready.done():
            self.ready.set_result(None)

    def closed(self, code: int | None) -> None:
        if self.ready is not None and not self.ready.done():
            self.ready.set_exception(RuntimeError(f"websocket refused ({code})"))
        if not self.closing:
            self.dropped = True
        if self.gone is not None and not self.gone.done():
            self.gone.set_result(None)

    def send(self, message: dict[str, Any]) -> None:
        self.proto.sendMessage(json.dumps(message).encode())

    def search(self, body: dict[str, Any]) -> None:
        self.pending.append(time.monotonic())
        self.send({"type": "search.start", **body})

    def received(self, msg: dict[str, Any]) -> None:
        now, kind = time.monotonic(), msg.get("type", "")
        if kind.startswith("ingest.") and kind != "ingest.subscribed" and msg.get("video") == self.video:
            self.ingest.append(json.dumps(msg, sort_keys=True))
            if kind in ("ingest.done", "ingest.failed"):
                self.ingest_over.set()
        elif kind == "search.started" and self.pending:
            self.searches[msg["search"]] = Search(sent=self.pending.pop(0))
        elif kind == "error":
            self.errors += 1
            if msg.get("request") == "search.start" and self.pending:
                self.pending.pop(0)
        elif kind in ("search.hits", "search.done", "search.failed") and msg.get("search") in self.searches:
            record = self.searches[msg["search"]]
            if kind == "search.hits" and record.first is None:
                record.first = now
            elif kind == "search.done":
                record.done = now
            elif kind == "search.failed":
                record.failed = True

    async def close(self) -> None:
        self.closing = True
        if self.proto is not None and self.gone is not None and not self.gone.done():
            self.proto.sendClose()
            try:
                await asyncio.wait_for(self.gone, 10)
            except TimeoutError:
                self.proto.dropConnection(abort=True)


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50/p95/p99 (nearest rank) in milliseconds; None for no values."""
    ordered = sorted(values)

    def rank(p: float) -> float | None:
        if not ordered:
            return None
        return round(1000 * ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))], 1)

    return {"p50": rank(50), "p95": rank(95), "p99": rank(99)}


def tracebacks(stack: Stack) -> int:
    """Tracebacks the worker and daphne have logged so far."""
    return sum((stack.logs / f"{name}.log").read_text(errors="replace").count("Traceback")
               for name in ("web", "worker") if (stack.logs / f"{name}.log").exists())


async def run_rate(stack: Stack, cookie: str, opts: argparse.Namespace, rate: float, clip: Path, camera: int,
                   case: int, tracklets: list[int], index: int) -> dict[str, Any]:
    """One rate: subscribers on a fresh upload, searches at ``rate`` for ``opts.seconds``."""
    tracebacks_before = tracebacks(stack)
    http_5xx = 0
    status, video = stack.upload_create(clip, camera=camera, recorded_at=f"2026-11-02T1{index}:00:00Z", case=case)
    if status >= 500:
        http_5xx += 1
    if status != 201:
        raise RuntimeError(f"announcing the upload answered {status}: {video}")
    subscribers = [Client(video=video["id"]) for _ in range(opts.clients)]
    searchers = [Client() for _ in range(opts.search_clients)]
    connect_failures = 0
    for group in range(0, len(subscribers + searchers), 20):
        results = await asyncio.gather(*(c.connect(stack.url, cookie) for c in (subscribers + searchers)[group:group + 20]),
                                       return_exceptions=True)
        connect_failures += sum(isinstance(r, BaseException) for r in results)
    for client in subscribers:
        if client.proto is not None:
            client.send({"type": "ingest.subscribe", "videos": [video["id"]]})
    await asyncio.sleep(1.0)
    upload = asyncio.create_task(asyncio.to_thread(stack.upload_send, video["id"], clip, chunk=64 * 1024))
    live = [c for c in searchers if c.proto is not None]
    total = round(rate * opts.seconds)
    start = time.monotonic()
    for i in range(total):
        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        live[i % len(live)].search({"case": case, "justification": "load benchmark", "k": opts.k,
                                    "tracklet": tracklets[i % len(tracklets)]})
    await asyncio.sleep(max(0.0, start + opts.seconds - time.monotonic()))
    upload_status, _ = await upload
    if upload_status >= 500:
        http_5xx += 1
    deadline = time.monotonic() + opts.grace
    while time.monotonic() < deadline and any(s.done is None and not s.failed for c in live for s in c.searches.values()):
        await asyncio.sleep(0.2)
    live_subscribers = [c for c in subscribers if c.proto is not None and not c.dropped]
    waits = [asyncio.wait_for(c.ingest_over.wait(), max(0.1, deadline - time.monotonic())) for c in live_subscribers]
    ingest_over = all(not isinstance(r, BaseException) for r in await asyncio.gather(*waits, return_exceptions=True))
    await asyncio.sleep(1.0)
    everyone = Counter[str]()
    for client in subscribers:
        everyone |= Counter(client.ingest)
    lost = [sum((everyone - Counter(c.ingest)).values()) for c in subscribers]
    records = [s for c in live for s in c.searches.values()]
    dropped = sum(c.dropped for c in subscribers + searchers)
    await asyncio.gather(*(c.close() for c in subscribers + searchers))
    error_replies = sum(c.errors for c in subscribers + searchers)
    unanswered = sum(len(c.pending) for c in live)
    failed = sum(s.failed for s in records)
    unfinished = sum(s.done is None and not s.failed for s in records)
    received = [len(c.ingest) for c in subscribers]
    return {
        "rate": rate,
        "seconds": opts.seconds,
        "searches": {"sent": total, "done": sum(s.done is not None for s in records), "failed": failed,
                     "unfinished": unfinished + unanswered},
        "first_batch_ms": percentiles([s.first - s.sent for s in records if s.first is not None]),
        "final_ms": percentiles([s.done - s.sent for s in records if s.done is not None]),
        "errors": {"error_messages": error_replies, "http_5xx": http_5xx, "dropped_connections": dropped,
                   "refused_connections": connect_failures, "server_tracebacks": tracebacks(stack) - tracebacks_before},
        "websocket": {"clients": len(subscribers), "upload_status": upload_status, "ingest_finished": ingest_over,
                      "distinct_messages": sum(everyone.values()),
                      "received_per_client": {"min": min(received), "max": max(received)},
                      "lost_per_client": {"max": max(lost), "total": sum(lost)}},
    }


def server_errors(row: dict[str, Any]) -> int:
    e = row["errors"]
    return int(e["error_messages"] + e["http_5xx"] + e["dropped_connections"] + e["refused_connections"]
               + e["server_tracebacks"] + row["searches"]["failed"])


def _items(body: Any) -> list[dict[str, Any]]:
    """The rows of a list answer, paginated or not."""
    return list(body["results"] if isinstance(body, dict) else body)


async def benchmark(opts: argparse.Namespace, root: Path) -> dict[str, Any]:
    """Start the stack, seed it, run every rate and return the report."""
    source = DATA_DIR / "data" / "vtest.avi"
    if not source.exists():
        raise RuntimeError(f"{source} is missing: run `make setup` first")
    seed_clip = write_clip(source, root / "seed.mp4", start_s=0.0, seconds=opts.seed_seconds)
    env = {"THROTTLE_UPLOAD": "100000/hour", "THROTTLE_SEARCH": "100000/min"}
    stack_root = root / "stack"
    stack_root.mkdir()
    with running_stack(stack_root, DATA_DIR / "models", extra_env=env) as stack:
        case = stack.demo_case()
        _, cameras = stack.api("GET", "/api/cameras/")
        camera = _items(cameras)[0]["id"]
        started = time.monotonic()
        status, video = stack.upload(seed_clip, camera=camera, recorded_at="2026-11-02T09:00:00Z", case=case)
        if status != 200:
            raise RuntimeError(f"the seed upload answered {status}: {video}")
        seeded = stack.wait_video(video["id"], timeout=600)
        if seeded["status"] != "done":
            raise RuntimeError(f"the seed video ended {seeded['status']}")
        _, people = stack.api("GET", f"/api/videos/{video['id']}/tracklets/")
        tracklets = [p["tracklet"] for p in _items(people)]
        if not tracklets:
            raise RuntimeError("the seed footage gave no people to search for")
        seed_s = time.monotonic() - started
        cookie = login_cookie(stack.url, INVESTIGATOR)
        rows = []
        for index, rate in enumerate(opts.rates):
            start_s = (opts.seed_seconds + 2.0 + index * (opts.upload_seconds + 1.0)) % 70.0
            clip = write_clip(source, root / f"upload{index}.mp4", start_s=start_s, seconds=opts.upload_seconds)
            rows.append(await run_rate(stack, cookie, opts, rate, clip, camera, case, tracklets, index))
        audit = stack.verify_audit().returncode == 0
    broken = next((r["rate"] for r in rows if server_errors(r) or r["searches"]["unfinished"]
                   or (r["first_batch_ms"]["p99"] or 0) > BREAK_P99_FIRST_MS), None)
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "platform": sys.platform},
        "settings": {"clients": opts.clients, "search_clients": opts.search_clients, "seconds": opts.seconds,
                     "rates": opts.rates, "k": opts.k, "seed_seconds": opts.seed_seconds,
                     "upload_seconds": opts.upload_seconds, "grace": opts.grace},
        "seed": {"people": len(tracklets), "ingest_s": round(seed_s, 1)},
        "rates": rows,
        "server_errors": sum(server_errors(r) for r in rows),
        "lost_messages": sum(r["websocket"]["lost_per_client"]["total"] for r in rows),
        "breaks_at": broken,
        "break_rule": f"first rate with p99 first batch > {BREAK_P99_FIRST_MS:g} ms, unfinished searches or errors",
        "audit_chain_ok": audit,
    }


def table(report: dict[str, Any]) -> str:
    lines = [f"{report['time']}  {report['machine']['cores']} cores  {report['settings']['clients']} subscribers  "
             f"seed: {report['seed']['people']} people",
             "rate/s  sent  done  fail  unfin  first p50/p95/p99 ms   final p50/p95/p99 ms   errors  lost"]
    for r in report["rates"]:
        f, d, s = r["first_batch_ms"], r["final_ms"], r["searches"]
        lines.append(f"{r['rate']:>6g}  {s['sent']:>4}  {s['done']:>4}  {s['failed']:>4}  {s['unfinished']:>5}  "
                     f"{f['p50']}/{f['p95']}/{f['p99']}   {d['p50']}/{d['p95']}/{d['p99']}   "
                     f"{server_errors(r):>6}  {r['websocket']['lost_per_client']['total']:>4}")
    lines.append(f"breaks at: {report['breaks_at']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100, help="websocket subscribers (default 100)")
    parser.add_argument("--search-clients", type=int, default=4, help="sockets the searches are sent from")
    parser.add_argument("--rates", type=lambda s: [float(x) for x in s.split(",")], default=[10.0, 20.0, 30.0],
                        help="searches per second, comma-separated (default 10,20,30)")
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds per rate (default 60)")
    parser.add_argument("--grace", type=float, default=60.0, help="seconds to wait for searches and ingest after a rate")
    parser.add_argument("--k", type=int, default=48)
    parser.add_argument("--seed-seconds", type=float, default=15.0, help="seconds of footage ingested first")
    parser.add_argument("--upload-seconds", type=float, default=8.0, help="seconds of footage uploaded per rate")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    opts = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="longview-load-") as tmp:
        report = asyncio.run(benchmark(opts, Path(tmp)))
    sys.stdout.write((json.dumps(report, indent=2) if opts.json else table(report)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
