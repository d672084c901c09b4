"""LTCC as its authors distribute it (``train/``, ``query/``, ``test/``); layout in docs/datasets.md.

Labels follow CAL's LTCC loader (Gu et al., Simple-CCReID); the protocols are those of the LTCC paper.
"""

from __future__ import annotations

import re
from pathlib import Path

from reid_engine.data._ondisk import Item, files, image_records, nonempty, number_outfits, require_root
from reid_engine.data.base import ImageReidDataset
from reid_engine.data.synthcc import DatasetError

# 094_1_c9_015923.png: person 094, their outfit 1, camera 9, frame 015923.
_NAME = re.compile(r"^(\d+)_(\d+)_c(\d+)_(\d+)\.png$", re.IGNORECASE)


def _items(folder: Path) -> list[Item]:
    items = []
    for path in files(folder, ".png"):
        m = _NAME.match(path.name)
        if m is None:
            raise DatasetError(f"{path}: expected a name like 094_1_c9_015923.png (PID_CLOTHES_cCAM_FRAME)")
        pid, outfit, cam, _frame = m.groups()
        items.append(Item((path,), int(pid), int(cam), str(int(outfit))))
    return nonempty(items, folder, ".png images")


def load_ltcc(root: str | Path) -> ImageReidDataset:
    """Read LTCC.

    ``test/`` is the gallery. Camera ids are the numbers after ``c`` in the file names (CAL subtracts
    one; only equality matters to evaluation). Report the ``general`` protocol (same identity and
    camera as the query is junk) and ``cc`` (also junk: same identity in the query's clothes), the
    standard and cloth-changing settings of the LTCC paper; CAL also prints ``sc``.

    Args:
        root: the ``LTCC_ReID`` folder holding ``train/``, ``query/`` and ``test/``.

    Raises:
        DatasetError: on a missing folder or a ``.png`` whose name is not ``PID_CLOTHES_cCAM_FRAME.png``.
    """
    root = require_root(root, "LTCC")
    train, query, gallery = _items(root / "train"), _items(root / "query"), _items(root / "test")
    outfits = number_outfits(train, query, gallery)
    return ImageReidDataset(
        name="ltcc",
        train=image_records(train, outfits),
        query=image_records(query, outfits),
        gallery=image_records(gallery, outfits),
        meta={
            "source": "LTCC (Qian et al., ACCV 2020); labels as CAL's LTCC loader",
            "eval_protocols": ["general", "cc", "sc"],
        },
    )
