"""Shared machinery of the PAR data-set adapters (PA-100K, PETA, RAP v2): records, mapping rules and
MATLAB file reading.

A data set's binary labels map into the unified schema through a few declarative rules per schema
attribute (:class:`OneOf`, :class:`AnyOf`); a schema attribute a data set cannot label is simply
absent from its records' dictionaries, which :meth:`AttributeSchema.encode` turns into a mask. The
mapping tables and the reasons behind them are in docs/attributes.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
from scipy.io.matlab import MatReadError

from reid_engine.attributes.schema import SCHEMA, AttributeValue
from reid_engine.data.synthcc import DatasetError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ParRecord:
    """One image of a PAR data set.

    Attributes:
        path: the image file.
        attributes: values in the unified schema; attributes the data set does not label for this
            image are absent.
    """

    path: Path
    attributes: Mapping[str, AttributeValue]


@dataclass(frozen=True)
class ParDataset:
    """A PAR data set in the unified schema, split as its benchmark protocol splits it.

    Attributes:
        name: ``"pa100k"``, ``"peta"`` or ``"rapv2"``.
        train, val, test: the records of each split.
        labelled: the schema attributes the adapter can label at all (the others are never present).
        meta: facts about the source (partition index, attribute count…), JSON-serialisable.
    """

    name: str
    train: tuple[ParRecord, ...]
    val: tuple[ParRecord, ...]
    test: tuple[ParRecord, ...]
    labelled: tuple[str, ...]
    meta: Mapping[str, object] = field(default_factory=dict)

    def summary(self) -> dict[str, int]:
        """Number of records per split."""
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


# --- Mapping rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OneOf:
    """A multi-class schema attribute from a group of source labels.

    Each source label, when positive, names one schema value, or ``None`` for a value outside the
    schema (a sweater has no ``upper_type``). An image is labelled when exactly one value is named,
    after ``overrides`` (``{"jacket": ("tshirt",)}``: a jacket worn over a T-shirt is the outer
    garment) have removed the values they beat; with no value named it takes ``default`` (None:
    unlabelled). A named ``None``, two values, or a source entry that is neither 0 nor 1 leave the
    image unlabelled.
    """

    attribute: str
    sources: Mapping[str, str | None]
    default: str | None = None
    overrides: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        attr = SCHEMA[self.attribute]
        values = [v for v in (*self.sources.values(), self.default, *self.overrides) if v is not None]
        values += [v for losers in self.overrides.values() for v in losers if v is not None]
        for v in values:
            attr.index_of(v)
        if attr.kind == "binary":
            raise ValueError(f"{self.attribute} is binary: use AnyOf")

    @property
    def source_names(self) -> tuple[str, ...]:
        return tuple(self.sources)

    def apply(self, cols: Mapping[str, np.ndarray], n: int) -> list[AttributeValue | None]:
        """Values per image (None where unlabelled) from the 0/1 source columns."""
        known = np.ones(n, bool)
        named: dict[str | None, np.ndarray] = {}
        for src, value in self.sources.items():
            col = cols[src]
            known &= (col == 0) | (col == 1)
            named[value] = named.get(value, np.zeros(n, bool)) | (col == 1)
        present = dict(named)  # overrides act on what was named, whatever their order
        for winner, losers in self.overrides.items():
            if winner in present:
                for loser in losers:
                    if loser in named:
                        named[loser] = named[loser] & ~present[winner]
        keys = list(named)
        stack = np.stack([named[k] for k in keys], axis=1)
        count = stack.sum(axis=1)
        first = stack.argmax(axis=1)
        out: list[AttributeValue | None] = []
        for i in range(n):
            if not known[i] or count[i] > 1:
                out.append(None)
            elif count[i] == 1:
                out.append(keys[int(first[i])])
            else:
                out.append(self.default)
        return out


@dataclass(frozen=True)
class AnyOf:
    """A binary schema attribute: True when any source label is positive, False when all are 0,
    unlabelled otherwise (no positive and some entry neither 0 nor 1)."""

    attribute: str
    sources: tuple[str, ...]

    def __post_init__(self) -> None:
        if SCHEMA[self.attribute].kind != "binary":
            raise ValueError(f"{self.attribute} is not binary: use OneOf")

    @property
    def source_names(self) -> tuple[str, ...]:
        return self.sources

    def apply(self, cols: Mapping[str, np.ndarray], n: int) -> list[AttributeValue | None]:
        block = np.stack([cols[s] for s in self.sources], axis=1)
        positive = (block == 1).any(axis=1)
        negative = (block == 0).all(axis=1)
        return [True if p else False if q else None for p, q in zip(positive, negative, strict=True)]


Rule = OneOf | AnyOf


def map_labels(
    names: Sequence[str], labels: np.ndarray, rules: Sequence[Rule], *, source: str
) -> list[dict[str, AttributeValue]]:
    """Apply ``rules`` to a source label matrix.

    Args:
        names: the source attribute names, one per column of ``labels``.
        labels: (N, len(names)) numeric labels, 1 positive and 0 negative; other values are unknown.
        rules: the data set's rules, one per schema attribute.
        source: file name for error messages.

    Returns:
        One schema attribute dictionary per row.

    Raises:
        DatasetError: when a source name a rule needs is missing or the matrix has the wrong shape.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.shape[1] != len(names) or labels.dtype.kind not in "biuf":
        raise DatasetError(f"{source}: expected a numeric label matrix with {len(names)} columns")
    column = {n: i for i, n in enumerate(names)}
    missing = sorted({s for r in rules for s in r.source_names if s not in column})
    if missing:
        raise DatasetError(f"{source} lacks attribute(s) {', '.join(missing)}")
    cols = {s: labels[:, column[s]] for r in rules for s in r.source_names}
    n = labels.shape[0]
    out: list[dict[str, AttributeValue]] = [{} for _ in range(n)]
    for rule in rules:
        for row, value in zip(out, rule.apply(cols, n), strict=True):
            if value is not None:
                row[rule.attribute] = value
    return out


