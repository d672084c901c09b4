"""An admin on the Sites page, in a real browser: uploads a site plan, places a camera on it by
clicking, types another camera's latitude/longitude, and enters a walking time between them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tests.e2e.conftest import ADMIN, Stack, login

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _camera(stack: Stack, name: str) -> dict[str, Any]:
    _, cameras = stack.api("GET", "/api/cameras/", user=ADMIN)
    found = next((c for c in cameras["results"] if c["name"] == name), None)
    if found is None:
        status, found = stack.api("POST", "/api/cameras/", {"name": name}, user=ADMIN)
        assert status == 201, found
    return found


def test_an_admin_places_cameras_and_enters_a_walking_time(page: Any, stack: Stack, tmp_path: Path) -> None:
    north, south = _camera(stack, "Square north"), _camera(stack, "Square south")
    drawing = tmp_path / "square.png"
    Image.fromarray(np.full((400, 800, 3), 230, np.uint8)).save(drawing)

    login(page, stack, ADMIN)
    page.click(".topbar a:has-text('Sites')")
    page.wait_for_selector("#sites-page")
    page.fill("#plan-form input[name=name]", "Town square")
    page.fill("#plan-form input[name=width_m]", "120")
    page.set_input_files("#plan-form input[name=image]", str(drawing))
    page.click("#plan-form button[type=submit]")
    page.wait_for_selector("#plan-view image", state="attached")
    assert page.locator("#plan-error").is_hidden()

    # Choose the camera, click a quarter across and half down the drawing.
    page.select_option("#place-camera", label="Square north")
    view = page.locator("#plan-view")
    box = view.bounding_box()
    view.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.5})
    page.wait_for_selector(f"#camera-table tr[data-camera='{north['id']}'] td:has-text('Town square')")
    page.wait_for_selector("#plan-view circle")
    _, placed = stack.api("GET", f"/api/cameras/{north['id']}/", user=ADMIN)
    assert placed["plan"] is not None
    assert placed["plan_x"] == pytest.approx(0.25, abs=0.01)
    assert placed["plan_y"] == pytest.approx(0.5, abs=0.01)

    # The other camera by latitude/longitude; half a position is refused with the reason.
    row = page.locator(f"#camera-table tr[data-camera='{south['id']}']")
    row.locator("input").nth(0).fill("52.0907")
    row.locator("button:has-text('Save')").click()
    page.wait_for_selector("#camera-error:has-text('longitude')")
    row.locator("input").nth(1).fill("5.1214")
    row.locator("button:has-text('Save')").click()
    page.wait_for_selector("#camera-error", state="hidden")
    _, typed = stack.api("GET", f"/api/cameras/{south['id']}/", user=ADMIN)
    assert (typed["latitude"], typed["longitude"]) == (52.0907, 5.1214)

    # A walking time between them, stored with the lower id first; the same pair again is refused.
    page.select_option("#walking-form select[name=camera_a]", label="Square south")
    page.select_option("#walking-form select[name=camera_b]", label="Square north")
    page.fill("#walking-form input[name=seconds]", "150")
    page.click("#walking-form button[type=submit]")
    page.wait_for_selector("#walking-table tr[data-walking] .hint:has-text('2 min 30 s')", state="attached")
    _, times = stack.api("GET", "/api/walking-times/")
    pair = sorted([north["id"], south["id"]])
    assert [(t["camera_a"], t["camera_b"], t["seconds"]) for t in times["results"]] == [(*pair, 150.0)]
    page.fill("#walking-form input[name=seconds]", "10")
    page.click("#walking-form button[type=submit]")
    page.wait_for_selector("#walking-error:has-text('already a walking time')")

    # The drawing is served as it was uploaded.
    _, plans = stack.api("GET", "/api/plans/")
    served = page.request.get(stack.url + plans["results"][0]["image_url"])
    assert served.headers["content-type"] == "image/png"
    assert served.body() == drawing.read_bytes()
