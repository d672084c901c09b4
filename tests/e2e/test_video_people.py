"""The video page's people grid fills while the video is being ingested, not only at its end (real
Chromium against daphne, Celery and the real pipeline on a clip long enough to store people early)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack, login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# What the page shows when ``ingest.done`` arrives, before the page's own (asynchronous) handler
# replaces it with the whole list; and every ``ingest.people`` count the socket delivered.
_WATCH = """() => {
  const events = window.longviewEvents;
  window.watchTest = { partial: [], atDone: null };
  events.on("ingest.people", (m) => { window.watchTest.partial.push(m.people); });
  events.on("ingest.done", () => {
    window.watchTest.atDone = Array.from(document.querySelectorAll("#people .person")).map((c) => Number(c.dataset.tracklet));
  });
}"""


def test_people_stored_mid_ingest_appear_before_the_end_and_the_end_shows_the_whole_list(
    page: Any, stack: Stack, clip_factory: Callable[..., Path]
) -> None:
    # 12 s of footage: the engine hands over the people whose tracks ended in the first 10 s
    # (``partial_every_s``) while it analyses the rest.
    status, video = stack.upload(clip_factory(0.0, 12.0), camera=1, recorded_at="2026-11-04T08:00:00Z")
    assert status == 200, video
    login(page, stack)
    page.goto(f"{stack.url}/videos/{video['id']}/?case={stack.demo_case()}")
    page.wait_for_selector("body[data-ws='open']")
    page.evaluate(_WATCH)
    assert page.get_attribute("#video-page", "data-status") in ("queued", "processing")
    page.wait_for_selector("#video-page[data-people-final='1']", timeout=240_000)

    seen = page.evaluate("() => window.watchTest")
    assert seen["partial"], "no ingest.people reached the page"
    # People were on show before the video was done, each once.
    assert seen["atDone"], "the grid was still empty when the video was done"
    assert len(seen["atDone"]) == len(set(seen["atDone"]))
    assert len(seen["atDone"]) <= seen["partial"][-1]
    _, people = stack.api("GET", f"/api/videos/{video['id']}/tracklets/")
    shown = page.locator("#people .person").evaluate_all("els => els.map(e => Number(e.dataset.tracklet))")
    assert shown == [p["tracklet"] for p in people]
    assert page.inner_text("#people-count") == str(len(people))