def labelled_attributes(rules: Sequence[Rule]) -> tuple[str, ...]:
    """The schema attributes ``rules`` can label, in schema order."""
    covered = {r.attribute for r in rules}
    return tuple(n for n in SCHEMA.names if n in covered)


# --- MATLAB files ----------------------------------------------------------------------------------


def load_mat(path: Path) -> dict[str, Any]:
    """Read a MATLAB v5 ``.mat`` file.

    Raises:
        DatasetError: when the file is missing or not a readable MATLAB v5 file.
    """
    if not path.is_file():
        raise DatasetError(f"missing annotation file {path}")
    try:
        return dict(scipy.io.loadmat(str(path)))
    except (MatReadError, NotImplementedError, ValueError, OSError, TypeError) as exc:
        raise DatasetError(f"{path} is not a readable MATLAB v5 file ({exc})") from None


def mat_item(container: Any, key: str | int, source: Path) -> Any:
    """``container[key]`` with a one-line :class:`DatasetError` when it is missing."""
    try:
        return container[key]
    except (KeyError, IndexError, ValueError, TypeError):
        raise DatasetError(f"{source}: missing entry {key!r}") from None


def mat_strings(cell: Any, source: Path) -> list[str]:
    """Strings of a MATLAB cell array of char arrays (any shape), flattened, whitespace stripped."""
    out: list[str] = []
    for item in np.asarray(cell, dtype=object).ravel():
        while isinstance(item, np.ndarray):
            if item.size != 1:
                raise DatasetError(f"{source}: expected a cell array of strings")
            item = item.ravel()[0]
        if not isinstance(item, str):
            raise DatasetError(f"{source}: expected a cell array of strings, found {type(item).__name__}")
        out.append(item.strip())
    return out


def mat_indices(array: Any, size: int, source: Path) -> np.ndarray:
    """MATLAB 1-based indices as 0-based int64 (K,), checked against ``size``."""
    idx = np.asarray(array).ravel()
    if idx.dtype.kind not in "biuf" or (idx.size and (idx.min() < 1 or idx.max() > size)):
        raise DatasetError(f"{source}: partition indices outside 1..{size}")
    return idx.astype(np.int64) - 1


def check_image_dir(path: Path) -> None:
    """Raises :class:`DatasetError` when the image folder is missing."""
    if not path.is_dir():
        raise DatasetError(f"missing image folder {path}")
