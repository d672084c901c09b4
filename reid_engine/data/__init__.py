"""Data sets behind one interface: frozen records, split containers and torch wrappers."""

from __future__ import annotations

from reid_engine.data.base import (
    COCO_KEYPOINTS,
    ImageRecord,
    ImageReidDataset,
    TrackletRecord,
    VideoReidDataset,
    relabel,
)

__all__ = [
    "COCO_KEYPOINTS",
    "ImageRecord",
    "ImageReidDataset",
    "TrackletRecord",
    "VideoReidDataset",
    "relabel",
]
