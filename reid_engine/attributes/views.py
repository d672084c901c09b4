"""Schema views: SynthCC labels re-expressed as another data set would label them.

Real PAR data sets label different attribute sets (PA-100K has no colours; RAP has colours and
garments but, in this view, no carried objects). A view keeps only the attributes such a data set
labels and drops the rest from each record's attribute dictionary, so that the label mask of the
unified schema marks them as unlabelled and every loss and metric skips them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal, TypeVar

from reid_engine.attributes.schema import SCHEMA
from reid_engine.data.base import ImageRecord, ReidDataset, TrackletRecord

ViewName = Literal["full", "pa100k-like", "rap-like"]
VIEWS: tuple[ViewName, ...] = ("full", "pa100k-like", "rap-like")
"""Every name :func:`view_attributes` knows."""

SHARED_CORE: tuple[str, ...] = ("gender", "age_group", "upper_type", "sleeve_length", "lower_type")
"""Attributes both partial views label: the person's gender and age and the garment types."""

R = TypeVar("R", ImageRecord, TrackletRecord)
D = TypeVar("D", bound=ReidDataset[Any])


def view_attributes(name: str) -> frozenset[str]:
    """The attribute names a view labels.

    ``pa100k-like`` (PA-100K has no colour attributes): the shared core, glasses, height, the upper
    pattern, the three bags and the hat. ``rap-like`` (colours and body/hair details): the shared core,
    build, hair length and colour, beard and the upper, lower and shoe colours. Each partial view lacks
    seven attributes the other has; together they cover the whole schema. ``full``: every attribute.

    Raises:
        ValueError: for an unknown view name.
    """
    match name:
        case "full":
            names: tuple[str, ...] = SCHEMA.names
        case "pa100k-like":
            names = (*SHARED_CORE, "glasses", "height", "upper_pattern", "backpack", "handbag",
                     "shoulder_bag", "hat")
        case "rap-like":
            names = (*SHARED_CORE, "build", "hair_length", "hair_colour", "beard", "upper_colour",
                     "lower_colour", "shoes_colour")
        case _:
            raise ValueError(f"unknown attribute view {name!r}; known: {', '.join(VIEWS)}")
    return frozenset(names)


def apply_view(records: Sequence[R], name: str) -> tuple[R, ...]:
    """Copies of ``records`` whose attribute dictionaries keep only the attributes view ``name`` labels.

    Records without attributes (None) stay without. The order of the records is kept.

    Raises:
        ValueError: for an unknown view name.
    """
    keep = view_attributes(name)
    out: list[R] = []
    for r in records:
        if r.attributes is None:
            out.append(r)
        else:
            out.append(replace(r, attributes={k: v for k, v in r.attributes.items() if k in keep}))
    return tuple(out)


def view_dataset(dataset: D, name: str) -> D:
    """The data set with view ``name`` applied to every split (the type of ``dataset`` is kept).

    Raises:
        ValueError: for an unknown view name.
    """
    return replace(
        dataset,
        train=apply_view(dataset.train, name),
        query=apply_view(dataset.query, name),
        gallery=apply_view(dataset.gallery, name),
        meta={**dataset.meta, "attribute_view": name},
    )
