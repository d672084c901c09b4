"""The cases journey goes on: Carol makes a subject of the person she searched for, confirms two
hits and rejects one, a colleague sees it happen live, she searches again with everything
confirmed, looks at the timeline and the map, plays a sighting, exports the evidence, and the
package verifies (and fails once a byte in it changes)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ADMIN, REPO, VENV_BIN, Stack, login

ERIN = ("erin", "e2e-erin-pass-1")


def _ids(page: Any, selector: str) -> list[int]:
    return page.locator(selector).evaluate_all("els => els.map(e => Number(e.dataset.tracklet))")


def follow_a_subject(*, browser: Any, stack: Stack, cpage: Any, case_id: int, tracklet_id: int,
                     carol: tuple[str, str], tmp: Path) -> None:
    """Carol (``cpage``) is on the search page of person ``tracklet_id`` with its results shown."""
    # Carol leads the case from here on (only a lead exports evidence); Erin joins to investigate.
    _, members = stack.api("GET", f"/api/cases/{case_id}/members/", user=ADMIN)
    carol_id = next(m["user"] for m in members if m["username"] == carol[0])
    status, _ = stack.api("PATCH", f"/api/cases/{case_id}/members/{carol_id}/", {"role": "lead"}, user=ADMIN)
    assert status == 200
    stack.add_user(*ERIN)
    _, users = stack.api("GET", "/api/users/", user=ADMIN)
    erin_id = next(u["id"] for u in users if u["username"] == ERIN[0])
    status, _ = stack.api("POST", f"/api/cases/{case_id}/members/", {"user": erin_id, "role": "investigator"}, user=ADMIN)
    assert status == 201

    # A subject made from the person: the search page's "working on" bar offers it.
    cpage.reload()
    cpage.wait_for_selector("#search-page[data-done='1']", timeout=60_000)
    cpage.once("dialog", lambda dialog: dialog.accept("Thief in the grey jacket"))
    cpage.click("#subject-new")
    cpage.wait_for_selector("#search-status:has-text('first sighting')")
    subject_id = int(cpage.eval_on_selector("#subject-select", "s => s.value"))
    assert cpage.get_attribute("body", "data-subject") == str(subject_id)

    # Erin has the subject's page open while Carol decides.
    erin = browser.new_context(viewport={"width": 1280, "height": 900})
    erin.set_default_timeout(30_000)
    epage = erin.new_page()
    login(epage, stack, ERIN)
    epage.goto(f"{stack.url}/subjects/{subject_id}/")
    epage.wait_for_selector("#subject-page[data-loaded]")
    assert epage.inner_text("#sighting-count") == "1"

    hits = _ids(cpage, "#results .result")
    assert len(hits) >= 3, hits
    first, second, third = (cpage.locator(f"#results .result[data-tracklet='{t}']") for t in hits[:3])
    # From the keyboard on the focused card, and with the card's buttons.
    first.focus()
    cpage.keyboard.press("c")
    second.locator("button.decide.confirm").click()
    third.focus()
    cpage.keyboard.press("x")
    for card, decision in ((first, "confirmed"), (second, "confirmed"), (third, "rejected")):
        card.and_(cpage.locator(f"[data-decision='{decision}']")).wait_for()

    # Erin's page follows without a reload.
    epage.wait_for_selector("#sighting-count:text-is('3')")
    epage.wait_for_selector("#rejected-count:text-is('1')", state="attached")
    epage.wait_for_selector("#subject-status:has-text('carol')")

    # An admin places the camera; the subject's page: outfits, the timeline with every confirmed
    # sighting, the map by coordinates.
    _, person = stack.api("GET", f"/api/tracklets/{tracklet_id}/", user=carol)
    status, _ = stack.api("PATCH", f"/api/cameras/{person['camera_id']}/", {"latitude": 51.501, "longitude": -0.142},
                          user=ADMIN)
    assert status == 200
    cpage.click("#subject-open")
    cpage.wait_for_selector("#subject-page[data-loaded]")
    assert int(cpage.inner_text("#outfit-count")) >= 1
    assert sorted(_ids(cpage, "#timeline .tl-item")) == sorted([tracklet_id, hits[0], hits[1]])
    assert cpage.locator("#map svg g.camera.visited").count() >= 1
    assert cpage.get_attribute("#map", "data-mode") == "coordinates"

    # Search again with everything confirmed: no judged person comes back.
    cpage.fill("#subject-search input[name=justification]", "Follow the thief after the fountain")
    cpage.click("#subject-search-button")
    cpage.wait_for_selector("#subject-search[data-done='1']", timeout=60_000)
    again = _ids(cpage, "#results .result") + _ids(cpage, "#results-cc .result")
    assert not set(again) & {tracklet_id, hits[0], hits[1], hits[2]}, again

    if os.environ.get("LONGVIEW_E2E_SHOTS"):
        (REPO / "test-artifacts").mkdir(exist_ok=True)
        cpage.screenshot(path=str(REPO / "test-artifacts" / "subject-page.png"), full_page=True)

    # A sighting on the timeline plays with its box drawn.
    cpage.locator("#timeline .tl-item").first.click()
    cpage.wait_for_selector("#player[open][data-box-drawn='1']", timeout=30_000)
    cpage.click("#player button[type=submit]")

    _, ledger = stack.api("GET", f"/api/cases/{case_id}/audit/", user=carol)
    actions = [r["action"] for r in ledger["records"]]
    for expected in ("subject.create", "sighting.confirm", "sighting.reject"):
        assert expected in actions, actions
    assert actions.count("sighting.confirm") == 3

    # Evidence: Carol exports with everyone else blurred, follows it, downloads the zip; it
    # verifies against its manifest and the ledger, and fails once a byte in it changes.
    cpage.check("#export-form input[name=redact]")
    cpage.click("#export-button")
    link = cpage.locator("#exports li[data-status='done'] a.download").first
    link.wait_for(timeout=240_000)
    with cpage.expect_download() as download:
        link.click()
    package = tmp / "evidence.zip"
    download.value.save_as(package)
    verify = [str(VENV_BIN / "python"), "manage.py", "verify_export", str(package)]
    checked = subprocess.run(verify, cwd=REPO, env=stack.env, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    data = bytearray(package.read_bytes())
    data[len(data) // 2] ^= 0xFF
    package.write_bytes(bytes(data))
    tampered = subprocess.run(verify, cwd=REPO, env=stack.env, capture_output=True, text=True)
    assert tampered.returncode == 1, tampered.stdout + tampered.stderr
    erin.close()
