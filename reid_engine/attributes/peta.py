"""PETA in the unified attribute schema (Deng et al., "Pedestrian attribute recognition at far
distance", ACM MM 2014), from the ``PETA.mat`` file the DeepMAR and Rethinking-of-PAR code read.

Published layout: ``ROOT/PETA.mat`` holding a struct ``peta`` whose fields are, in order, ``data``
(19 000 × 109: four id columns, then the 105 attribute labels, 0/1), the 105 attribute names, the
indices of the 35 benchmark attributes, and five random partitions, each a struct of 1-based
``train``, ``val`` and ``test`` image indices; image ``i`` (from 1) is ``ROOT/images/{i:05d}.png``.
Fields are read by position, as that code does.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reid_engine.attributes.adapters import (
    AnyOf,
    OneOf,
    ParDataset,
    ParRecord,
    Rule,
    check_image_dir,
    labelled_attributes,
    load_mat,
    map_labels,
    mat_indices,
    mat_item,
    mat_strings,
)
from reid_engine.data.synthcc import DatasetError

_PETA_COLOURS = {
    "Black": "black",
    "Blue": "blue",
    "Brown": "brown",
    "Green": "green",
    "Grey": "grey",
    "Orange": "orange",
    "Pink": "pink",
    "Purple": "purple",
    "Red": "red",
    "White": "white",
    "Yellow": "yellow",
}
_ID_COLUMNS = 4

PETA_RULES: tuple[Rule, ...] = (
    OneOf("gender", {"personalMale": "male", "personalFemale": "female"}),
    OneOf(
        "age_group",
        {
            "personalLess15": "child",
            "personalLess30": "adult",
            "personalLess45": "adult",
            "personalLess60": "adult",
            "personalLarger60": "senior",
        },
    ),
    # Dyed hair (blue, green, pink, purple) has no schema value; yellow hair is blond.
    OneOf(
        "hair_colour",
        {
            "hairBlack": "black",
            "hairBrown": "brown",
            "hairYellow": "blond",
            "hairGrey": "grey",
            "hairWhite": "grey",
            "hairRed": "red",
            "hairOrange": "red",
            "hairBlue": None,
            "hairGreen": None,
            "hairPink": None,
            "hairPurple": None,
        },
    ),
    OneOf(
        "sleeve_length",
        {"upperBodyShortSleeve": "short", "upperBodyNoSleeve": "short", "upperBodyLongSleeve": "long"},
    ),
    OneOf("upper_colour", {f"upperBody{k}": v for k, v in _PETA_COLOURS.items()}),
    OneOf(
        "upper_pattern",
        {
            "upperBodyThinStripes": "stripes",
            "upperBodyThickStripes": "stripes",
            "upperBodyPlaid": "checks",
            "upperBodyLogo": "print",
        },
        default="solid",
    ),
    OneOf("lower_colour", {f"lowerBody{k}": v for k, v in _PETA_COLOURS.items()}),
    OneOf("shoes_colour", {f"footwear{k}": v for k, v in _PETA_COLOURS.items()}),
    AnyOf("backpack", ("carryingBackpack",)),
    AnyOf("shoulder_bag", ("carryingMessengerBag",)),
    AnyOf("hat", ("accessoryHat",)),
)
"""How PETA labels become schema attributes (docs/attributes.md explains what is left out)."""


def load_peta(root: str | Path, *, partition: int = 0, image_dir: str = "images") -> ParDataset:
    """Read PETA from ``PETA.mat``.

    Args:
        root: the folder holding ``PETA.mat``.
        partition: which of the file's random train/val/test partitions to use (0–4).
        image_dir: the image folder under ``root``.

    Raises:
        DatasetError: when the file is missing or malformed, lacks the partition, or the image folder
            is missing.
    """
    root = Path(root)
    path = root / "PETA.mat"
    mat = load_mat(path)
    peta = np.asarray(mat_item(mat, "peta", path)).ravel()
    if peta.size != 1 or peta.dtype.names is None or len(peta.dtype.names) < 4:
        raise DatasetError(f"{path}: 'peta' is not the expected struct")
    peta = peta[0]
    data = np.asarray(mat_item(peta, 0, path))
    names = mat_strings(mat_item(peta, 1, path), path)
    if data.ndim != 2 or data.shape[1] != _ID_COLUMNS + len(names):
        raise DatasetError(f"{path}: data has shape {data.shape}, expected (N, {_ID_COLUMNS + len(names)})")
    values = map_labels(names, data[:, _ID_COLUMNS:], PETA_RULES, source=str(path))
    parts = np.asarray(mat_item(peta, 3, path), dtype=object).ravel()
    if not 0 <= partition < len(parts):
        raise DatasetError(f"{path} has {len(parts)} partitions, asked for partition {partition}")
    part = np.asarray(parts[partition]).ravel()
    if part.size != 1 or part.dtype.names is None or len(part.dtype.names) < 3:
        raise DatasetError(f"{path}: partition {partition} is not a train/val/test struct")
    images = root / image_dir
    check_image_dir(images)
    splits = {
        split: tuple(
            ParRecord(images / f"{i + 1:05d}.png", values[i])
            for i in mat_indices(part[0][k], len(values), path)
        )
        for k, split in enumerate(("train", "val", "test"))
    }
    return ParDataset(
        name="peta",
        train=splits["train"],
        val=splits["val"],
        test=splits["test"],
        labelled=labelled_attributes(PETA_RULES),
        meta={"partition": partition, "source_attributes": len(names)},
    )
