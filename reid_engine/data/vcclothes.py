"""VC-Clothes as its authors distribute it (``train/``, ``query/``, ``gallery/``); layout in docs/datasets.md.

Labels and the camera subsets follow CAL's VC-Clothes loader (Gu et al., Simple-CCReID).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from reid_engine.data._ondisk import Item, files, image_records, nonempty, number_outfits, require_root
from reid_engine.data.base import ImageReidDataset
from reid_engine.data.synthcc import DatasetError

Subset = Literal["all", "sc", "cc"]

# CAL's modes: "sc" keeps the test images of cameras 2 and 3 (where people wear the same clothes),
# "cc" those of cameras 3 and 4 (where they wear different clothes); training always uses every camera.
TEST_CAMERAS: dict[str, tuple[int, ...]] = {"sc": (2, 3), "cc": (3, 4)}

# 0001-01-01-01.jpg: person 0001, camera 01, their outfit 01, image 01.
_NAME = re.compile(r"^(\d+)-(\d+)-(\d+)-(\d+)\.jpg$", re.IGNORECASE)


def _items(folder: Path) -> list[Item]:
    items = []
    for path in files(folder, ".jpg"):
        m = _NAME.match(path.name)
        if m is None:
            raise DatasetError(f"{path}: expected a name like 0001-01-01-01.jpg (PID-CAM-CLOTHES-NNN)")
        pid, cam, outfit, _n = m.groups()
        items.append(Item((path,), int(pid), int(cam), str(int(outfit))))
    return nonempty(items, folder, ".jpg images")


def load_vcclothes(root: str | Path, *, subset: Subset = "all") -> ImageReidDataset:
    """Read VC-Clothes.

    Camera ids are the camera numbers of the file names (1–4; CAL subtracts one, which evaluation does
    not see). With ``subset="sc"`` or ``"cc"`` the query and gallery keep only CAL's camera pair, and
    CAL reports the ``general`` protocol on it; on ``"all"`` it reports ``general``, ``sc`` and ``cc``.

    Args:
        root: the ``VC-Clothes`` folder holding ``train/``, ``query/`` and ``gallery/``.
        subset: ``"all"`` cameras, or CAL's same-clothes (``"sc"``) or clothes-changing (``"cc"``) pair.

    Raises:
        DatasetError: on a missing folder, an unknown subset or a ``.jpg`` not named
            ``PID-CAM-CLOTHES-NNN.jpg``.
    """
    if subset != "all" and subset not in TEST_CAMERAS:
        raise DatasetError(f"unknown VC-Clothes subset {subset!r} (all, sc, cc)")
    root = require_root(root, "VC-Clothes")
    train, query, gallery = _items(root / "train"), _items(root / "query"), _items(root / "gallery")
    outfits = number_outfits(train, query, gallery)
    if subset != "all":
        cams = TEST_CAMERAS[subset]
        query = [it for it in query if it.camid in cams]
        gallery = [it for it in gallery if it.camid in cams]
    return ImageReidDataset(
        name="vcclothes" if subset == "all" else f"vcclothes-{subset}",
        train=image_records(train, outfits),
        query=image_records(query, outfits),
        gallery=image_records(gallery, outfits),
        meta={
            "source": "VC-Clothes (Wan et al., CVPR-W 2020); labels and camera subsets as CAL's loader",
            "subset": subset,
            "test_camids": sorted({it.camid for it in (*query, *gallery)}),
            "eval_protocols": ["general", "sc", "cc"] if subset == "all" else ["general"],
        },
    )
