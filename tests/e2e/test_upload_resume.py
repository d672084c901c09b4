"""Uploads from the case page in real Chromium: several files queued at once, one after another;
an upload cut off by a reload is listed as unfinished and resumed with the same file picked again,
from the byte the server has, and the video then ingests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Stack, login, open_case

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHUNK = 64 * 1024  # UPLOAD_CHUNK_BYTES of the test stack


def _is_chunk(request: Any) -> bool:
    return request.method == "PUT" and request.url.endswith("/content/")


def test_several_files_picked_at_once_upload_one_after_another_each_with_its_progress(
    page: Any, stack: Stack, clip_factory: Callable[..., Path], bad_files: dict[str, Path]
) -> None:
    good, bad = clip_factory(20.0, 3.0), bad_files["text"]
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.method) if r.url.endswith(("/api/videos/", "/content/")) else None)
    login(page, stack)
    open_case(page, stack, stack.demo_case())
    page.set_input_files("input[name=file]", [str(good), str(bad)])
    page.click("#upload-form button[type=submit]")
    page.wait_for_selector(f"#upload-queue .upload-item[data-name='{good.name}'][data-state=done]")
    failed = page.locator(f"#upload-queue .upload-item[data-name='{bad.name}'][data-state=failed]")
    failed.wait_for()
    assert "refused" in failed.inner_text()
    assert page.locator("#upload-queue .upload-item progress.upload-bar").count() == 2
    assert page.get_attribute(f"#upload-queue .upload-item[data-name='{good.name}'] progress", "value") == "100"
    # One after another: the second upload opens only after the first sent its last chunk.
    chunks = -(-good.stat().st_size // CHUNK)
    assert sent[: chunks + 2] == ["POST", *["PUT"] * chunks, "POST"], sent
    assert page.inner_text("#upload-text") == "2 of 2 files uploaded"
    row = page.locator("tr[data-video]", has_text=good.name).first
    assert row.get_attribute("data-status") in ("queued", "processing", "done")


def test_an_upload_cut_off_by_a_reload_resumes_from_the_servers_offset_and_ingests(
    page: Any, stack: Stack, clip_factory: Callable[..., Path], tmp_path: Path
) -> None:
    clip = clip_factory(20.0, 3.0)
    size = clip.stat().st_size
    assert size > 4 * CHUNK
    passed: list[Any] = []
    held: list[Any] = []

    def hold_the_fourth_chunk(route: Any) -> None:
        # Three chunks go through; the fourth never gets an answer, as on a dead connection.
        if len(passed) < 3:
            passed.append(route)
            route.continue_()
        else:
            held.append(route)

    login(page, stack)
    open_case(page, stack, stack.demo_case())
    page.route("**/api/videos/*/content/", hold_the_fourth_chunk)
    with page.expect_response(lambda r: r.url.endswith("/api/videos/") and r.request.method == "POST") as created:
        page.set_input_files("input[name=file]", str(clip))
        page.click("#upload-form button[type=submit]")
    video_id = created.value.json()["id"]
    three = int(100 * 3 * CHUNK / size + 0.5)
    page.wait_for_selector(f"#upload-queue .upload-item[data-name='{clip.name}'] progress[value='{three}']")
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert len(held) == 1
    # The reload cancels the held chunk: it never reaches the server.
    page.reload()
    page.unroute("**/api/videos/*/content/")
    item = page.locator(f"#unfinished-uploads li[data-video='{video_id}']")
    item.wait_for()
    assert item.get_attribute("data-offset") == str(3 * CHUNK)
    assert f"{300 * CHUNK // size}% of" in item.inner_text()
    _, state = stack.api("GET", f"/api/videos/{video_id}/content/")
    assert (state["status"], state["offset"]) == ("uploading", 3 * CHUNK)

    # Another file is refused: by name, and (same name and size) by its first bytes.
    other = clip_factory(0.0, 6.0)
    item.locator("input.resume-file").set_input_files(str(other))
    item.locator(".resume-error:text-is('this upload is of " + clip.name + ", not " + other.name + "')").wait_for()
    lookalike = tmp_path / clip.name
    lookalike.write_bytes(b"\0" * size)
    item.locator("input.resume-file").set_input_files(str(lookalike))
    item.locator(".resume-error", has_text="starts differently").wait_for()

    resumed: list[str] = []
    page.on("request", lambda r: resumed.append(r.headers.get("content-range", "")) if _is_chunk(r) else None)
    item.locator("input.resume-file").set_input_files(str(clip))
    page.wait_for_selector(f"#upload-queue .upload-item[data-name='{clip.name}'][data-state=done]")
    # Sent from the server's offset on, not from the start.
    assert resumed[0].startswith(f"bytes {3 * CHUNK}-"), resumed
    assert page.locator(f"#unfinished-uploads li[data-video='{video_id}']").count() == 0
    row = page.locator(f"tr[data-video='{video_id}']")
    row.locator(".badge-done").wait_for(timeout=240_000)
    _, video = stack.api("GET", f"/api/videos/{video_id}/")
    assert video["status"] == "done"
    assert video["size_bytes"] == size
