"""RAP v2 in the unified attribute schema (Li et al., "A richly annotated pedestrian dataset for
person retrieval in real surveillance scenarios", TIP 2019).

Published layout: ``ROOT/RAP_annotation/RAP_annotation.mat`` holding a struct ``RAP_annotation`` with
fields ``name`` (84 928 image file names), ``attribute`` (152 names), ``data`` (84 928 × 152, 0/1),
``selected_attribute`` and ``partition_attribute`` (five random partitions, each a struct of 1-based
``train_index``, ``val_index`` and ``test_index``); the images are in ``ROOT/RAP_dataset/``.
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


def _colours(prefix: str, red: str) -> dict[str, str | None]:
    # RAP names colours per body part; silver is a light grey, "mixture" and "other" have no
    # palette value. The file spells the upper-body red "up-ColorRed" where the rest say "ub-".
    out: dict[str, str | None] = {
        f"{prefix}-Color{k}": k.lower()
        for k in ("Black", "White", "Green", "Blue", "Yellow", "Brown", "Purple", "Pink", "Orange")
    }
    out.update({f"{prefix}-ColorGray": "grey", f"{prefix}-ColorSilver": "grey", red: "red"})
    out.update({f"{prefix}-ColorMixture": None, f"{prefix}-ColorOther": None})
    return out


_OTHER_UPPER = (None, "tshirt", "shirt", "dress")

RAPV2_RULES: tuple[Rule, ...] = (
    OneOf("gender", {"Femal": "female"}, default="male"),
    OneOf(
        "age_group",
        {
            "AgeLess16": "child",
            "Age17-30": "adult",
            "Age31-45": "adult",
            "Age46-60": "adult",
            "AgeBiger60": "senior",
        },
    ),
    OneOf(
        "build",
        {
            "BodyFatter": "heavy",
            "BodyFat": "heavy",
            "BodyNormal": "medium",
            "BodyThin": "slim",
            "BodyThiner": "slim",
        },
    ),
    AnyOf("glasses", ("hs-Glasses", "hs-Sunglasses")),
    # The outermost garment: a jacket or coat over anything else wins.
    OneOf(
        "upper_type",
        {
            "ub-TShirt": "tshirt",
            "ub-Shirt": "shirt",
            "ub-Jacket": "jacket",
            "ub-SuitUp": "jacket",
            "ub-Cotton": "coat",
            "lb-Dress": "dress",
            "ub-Sweater": None,
            "ub-Vest": None,
            "ub-Tight": None,
            "ub-Others": None,
        },
        overrides={"coat": (*_OTHER_UPPER, "jacket"), "jacket": _OTHER_UPPER},
    ),
    OneOf("sleeve_length", {"ub-ShortSleeve": "short"}, default="long"),
    OneOf("upper_colour", _colours("ub", "up-ColorRed")),
    OneOf(
        "lower_type",
        {
            "lb-LongTrousers": "trousers",
            "lb-TightTrousers": "trousers",
            "lb-Jeans": "jeans",
            "lb-Shorts": "shorts",
            "lb-Skirt": "skirt",
            "lb-ShortSkirt": "skirt",
            "lb-LongSkirt": "skirt",
            "lb-Dress": "dress",
        },
        overrides={"jeans": ("trousers",)},
    ),
    OneOf("lower_colour", _colours("lb", "lb-ColorRed")),
    OneOf("shoes_colour", _colours("shoes", "shoes-ColorRed")),
    AnyOf("backpack", ("attachment-Backpack",)),
    AnyOf("handbag", ("attachment-HandBag",)),
    AnyOf("shoulder_bag", ("attachment-ShoulderBag",)),
    AnyOf("hat", ("hs-Hat",)),
)
"""How RAP v2 labels become schema attributes (docs/attributes.md explains what is left out)."""


def load_rapv2(root: str | Path, *, partition: int = 0, image_dir: str = "RAP_dataset") -> ParDataset:
    """Read RAP v2 from ``RAP_annotation/RAP_annotation.mat``.

    Args:
        root: the data-set folder (holding ``RAP_annotation/`` and the image folder).
        partition: which of the file's random attribute partitions to use (0–4).
        image_dir: the image folder under ``root``.

    Raises:
        DatasetError: when the file is missing or malformed, lacks the partition, or the image folder
            is missing.
    """
    root = Path(root)
    path = root / "RAP_annotation" / "RAP_annotation.mat"
    mat = load_mat(path)
    ann = np.asarray(mat_item(mat, "RAP_annotation", path)).ravel()
    if ann.size != 1 or ann.dtype.names is None:
        raise DatasetError(f"{path}: 'RAP_annotation' is not the expected struct")
    ann = ann[0]
    names = mat_strings(mat_item(ann, "attribute", path), path)
    files = mat_strings(mat_item(ann, "name", path), path)
    values = map_labels(names, mat_item(ann, "data", path), RAPV2_RULES, source=str(path))
    if len(values) != len(files):
        raise DatasetError(f"{path}: {len(files)} image names but {len(values)} label rows")
    parts = np.asarray(mat_item(ann, "partition_attribute", path), dtype=object).ravel()
    if not 0 <= partition < len(parts):
        raise DatasetError(f"{path} has {len(parts)} partitions, asked for partition {partition}")
    part = np.asarray(parts[partition]).ravel()
    if part.size != 1 or part.dtype.names is None:
        raise DatasetError(f"{path}: partition {partition} is not a train/val/test struct")
    images = root / image_dir
    check_image_dir(images)
    splits = {
        split: tuple(
            ParRecord(images / files[i], values[i])
            for i in mat_indices(mat_item(part[0], f"{split}_index", path), len(values), path)
        )
        for split in ("train", "val", "test")
    }
    return ParDataset(
        name="rapv2",
        train=splits["train"],
        val=splits["val"],
        test=splits["test"],
        labelled=labelled_attributes(RAPV2_RULES),
        meta={"partition": partition, "source_attributes": len(names)},
    )
