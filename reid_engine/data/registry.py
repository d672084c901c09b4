"""Data sets by name, for the command line and configuration files (layouts in docs/datasets.md)."""

from __future__ import annotations

from pathlib import Path

from reid_engine.data.base import ImageReidDataset, VideoReidDataset
from reid_engine.data.ccvid import load_ccvid
from reid_engine.data.ltcc import load_ltcc
from reid_engine.data.mevid import load_mevid
from reid_engine.data.prcc import load_prcc
from reid_engine.data.synthcc import DatasetError, load_synthcc_images, load_synthcc_tracklets
from reid_engine.data.vcclothes import load_vcclothes

DATASETS: tuple[str, ...] = (
    "synthcc",
    "synthcc-tracklets",
    "prcc",
    "ltcc",
    "vcclothes",
    "vcclothes-sc",
    "vcclothes-cc",
    "ccvid",
    "mevid",
)
"""Every name :func:`load_dataset` knows."""


def load_dataset(name: str, root: str | Path) -> ImageReidDataset | VideoReidDataset:
    """Read the data set ``name`` from the folder ``root``.

    Args:
        name: one of :data:`DATASETS`; ``vcclothes-sc`` / ``vcclothes-cc`` are VC-Clothes with the
            test split cut to CAL's same-clothes / clothes-changing camera pair.
        root: the data set's folder, laid out as its authors distribute it.

    Raises:
        DatasetError: for an unknown name, or when the folder does not hold that data set.
    """
    match name:
        case "synthcc":
            return load_synthcc_images(root)
        case "synthcc-tracklets":
            return load_synthcc_tracklets(root)
        case "prcc":
            return load_prcc(root)
        case "ltcc":
            return load_ltcc(root)
        case "vcclothes":
            return load_vcclothes(root)
        case "vcclothes-sc":
            return load_vcclothes(root, subset="sc")
        case "vcclothes-cc":
            return load_vcclothes(root, subset="cc")
        case "ccvid":
            return load_ccvid(root)
        case "mevid":
            return load_mevid(root)
        case _:
            raise DatasetError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")


def load_training_dataset(name: str, root: str | Path) -> ImageReidDataset | VideoReidDataset:
    """:func:`load_dataset` for training: refuses the real labelled attribute set, which is for
    evaluation only (``reid_engine.attributes.real_labelled``). Every training loop loads through this.

    Raises:
        DatasetError: for the real labelled set, an unknown name, or a folder that is not that data set.
    """
    from reid_engine.attributes.real_labelled import RealLabelledError, refuse_real_labelled

    try:
        refuse_real_labelled(root)
    except RealLabelledError as exc:
        raise DatasetError(str(exc)) from None
    return load_dataset(name, root)
