"""Only estimated attributes (those that passed the real-set check) are stored, shown, filtered and
searched; the API says per attribute whether it is estimated, and the describe page offers exactly those."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.test import Client

from reid_engine.attributes.gate import load_gate
from reid_engine.attributes.schema import COLOURS, SCHEMA
from reid_engine.types import Crop, EmbeddedTracklet, IngestResult, Tracklet, VideoInfo
from tests.webapp.conftest import write_gate
from tests.webapp.factories import World, build_world, in_case
from webapp.tracklets import services
from webapp.tracklets.models import Tracklet as TrackletRow
from webapp.tracklets.selectors import tracklet_card

pytestmark = pytest.mark.django_db

GENDER = {"female": 0.3, "male": 0.7}


def _colours(top: str) -> dict[str, float]:
    return {c: (0.8 if c == top else 0.02) for c in COLOURS}


@pytest.fixture
def world(db: None) -> World:
    w = build_world(per_camera=2)
    for t in TrackletRow.objects.all():
        t.attributes = {"upper_colour": _colours("red"), "lower_colour": _colours("black"), "gender": GENDER}
        t.save(update_fields=["attributes"])
    return w


@pytest.fixture
def gate_of(settings: Any, tmp_path: Path) -> Any:
    def use(estimated: list[str] | None) -> None:
        path = tmp_path / "missing.json" if estimated is None else write_gate(tmp_path / "gate.json", estimated)
        settings.LONGVIEW = {**settings.LONGVIEW, "ATTRIBUTE_GATE": str(path)}

    return use


def test_the_api_reports_per_attribute_whether_it_is_estimated_with_the_shipped_figures(
    investigator: Any, client_for: Any
) -> None:
    body = client_for(investigator).get("/api/attributes/").json()
    rows = {r["attribute"]: r for r in body["attributes"]}
    assert list(rows) == list(SCHEMA.names)
    shipped = load_gate()
    assert body["predictor"] == shipped.predictor == "colour-namer"
    assert [n for n, r in rows.items() if r["estimated"]] == list(shipped.estimated)
    for name in shipped.estimated:
        assert rows[name]["mA"] > rows[name]["ci"][0] > rows[name]["baseline_mA"]
    assert rows["gender"]["estimated"] is False
    assert rows["gender"]["reason"] == "the predictor does not estimate it"
    assert client_for(None).get("/api/attributes/").status_code in (401, 403)


def test_cards_show_only_estimated_attributes_even_when_more_are_stored(world: World, gate_of: Any) -> None:
    t = TrackletRow.objects.select_related("camera", "video").first()
    assert t is not None
    gate_of(["upper_colour", "lower_colour"])
    assert set(tracklet_card(t)["attributes"]) == {"upper_colour", "lower_colour"}
    gate_of(["upper_colour"])
    assert set(tracklet_card(t)["attributes"]) == {"upper_colour"}
    gate_of(["upper_colour", "gender"])
    assert tracklet_card(t)["attributes"]["gender"] == {"value": "male", "p": 0.7}
    gate_of(None)  # no evidence at all: nothing is shown
    assert tracklet_card(t)["attributes"] == {}


@pytest.mark.parametrize(
    "body",
    [
        {"attributes": [{"attribute": "gender", "value": "female"}]},
        {"attributes": [{"attribute": "upper_colour", "value": "red"}, {"attribute": "lower_colour", "value": "black"}]},
        {"tracklet": None, "attributes": [{"attribute": "upper_colour", "value": "red"}],
         "filters": {"attributes": [{"attribute": "lower_colour", "value": "black"}]}},
    ],
)
def test_searches_and_filters_on_attributes_not_estimated_are_refused(
    world: World, investigator: Any, client_for: Any, gate_of: Any, body: dict[str, Any]
) -> None:
    gate_of(["upper_colour"])
    response = client_for(investigator).post("/api/search/", in_case(body), format="json")
    assert response.status_code == 400
    assert "is not estimated" in response.json()["detail"]
    gate_of(["upper_colour", "lower_colour", "gender"])
    assert client_for(investigator).post("/api/search/", in_case(body), format="json").status_code == 200


def _selects(html: str) -> dict[str, list[str]]:
    start = html.index('id="search-filters"')
    form = html[start:html.index("</form>", start)]
    out = {}
    for name, options in re.findall(r'<select name="(\w+)" data-attribute="\w+"[^>]*>(.*?)</select>', form, re.S):
        out[name] = re.findall(r'<option value="([^"]+)"', options)
    return out


def test_the_describe_page_offers_exactly_the_estimated_attributes(world: World, investigator: Any, gate_of: Any) -> None:
    client = Client()
    client.force_login(investigator)
    page = client.get(f"/search/describe/?case={world.case.pk}").content.decode()
    assert _selects(page) == {name: list(COLOURS) for name in load_gate().estimated}
    gate_of(["gender", "upper_colour", "hat"])
    page = client.get(f"/search/describe/?case={world.case.pk}").content.decode()
    assert _selects(page) == {"gender": ["female", "male"], "upper_colour": list(COLOURS), "hat": ["yes", "no"]}
    assert 'data-kind="binary"' in page
    gate_of(None)
    page = client.get(f"/search/describe/?case={world.case.pk}").content.decode()
    assert _selects(page) == {}
    assert re.search(r'<button type="submit" name="describe"\s+disabled', page)
    assert "none yet" in page


def test_the_person_search_page_offers_colour_filters_only_where_estimated(
    world: World, investigator: Any, gate_of: Any
) -> None:
    client = Client()
    client.force_login(investigator)
    url = f"/search/tracklet/{world.tracklets['A'][0].pk}/"
    gate_of(["lower_colour"])
    page = client.get(url).content.decode()
    assert 'name="lower_colour"' in page
    assert 'name="upper_colour"' not in page


def test_ingest_stores_only_estimated_attributes(world: World, gate_of: Any) -> None:
    video = TrackletRow.objects.first().video  # type: ignore[union-attr]
    frames = np.arange(0, 10, 2, dtype=np.int64)
    boxes = np.tile(np.array([[10, 10, 50, 120]], np.float32), (frames.size, 1))
    image = np.zeros((128, 64, 3), np.uint8)
    crop = Crop(frame_index=0, pts_s=0.0, box_xyxy=boxes[0], image=image, quality=0.9)
    person = EmbeddedTracklet(
        tracklet=Tracklet(99, frames, frames / 10.0, boxes, np.ones(frames.size, np.float32), (crop,)),
        embedding=np.ones(32, np.float32) / np.sqrt(32), thumbnail=image,
        attributes={"upper_colour": _colours("red"), "gender": GENDER},
    )
    info = VideoInfo(container="mp4", codec="h264", width=64, height=128, fps=10.0, duration_s=1.0,
                     frame_count=10, size_bytes=1)
    gate_of(["upper_colour"])
    services.tracklets_replace_for_video(
        video=video, result=IngestResult(video=info, tracklets=(person,), frames_decoded=10, frames_skipped=0,
                                         embedder="test"))
    stored = TrackletRow.objects.get(video=video, track_id=99)
    assert set(stored.attributes) == {"upper_colour"}
