"""A socket that drops mid-search loses the rest of the search's events: each search page reads the
search back from its stored record and ends with the record's lists (real Chromium, daphne, Celery)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack, login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Drops the page's socket right after the first batch of hits reached the page's own handler, and
# counts the ``search.done`` messages that still reach the page afterwards (there must be none).
_DROP_AT_FIRST_HITS = """() => {
  const events = window.longviewEvents;
  window.dropTest = { dropped: 0, done: 0 };
  events.on("search.hits", () => { if (!window.dropTest.dropped) { window.dropTest.dropped = 1; events.drop(); } });
  events.on("search.done", () => { window.dropTest.done += 1; });
}"""


@pytest.fixture(scope="module")
def footage(stack: Stack, clip_factory: Callable[..., Path]) -> list[dict[str, Any]]:
    """The people of one ingested clip in the demo case."""
    status, video = stack.upload(clip_factory(0.0, 6.0), camera=1, recorded_at="2026-11-03T10:00:00Z")
    assert status == 200, video
    assert stack.wait_video(video["id"])["status"] == "done"
    _, people = stack.api("GET", f"/api/videos/{video['id']}/tracklets/")
    assert len(people) >= 3, people
    return people


def _started(page: Any) -> list[int]:
    """The search ids the page's sockets were told, in order."""
    ids: list[int] = []

    def on_ws(ws: Any) -> None:
        def frame(payload: Any) -> None:
            message = json.loads(payload)
            if message["type"] == "search.started":
                ids.append(message["search"])

        ws.on("framereceived", frame)

    page.on("websocket", on_ws)
    return ids


def _shown(page: Any, selector: str) -> list[int]:
    return page.locator(selector).evaluate_all("els => els.map(e => Number(e.dataset.tracklet))")


def _assert_page_holds_the_record(page: Any, stack: Stack, search_id: int, grids: dict[str, str]) -> None:
    """The live end of the search never arrived, and each lane shows the record's list, in order."""
    assert page.evaluate("() => window.dropTest") == {"dropped": 1, "done": 0}
    status, record = stack.api("GET", f"/api/search/{search_id}/")
    assert status == 200, record
    assert record["status"] == "done"
    assert any(record["lanes"].values())
    for lane, selector in grids.items():
        assert _shown(page, selector) == [h["tracklet"] for h in record["lanes"].get(lane, [])], lane


def test_a_person_search_dropped_after_its_first_batch_ends_with_the_records_results(
    page: Any, stack: Stack, footage: list[dict[str, Any]]
) -> None:
    started = _started(page)
    login(page, stack)
    page.goto(f"{stack.url}/search/tracklet/{footage[0]['tracklet']}/?case={stack.demo_case()}")
    page.wait_for_selector("body[data-ws='open']")
    page.evaluate(_DROP_AT_FIRST_HITS)
    page.fill("#search-filters input[name=justification]", "Reconnect: the person at the bench")
    page.click("#search-filters button[type=submit]")
    page.wait_for_selector("#search-page[data-recovered='1'][data-done='1']", timeout=60_000)
    assert "read back after the connection dropped" in page.inner_text("#search-status")
    _assert_page_holds_the_record(page, stack, started[-1], {
        "same_outfit": "#results .result", "clothes_change": "#results-cc .result"})
    assert page.inner_text("#result-count") == str(page.locator("#results .result").count())


def test_a_description_search_dropped_mid_search_ends_with_the_records_results(
    page: Any, stack: Stack, footage: list[dict[str, Any]]
) -> None:
    colour = next(p["attributes"]["upper_colour"]["value"] for p in footage if p["attributes"].get("upper_colour"))
    started = _started(page)
    login(page, stack)
    page.goto(f"{stack.url}/search/describe/?case={stack.demo_case()}")
    page.wait_for_selector("#search-filters[data-ready='1']")
    page.wait_for_selector("body[data-ws='open']")
    page.evaluate(_DROP_AT_FIRST_HITS)
    page.fill("#search-filters input[name=justification]", "Reconnect: described by a witness")
    page.select_option("#search-filters select[name=upper_colour]", value=colour)
    page.click("#search-filters button[name=describe]")
    page.wait_for_selector("#describe-page[data-recovered='1'][data-done='1']", timeout=60_000)
    _assert_page_holds_the_record(page, stack, started[-1], {"attributes": "#results-attr .result"})


def test_a_subject_search_dropped_mid_search_ends_with_the_records_results(
    page: Any, stack: Stack, footage: list[dict[str, Any]]
) -> None:
    status, subject = stack.api("POST", "/api/subjects/", {
        "case": stack.demo_case(), "label": "Reconnect subject", "tracklet": footage[0]["tracklet"]})
    assert status == 201, subject
    started = _started(page)
    login(page, stack)
    page.goto(f"{stack.url}/subjects/{subject['id']}/")
    page.wait_for_selector("#subject-page[data-loaded]")
    page.wait_for_selector("body[data-ws='open']")
    page.evaluate(_DROP_AT_FIRST_HITS)
    page.fill("#subject-search input[name=justification]", "Reconnect: follow the subject")
    page.click("#subject-search-button")
    page.wait_for_selector("#subject-search[data-recovered='1'][data-done='1']", timeout=60_000)
    _assert_page_holds_the_record(page, stack, started[-1], {
        "same_outfit": "#results .result", "clothes_change": "#results-cc .result"})
    status, record = stack.api("GET", f"/api/search/{started[-1]}/")
    assert record["kind"] == "subject"
    # Its first sighting is judged already: the search leaves it out.
    assert footage[0]["tracklet"] not in _shown(page, "#results .result")
