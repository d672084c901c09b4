"""Body regions from keypoints: head over upper garment over lower garment, never overlapping."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.pose import body_regions


def _upright(h: int = 256, w: int = 128) -> np.ndarray:
    # A person facing the camera, filling the crop: (x, y, score) in COCO order.
    xy = [
        (64, 30),
        (58, 25),
        (70, 25),
        (52, 28),
        (76, 28),  # face
        (44, 60),
        (84, 60),
        (38, 100),
        (90, 100),
        (36, 135),
        (92, 135),  # shoulders, elbows, wrists
        (52, 140),
        (76, 140),
        (50, 190),
        (78, 190),
        (50, 240),
        (78, 240),  # hips, knees, ankles
    ]
    return np.asarray([(x * w / 128, y * h / 256, 0.9) for x, y in xy], np.float32)


def _centre_row(mask: np.ndarray) -> float:
    return float(np.nonzero(mask)[0].mean())


def test_regions_are_stacked_head_upper_lower_and_disjoint() -> None:
    r = body_regions(256, 128, _upright())
    assert r.from_keypoints
    assert r.head.any()
    assert r.upper.any()
    assert r.lower.any()
    assert _centre_row(r.head) < _centre_row(r.upper) < _centre_row(r.lower)
    assert not (r.head & r.upper).any()
    assert not (r.upper & r.lower).any()
    assert not (r.head & r.lower).any()
    assert (r.person >= (r.head | r.upper | r.lower)).all()
    # The garments cover the skeleton's own points.
    kp = _upright()
    assert r.upper[int(kp[5, 1]), int(kp[5, 0]) + 2]
    assert r.lower[int(kp[13, 1]), int(kp[13, 0])]


def test_regions_scale_with_the_crop() -> None:
    small = body_regions(128, 64, _upright(128, 64))
    large = body_regions(256, 128, _upright())
    ratio = large.upper.sum() / small.upper.sum()
    assert 3.0 < ratio < 5.0


@pytest.mark.parametrize("hidden", [None, [11, 12], [5]])
def test_missing_torso_falls_back_to_bands(hidden: list[int] | None) -> None:
    kp = None
    if hidden is not None:
        kp = _upright()
        kp[hidden, 2] = 0.0
    r = body_regions(200, 80, kp)
    assert not r.from_keypoints
    assert r.head[:30].all()
    assert r.lower[-60:].all()
    assert not (r.upper & r.lower).any()


def test_bad_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        body_regions(0, 10, None)
