"""The data-set interface every ReID data set implements (SynthCC, PRCC, LTCC, CCVID, …).

A loader reads a data set's own layout into these frozen records; training and evaluation code only
ever sees records, never a data set's folder structure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Generic, TypeVar

import numpy as np

from reid_engine.attributes import SCHEMA

AttributeDict = Mapping[str, str | bool]
Keypoints = tuple[tuple[float, float, float], ...]
"""COCO-17 keypoints as ``(x, y, v)`` in image pixels; ``v`` is 0 unlabelled, 1 hidden, 2 visible."""

COCO_KEYPOINTS: tuple[str, ...] = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """One labelled person image.

    Attributes:
        path: the image file (RGB when loaded).
        pid: identity label, unique within the data set.
        camid: camera label.
        clothes_id: outfit label, unique within the data set (two identities never share one, even
            when they dress alike).
        attributes: attribute values in the unified schema, or None when the data set has none;
            attributes a data set does not label are absent from the mapping.
        mask_path: a PNG label map of the same size (parsing / clothing mask), or None.
        keypoints: 17 COCO keypoints in image pixels, or None.
    """

    path: Path
    pid: int
    camid: int
    clothes_id: int
    attributes: AttributeDict | None = None
    mask_path: Path | None = None
    keypoints: Keypoints | None = None

    def keypoints_array(self) -> np.ndarray | None:
        """Keypoints as float32 (17, 3), or None."""
        return None if self.keypoints is None else np.asarray(self.keypoints, dtype=np.float32)


@dataclass(frozen=True, slots=True)
class TrackletRecord:
    """One labelled video tracklet: the frames of one person walking through one camera's view.

    Attributes:
        paths: frame image files in temporal order.
        pid, camid, clothes_id: as in :class:`ImageRecord`.
        attributes: attribute values in the unified schema, or None.
        mask_paths: one label map per frame, or None.
    """

    paths: tuple[Path, ...]
    pid: int
    camid: int
    clothes_id: int
    attributes: AttributeDict | None = None
    mask_paths: tuple[Path, ...] | None = None

    def __len__(self) -> int:
        return len(self.paths)


R = TypeVar("R", ImageRecord, TrackletRecord)


def relabel(records: Sequence[R]) -> tuple[tuple[R, ...], dict[int, int], dict[int, int]]:
    """Map identity and clothes labels to contiguous ``0..N-1`` (as identity classifiers need).

    Labels are assigned in sorted order of the original labels, so the mapping does not depend on the
    order of ``records``.

    Returns:
        ``(records, pid_map, clothes_map)``: relabelled records and the old → new label maps.
    """
    pid_map = {p: i for i, p in enumerate(sorted({r.pid for r in records}))}
    clothes_map = {c: i for i, c in enumerate(sorted({r.clothes_id for r in records}))}
    out = tuple(replace(r, pid=pid_map[r.pid], clothes_id=clothes_map[r.clothes_id]) for r in records)
    return out, pid_map, clothes_map


def _stats(records: Iterable[ImageRecord | TrackletRecord]) -> dict[str, int]:
    items = list(records)
    return {
        "items": len(items),
        "ids": len({r.pid for r in items}),
        "clothes": len({r.clothes_id for r in items}),
        "cameras": len({r.camid for r in items}),
    }


def _check_attributes(records: Iterable[ImageRecord | TrackletRecord]) -> None:
    for r in records:
        if r.attributes is not None:
            SCHEMA.validate(r.attributes)


@dataclass(frozen=True)
class ReidDataset(Generic[R]):
    """A ReID data set: a training split and a query/gallery test split of one kind of record.

    Attributes:
        name: short name (``"synthcc"``, ``"prcc"``, …).
        train, query, gallery: the records of each split.
        meta: free-form data-set facts (protocol name, generator settings…), JSON-serialisable.
    """

    name: str
    train: tuple[R, ...]
    query: tuple[R, ...]
    gallery: tuple[R, ...]
    meta: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_attributes((*self.train, *self.query, *self.gallery))

    @property
    def num_train_pids(self) -> int:
        return len({r.pid for r in self.train})

    @property
    def num_train_clothes(self) -> int:
        return len({r.clothes_id for r in self.train})

    def relabelled_train(self) -> tuple[R, ...]:
        """Training records with contiguous identity and clothes labels."""
        return relabel(self.train)[0]

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts per split (items, identities, clothes, cameras)."""
        return {"train": _stats(self.train), "query": _stats(self.query), "gallery": _stats(self.gallery)}


class ImageReidDataset(ReidDataset[ImageRecord]):
    """An image ReID data set (PRCC, LTCC, SynthCC images, …)."""


class VideoReidDataset(ReidDataset[TrackletRecord]):
    """A video ReID data set of tracklets (CCVID, MEVID, SynthCC tracklets, …)."""
