"""Recorder footage and its deletion in real Chromium: a lead uploads a Dahua .dav from the case page,
it is analysed, and deleted from the footage table after a confirmation; when the server refuses a
deletion (the lead lost the role meanwhile), the video page says why and the footage stays."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack, login
from tests.videoformats import EXPORTS, source_frames, write_export

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DORA = ("dora", "e2e-dora-pass-1")
ELI = ("eli", "e2e-eli-pass-1")


def _dav(vtest_path: Path, dest: Path, start_s: float) -> Path:
    frames = source_frames(vtest_path, start_s=start_s, seconds=3.0, scale=2)
    return write_export(next(e for e in EXPORTS if e.name == "dahua.dav"), dest, frames)


def test_a_lead_uploads_a_dav_deletes_it_after_confirming_and_sees_why_a_refused_delete_failed(
    page: Any, stack: Stack, vtest_path: Path, tmp_path: Path
) -> None:
    stack.add_user(*DORA)
    stack.add_user(*ELI)
    status, case = stack.api("POST", "/api/cases/", {"title": "Shop lifting", "reference": "E2E-DEL",
                                                       "purpose": "Report 2026/91", "retention_until": "2030-01-01"},
                             user=DORA)
    assert status == 201, case

    login(page, stack, DORA)
    page.goto(f"{stack.url}/cases/{case['id']}/")
    page.set_input_files("input[name=file]", str(_dav(vtest_path, tmp_path / "ch01_0900.dav", 0.0)))
    page.click("#upload-form button[type=submit]")
    row = page.locator("tr[data-video]", has_text="ch01_0900.dav")
    row.locator(".badge-done").wait_for(timeout=240_000)
    video_id = int(row.get_attribute("data-video"))
    _, people = stack.api("GET", f"/api/videos/{video_id}/tracklets/", user=DORA)
    assert people

    # The footage table offers the deletion after a reload; declining the confirmation keeps it.
    page.reload()
    button = page.locator(f"tr[data-video='{video_id}'] button.video-delete")
    page.once("dialog", lambda dialog: dialog.dismiss())
    button.click()
    assert stack.api("GET", f"/api/videos/{video_id}/", user=DORA)[0] == 200
    messages: list[str] = []

    def accept(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    button.click()
    page.locator(f"tr[data-video='{video_id}']").wait_for(state="detached")
    assert messages[0].startswith("Delete ch01_0900.dav with the people found in it")
    assert stack.api("GET", f"/api/videos/{video_id}/", user=DORA)[0] == 404

    # A second video's page has the button; Dora hands the lead to Eli before she clicks it.
    status, second = stack.upload(_dav(vtest_path, tmp_path / "ch01_0930.dav", 20.0), camera=_camera(stack),
                                  recorded_at="2026-11-02T09:30:00Z", case=case["id"], user=DORA)
    assert status == 200, second
    assert stack.wait_video(second["id"], user=DORA)["status"] == "done"
    page.goto(f"{stack.url}/videos/{second['id']}/")
    page.wait_for_selector("#video-page button.video-delete")
    _, users = stack.api("GET", "/api/users/", user=DORA)
    eli_id = next(u["id"] for u in users if u["username"] == ELI[0])
    dora_id = next(u["id"] for u in users if u["username"] == DORA[0])
    assert stack.api("POST", f"/api/cases/{case['id']}/members/", {"user": eli_id, "role": "lead"}, user=DORA)[0] == 201
    assert stack.api("PATCH", f"/api/cases/{case['id']}/members/{dora_id}/", {"role": "investigator"},
                     user=DORA)[0] == 200
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#video-page button.video-delete")
    page.wait_for_selector("#video-delete-error:visible")
    assert page.inner_text("#video-delete-error") == (
        "ch01_0930.dav was not deleted: your role in this case (investigator) does not allow delete")
    assert stack.api("GET", f"/api/videos/{second['id']}/", user=ELI)[0] == 200


def _camera(stack: Stack) -> int:
    _, cameras = stack.api("GET", "/api/cameras/")
    return int(cameras["results"][0]["id"])
