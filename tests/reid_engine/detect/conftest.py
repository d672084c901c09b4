"""Fixtures shared by the detector tests: real vtest frames, decoded once, and the one record check."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from reid_engine.types import Detections, Frame

# Every frame any detector test looks at: 3 walkers at 0, 8 at 250, 6 at 600, the rest in between.
VTEST_FRAME_INDICES = (0, 120, 250, 400, 600, 790)

CheckDetections = Callable[..., None]


@pytest.fixture(scope="session")
def vtest_frames(vtest_path: Path) -> dict[int, Frame]:
    """The frames of vtest.avi in ``VTEST_FRAME_INDICES`` as RGB engine frames, by index."""
    cap = cv2.VideoCapture(str(vtest_path))
    frames = {}
    try:
        for index in range(max(VTEST_FRAME_INDICES) + 1):
            ok, bgr = cap.read()
            if not ok:
                pytest.fail(f"{vtest_path} ends before frame {index}: run `make setup` again")
            if index in VTEST_FRAME_INDICES:
                rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                frames[index] = Frame(index=index, pts_s=index / 10.0, image=rgb)
    finally:
        cap.release()
    return frames


def assert_valid_detections(dets: Detections, frame: Frame, *, keypoints: bool) -> None:
    """``dets`` is a well-formed record for ``frame``, as the ``Detections`` docstring states.

    Args:
        dets: what a detector returned for ``frame``.
        frame: the frame it was given.
        keypoints: whether the detector reports COCO keypoints (else ``dets.keypoints`` is None).
    """
    height, width = frame.image.shape[:2]
    n = len(dets)
    assert dets.frame_index == frame.index
    assert dets.boxes_xyxy.dtype == np.float32
    assert dets.boxes_xyxy.shape == (n, 4)
    assert dets.scores.dtype == np.float32
    assert dets.scores.shape == (n,)
    assert np.isfinite(dets.boxes_xyxy).all()
    assert np.isfinite(dets.scores).all()
    assert ((dets.scores >= 0) & (dets.scores <= 1)).all()
    assert (np.diff(dets.scores) <= 0).all(), "detections are sorted by decreasing score"
    b = dets.boxes_xyxy
    assert (b[:, 0] >= 0).all()
    assert (b[:, 1] >= 0).all()
    assert (b[:, 2] <= width).all()
    assert (b[:, 3] <= height).all()
    assert (b[:, 2] > b[:, 0]).all()
    assert (b[:, 3] > b[:, 1]).all()
    if keypoints:
        assert dets.keypoints is not None
        assert dets.keypoints.dtype == np.float32
        assert dets.keypoints.shape == (n, 17, 3)
        assert np.isfinite(dets.keypoints).all()
        assert ((dets.keypoints[..., 2] >= 0) & (dets.keypoints[..., 2] <= 1)).all()
    else:
        assert dets.keypoints is None


@pytest.fixture(scope="session")
def check_detections() -> CheckDetections:
    """:func:`assert_valid_detections`, for test modules (conftest modules are not imported by name)."""
    return assert_valid_detections
