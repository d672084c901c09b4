"""Cases in real Chromium: an admin opens a case and adds an investigator, who uploads into it and
searches with a justification; an investigator outside the case finds nothing of it."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ADMIN, Stack, login
from tests.e2e.subject_steps import follow_a_subject

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CAROL = ("carol", "e2e-carol-pass-1")
DAVE = ("dave", "e2e-dave-pass-1")


def _status(page: Any, url: str) -> int:
    return int(page.request.get(url).status)


def test_an_admin_opens_a_case_a_member_works_in_it_and_an_outsider_gets_not_found(
    page: Any, browser: Any, stack: Stack, clip_factory: Callable[..., Path], tmp_path: Path
) -> None:
    stack.add_user(*CAROL)
    stack.add_user(*DAVE)

    # The admin opens the case from the dashboard form and adds Carol as an investigator.
    login(page, stack, ADMIN)
    page.fill("#case-form input[name=title]", "Bike theft at the square")
    page.fill("#case-form input[name=reference]", "E2E-7")
    page.fill("#case-form textarea[name=purpose]", "Report 2026/77, theft of a bicycle")
    page.click("#case-form button[type=submit]")
    page.wait_for_selector("#case-page")
    case_id = int(page.get_attribute("#case-page", "data-case"))
    page.wait_for_selector("#member-form select[name=user] option[value]:not([value=''])", state="attached")
    page.select_option("#member-form select[name=user]", label="carol")
    page.select_option("#member-form select[name=role]", value="investigator")
    page.click("#member-form button[type=submit]")
    page.wait_for_selector("#members tr:has-text('carol')")

    # Carol uploads into the case, watches it ingest, and searches with a justification.
    carol = browser.new_context(viewport={"width": 1280, "height": 900})
    carol.set_default_timeout(30_000)
    cpage = carol.new_page()
    login(cpage, stack, CAROL)
    cpage.click(f"#my-cases tr[data-case='{case_id}'] a")
    cpage.wait_for_selector("#case-page")
    cpage.set_input_files("input[name=file]", str(clip_factory(30.0, 5.0)))
    cpage.click("#upload-form button[type=submit]")
    row = cpage.locator("tr[data-video]", has_text="street_30_5.mp4")
    row.locator(".badge-done").wait_for(timeout=240_000)
    video_id = int(row.get_attribute("data-video"))
    row.locator("a").click()
    person = cpage.locator("#people .person").first
    person.wait_for()
    tracklet_id = int(person.get_attribute("data-tracklet"))
    person.locator("a").click()
    cpage.wait_for_selector("#search-status:has-text('Say why')")
    cpage.fill("#search-filters input[name=justification]", "Witness saw the thief walk towards the fountain")
    cpage.click("#search-filters button[type=submit]")
    cpage.wait_for_selector("#search-page[data-done='1']", timeout=60_000)
    hits = cpage.locator("#results .result").evaluate_all("els => els.map(e => Number(e.dataset.tracklet))")
    # Only this case's footage is ranked: every hit is a person of Carol's video.
    _, people = stack.api("GET", f"/api/videos/{video_id}/tracklets/", user=CAROL)
    assert set(hits) <= {p["tracklet"] for p in people}
    _, record = stack.api("GET", f"/api/cases/{case_id}/", user=CAROL)
    assert record["my_role"] == "investigator"

    # Dave is an investigator, but not of this case: the same URLs are not found, and his search
    # in a case of his own finds nothing of Carol's footage.
    dave = browser.new_context()
    dpage = dave.new_page()
    login(dpage, stack, DAVE)
    assert _status(dpage, f"{stack.url}/videos/{video_id}/") == 404
    assert _status(dpage, f"{stack.url}/search/tracklet/{tracklet_id}/") == 404
    assert _status(dpage, f"{stack.url}/cases/{case_id}/") == 404
    assert _status(dpage, f"{stack.url}/media/tracklets/{tracklet_id}/thumbnail.jpg") == 404
    status, body = stack.api("GET", f"/api/videos/{video_id}/", user=DAVE)
    assert status == 404
    status, body = stack.api("POST", "/api/search/", {"case": case_id, "justification": "curious",
                                                      "tracklet": tracklet_id}, user=DAVE)
    assert status == 404, body
    status, own = stack.api("POST", "/api/cases/", {"title": "Dave's", "reference": "E2E-8", "purpose": "p",
                                                   "retention_until": "2099-01-01"}, user=DAVE)
    assert status == 201, own
    status, found = stack.api("POST", "/api/search/", {
        "case": own["id"], "justification": "anyone in red",
        "attributes": [{"attribute": "upper_colour", "value": "red"}]}, user=DAVE)
    assert status == 200, found
    assert found["hits"] == []
    _, listed = stack.api("GET", "/api/tracklets/", user=DAVE)
    assert listed["results"] == []

    # Every step is in the case's ledger, which the admin exports.
    token = base64.b64encode(f"{ADMIN[0]}:{ADMIN[1]}".encode()).decode()
    request = urllib.request.Request(f"{stack.url}/api/cases/{case_id}/audit/", headers={"Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            ledger = json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        raise AssertionError(exc.read()) from exc
    actions = [r["action"] for r in ledger["records"]]
    for expected in ("case.create", "member.add", "video.upload", "video.view", "person.view", "search"):
        assert expected in actions, actions
    search = next(r for r in ledger["records"] if r["action"] == "search")
    assert search["justification"] == "Witness saw the thief walk towards the fountain"
    assert search["username"] == "carol"
    dave.close()

    follow_a_subject(browser=browser, stack=stack, cpage=cpage, case_id=case_id, tracklet_id=tracklet_id, carol=CAROL,
                     tmp=tmp_path)
    carol.close()
