"""PA-100K in the unified attribute schema (Liu et al., "HydraPlus-Net", ICCV 2017).

Published layout: ``ROOT/annotation.mat`` with ``attributes`` (26 names), ``{train,val,test}_images_name``
and ``{train,val,test}_label`` (N × 26, 0/1), and the images in ``ROOT/data/``. The split is the
benchmark's fixed 80 000 / 10 000 / 10 000.
"""

from __future__ import annotations

from pathlib import Path

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
    mat_item,
    mat_strings,
)
from reid_engine.data.synthcc import DatasetError

PA100K_RULES: tuple[Rule, ...] = (
    OneOf("gender", {"Female": "female"}, default="male"),
    OneOf("age_group", {"AgeLess18": "child", "Age18-60": "adult", "AgeOver60": "senior"}),
    AnyOf("glasses", ("Glasses",)),
    OneOf("sleeve_length", {"ShortSleeve": "short", "LongSleeve": "long"}),
    # UpperSplice (colour blocks) is a pattern the schema has no value for.
    OneOf(
        "upper_pattern",
        {"UpperStride": "stripes", "UpperPlaid": "checks", "UpperLogo": "print", "UpperSplice": None},
        default="solid",
    ),
    AnyOf("backpack", ("Backpack",)),
    AnyOf("handbag", ("HandBag",)),
    AnyOf("shoulder_bag", ("ShoulderBag",)),
    AnyOf("hat", ("Hat",)),
)
"""How PA-100K labels become schema attributes (docs/attributes.md explains what is left out)."""


def load_pa100k(root: str | Path, *, image_dir: str = "data") -> ParDataset:
    """Read PA-100K from its published layout.

    Args:
        root: the folder holding ``annotation.mat``.
        image_dir: the image folder under ``root``.

    Raises:
        DatasetError: when the annotation file is missing or malformed, or the image folder is missing.
    """
    root = Path(root)
    path = root / "annotation.mat"
    mat = load_mat(path)
    names = mat_strings(mat_item(mat, "attributes", path), path)
    images = root / image_dir
    check_image_dir(images)
    splits: dict[str, tuple[ParRecord, ...]] = {}
    for split in ("train", "val", "test"):
        files = mat_strings(mat_item(mat, f"{split}_images_name", path), path)
        labels = mat_item(mat, f"{split}_label", path)
        values = map_labels(names, labels, PA100K_RULES, source=str(path))
        if len(values) != len(files):
            raise DatasetError(f"{path}: {len(files)} {split} images but {len(values)} label rows")
        splits[split] = tuple(ParRecord(images / f, v) for f, v in zip(files, values, strict=True))
    return ParDataset(
        name="pa100k",
        train=splits["train"],
        val=splits["val"],
        test=splits["test"],
        labelled=labelled_attributes(PA100K_RULES),
        meta={"source_attributes": len(names)},
    )
