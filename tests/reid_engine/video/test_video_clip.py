"""Reading a stretch of footage: sought far into a file, the frames and their times are the ones a
decode from the start gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from reid_engine.errors import VideoError
from reid_engine.video import iter_frames
from reid_engine.video.clip import iter_frames_between


@pytest.mark.parametrize("kind", ["mp4", "avi"])
def test_a_sought_stretch_matches_the_full_decode(
    kind: str, clip_factory: Callable[..., Path], vtest_path: Path
) -> None:
    path = clip_factory(0.0, 8.0) if kind == "mp4" else vtest_path
    start, end = 4.3, 5.6
    full = []
    frames = iter_frames(path)
    for frame in frames:
        if frame.pts_s > end + 1e-3:
            break
        if frame.pts_s >= start - 1e-3:
            full.append(frame)
    frames.close()
    sought = list(iter_frames_between(path, start, end, seek_min_s=0.0))
    decoded = list(iter_frames_between(path, start, end, seek_min_s=1e9))
    assert len(full) >= 10
    for stretch in (sought, decoded):
        assert [round(f.pts_s, 4) for f in stretch] == [round(f.pts_s, 4) for f in full]
        for got, want in zip(stretch, full, strict=True):
            assert np.abs(got.image.astype(int) - want.image.astype(int)).mean() < 0.5
    assert [f.index for f in sought] == [f.index for f in full]


def test_a_bad_stretch_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a stretch"):
        iter_frames_between(tmp_path / "x.mp4", 3.0, 2.0)
    with pytest.raises(VideoError, match="not found"):
        list(iter_frames_between(tmp_path / "x.mp4", 20.0, 21.0))
