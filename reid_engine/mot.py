"""Tracks in the MOTChallenge text format, so any MOT tool can score them."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from reid_engine.types import Tracklet


def write_mot(tracklets: Iterable[Tracklet], path: str | os.PathLike[str]) -> int:
    """Write one line per (frame, track): ``frame,id,x,y,w,h,conf,-1,-1,-1``.

    Frames are numbered from 1 as in MOTChallenge, using the source video's frame index, so the
    file lines up with ground truth made at the video's full frame rate.

    Returns:
        The number of lines written.
    """
    rows = []
    for t in tracklets:
        for frame, box, score in zip(t.frame_indices, t.boxes_xyxy, t.scores, strict=True):
            x1, y1, x2, y2 = (float(v) for v in box)
            rows.append((int(frame) + 1, t.track_id, x1, y1, x2 - x1, y2 - y1, float(score)))
    rows.sort()
    Path(path).write_text(
        "".join(f"{f},{i},{x:.2f},{y:.2f},{w:.2f},{h:.2f},{c:.4f},-1,-1,-1\n" for f, i, x, y, w, h, c in rows)
    )
    return len(rows)


def read_mot(path: str | os.PathLike[str]) -> np.ndarray:
    """Read a MOT file into a float64 (N, 7) array: frame, id, x, y, w, h, conf."""
    data = np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)
    if data.size == 0:
        return np.zeros((0, 7), dtype=np.float64)
    return data[:, :7]
