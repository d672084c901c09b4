"""PRCC as its authors distribute it (``rgb/train``, ``rgb/test/{A,B,C}``); layout in docs/datasets.md.

Labels and protocol follow the PRCC loader and ``test_prcc`` of CAL (Gu et al., Simple-CCReID).
"""

from __future__ import annotations

import re
from pathlib import Path

from reid_engine.data._ondisk import (
    Item,
    files,
    image_records,
    nonempty,
    number_outfits,
    require_root,
    subdirs,
)
from reid_engine.data.base import ImageReidDataset
from reid_engine.data.synthcc import DatasetError

CAMERAS = ("A", "B", "C")
"""Camera letters; a record's ``camid`` is the letter's index (A → 0, B → 1, C → 2), as in CAL."""

# A person wears the same clothes in rooms A and B and different clothes in room C.
_OUTFIT = {"A": "AB", "B": "AB", "C": "C"}
_TRAIN_NAME = re.compile(r"^([ABC])_.+\.jpg$", re.IGNORECASE)


def _pid(folder: Path) -> int:
    if not folder.name.isdigit():
        raise DatasetError(f"{folder}: an identity folder's name must be a number")
    return int(folder.name)


def _train_items(split_dir: Path) -> list[Item]:
    items = []
    for person in subdirs(split_dir):
        pid = _pid(person)
        for path in files(person, ".jpg"):
            m = _TRAIN_NAME.match(path.name)
            if m is None:
                raise DatasetError(f"{path}: expected a name like A_cropped_rgb001.jpg (camera A, B or C)")
            cam = m.group(1).upper()
            items.append(Item((path,), pid, CAMERAS.index(cam), _OUTFIT[cam]))
    return nonempty(items, split_dir, "identity folders with .jpg images")


def _test_items(test_dir: Path, cam: str) -> list[Item]:
    # In the test split the camera is the folder (test/A/<pid>/…), so file names carry no label.
    items = [
        Item((path,), _pid(person), CAMERAS.index(cam), _OUTFIT[cam])
        for person in subdirs(test_dir / cam)
        for path in files(person, ".jpg")
    ]
    return nonempty(items, test_dir / cam, "identity folders with .jpg images")


def load_prcc(root: str | Path) -> ImageReidDataset:
    """Read PRCC's RGB images.

    Train is ``rgb/train`` (``rgb/val`` is not read: CAL trains on ``rgb/train`` only). The gallery is
    test camera A; the query holds both test query sets, camera B (same clothes as A) and camera C
    (changed clothes). Clothes ids make the ``sc`` and ``cc`` protocols of
    :func:`reid_engine.eval.evaluate` score exactly CAL's two PRCC settings over this one query: under
    ``sc`` only camera-B queries have a correct match, under ``cc`` only camera-C queries (the others are
    counted as skipped).

    Args:
        root: the folder holding ``rgb/``.

    Returns:
        The data set; ``meta["query_camids"]`` says which query camera belongs to which setting.

    Raises:
        DatasetError: on a missing folder or an identity folder or image name that breaks the layout.
    """
    root = require_root(root, "PRCC")
    rgb = root / "rgb"
    train = _train_items(rgb / "train")
    query = _test_items(rgb / "test", "B") + _test_items(rgb / "test", "C")
    gallery = _test_items(rgb / "test", "A")
    outfits = number_outfits(train, query, gallery)
    return ImageReidDataset(
        name="prcc",
        train=image_records(train, outfits),
        query=image_records(query, outfits),
        gallery=image_records(gallery, outfits),
        meta={
            "source": "PRCC (Yang et al., TPAMI 2019); labels and protocol as CAL's PRCC loader",
            "cameras": list(CAMERAS),
            "query_camids": {"sc": CAMERAS.index("B"), "cc": CAMERAS.index("C")},
            "gallery_camids": [CAMERAS.index("A")],
            "eval_protocols": ["sc", "cc"],
        },
    )
