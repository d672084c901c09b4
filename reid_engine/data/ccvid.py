"""CCVID as its authors distribute it (``train.txt``, ``query.txt``, ``gallery.txt`` and frame folders).

Labels follow CAL's CCVID loader (Gu et al., Simple-CCReID, who published CCVID); layout in
docs/datasets.md.
"""

from __future__ import annotations

import re
from pathlib import Path

from reid_engine.data._ondisk import (
    Item,
    nonempty,
    number_outfits,
    read_lines,
    require_dir,
    require_root,
    tracklet_records,
)
from reid_engine.data.base import VideoReidDataset
from reid_engine.data.synthcc import DatasetError

FRAME_SUFFIXES = (".jpg", ".jpeg", ".png")

# session1/001_02: session 1, person 001, walk 02 (CCVID re-cuts the FVG gait data set).
_TRACKLET = re.compile(r"^session(\d+)/(\d+)_(\d+)$")

# CAL numbers cameras by walk index and moves session 3 past sessions 1–2's twelve walks, so the
# same-camera junk rule never pairs a session-3 walk with one of the earlier sessions.
SESSION3_CAMERA_OFFSET = 12


def _camid(session: int, walk: str) -> int:
    return int(walk) + (SESSION3_CAMERA_OFFSET if session == 3 else 0)


def _frames(folder: Path) -> tuple[Path, ...]:
    require_dir(folder)
    frames = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(FRAME_SUFFIXES))
    if not frames:
        raise DatasetError(f"tracklet folder {folder} holds no frames")
    return tuple(frames)


def _items(root: Path, list_name: str) -> list[Item]:
    path = root / list_name
    items = []
    for n, line in read_lines(path):
        parts = line.split()
        m = _TRACKLET.match(parts[0]) if len(parts) == 3 else None
        if m is None or not parts[1].isdigit():
            raise DatasetError(f"{path}:{n}: expected 'sessionN/PID_WALK  PID  CLOTHES', got {line[:80]!r}")
        tracklet, pid, clothes = parts
        items.append(Item(_frames(root / tracklet), int(pid), _camid(int(m.group(1)), m.group(3)), clothes))
    return nonempty(items, path, "tracklets")


def load_ccvid(root: str | Path) -> VideoReidDataset:
    """Read CCVID.

    Each list line names a tracklet folder, its identity and its clothes label; a tracklet's frames
    are the images of its folder in name order. CAL reports the ``general``, ``sc`` and ``cc``
    protocols on CCVID (it splits test tracklets into clips and averages their features; that is the
    evaluator's business, not the loader's).

    Args:
        root: the ``CCVID`` folder holding the three lists and the ``session*`` folders.

    Raises:
        DatasetError: on a missing list file or tracklet folder, or a malformed list line.
    """
    root = require_root(root, "CCVID")
    train, query, gallery = (_items(root, f"{split}.txt") for split in ("train", "query", "gallery"))
    outfits = number_outfits(train, query, gallery)
    return VideoReidDataset(
        name="ccvid",
        train=tracklet_records(train, outfits),
        query=tracklet_records(query, outfits),
        gallery=tracklet_records(gallery, outfits),
        meta={
            "source": "CCVID (Gu et al., CVPR 2022); labels as CAL's CCVID loader",
            "session3_camera_offset": SESSION3_CAMERA_OFFSET,
            "eval_protocols": ["general", "sc", "cc"],
        },
    )
