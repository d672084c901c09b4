"""Garment colours of a tracklet, pooled over its crops."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.attributes.tracklet import colour_attributes
from reid_engine.types import Crop

RED = (200, 30, 30)
BLUE = (30, 50, 190)
SKIN = (205, 160, 130)


def _person(upper: tuple[int, int, int], lower: tuple[int, int, int], h: int = 128, w: int = 64) -> Crop:
    """A crude person: head, an upper garment over the top half, a lower garment below, grey ground."""
    img = np.full((h, w, 3), 128, np.uint8)
    img[int(0.02 * h) : int(0.16 * h), w // 3 : 2 * w // 3] = SKIN
    img[int(0.16 * h) : int(0.55 * h), w // 10 : 9 * w // 10] = upper
    img[int(0.55 * h) : int(0.97 * h), w // 8 : 7 * w // 8] = lower
    return Crop(frame_index=0, pts_s=0.0, box_xyxy=np.zeros(4, np.float32), image=img, quality=1.0)


def test_colours_are_named_and_pooled_over_crops() -> None:
    crops = [_person(RED, BLUE), _person(RED, BLUE, 96, 48), _person(BLUE, BLUE)]
    out = colour_attributes(crops)
    assert set(out) == {"upper_colour", "lower_colour"}
    for values in out.values():
        assert sum(values.values()) == pytest.approx(1.0, abs=1e-3)
    assert max(out["upper_colour"], key=out["upper_colour"].__getitem__) == "red"
    assert max(out["lower_colour"], key=out["lower_colour"].__getitem__) == "blue"
    # Two of three crops wear red on top: blue keeps a share, red wins.
    assert out["upper_colour"]["blue"] > 0.15
    assert out["upper_colour"]["red"] > out["upper_colour"]["blue"]


def test_crops_too_small_to_name_leave_the_attribute_unknown() -> None:
    tiny = Crop(frame_index=0, pts_s=0.0, box_xyxy=np.zeros(4, np.float32),
                image=np.zeros((6, 3, 3), np.uint8), quality=1.0)
    assert colour_attributes([tiny]) == {}
    assert colour_attributes([]) == {}
