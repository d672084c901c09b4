"""Data sets behind one interface: frozen records, split containers, loaders and torch wrappers."""

from __future__ import annotations

from reid_engine.data.base import (
    COCO_KEYPOINTS,
    ImageRecord,
    ImageReidDataset,
    TrackletRecord,
    VideoReidDataset,
    relabel,
)
from reid_engine.data.ccvid import load_ccvid
from reid_engine.data.ltcc import load_ltcc
from reid_engine.data.mevid import load_mevid
from reid_engine.data.prcc import load_prcc
from reid_engine.data.registry import DATASETS, load_dataset
from reid_engine.data.synthcc import DatasetError
from reid_engine.data.vcclothes import load_vcclothes

__all__ = [
    "COCO_KEYPOINTS",
    "DATASETS",
    "DatasetError",
    "ImageRecord",
    "ImageReidDataset",
    "TrackletRecord",
    "VideoReidDataset",
    "load_ccvid",
    "load_dataset",
    "load_ltcc",
    "load_mevid",
    "load_prcc",
    "load_vcclothes",
    "relabel",
]
