"""The unified pedestrian-attribute schema as typed data, with label-vector encoding and decoding.

Stable attributes belong to the person and survive a change of clothes (search may weigh them
differently from mutable ones, which belong to the outfit). Data sets that do not label an attribute
leave it out of their dictionaries; the encoding carries a mask so that losses can skip it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

AttributeKind = Literal["binary", "multiclass"]
AttributeValue = str | bool

COLOURS: tuple[str, ...] = (
    "black",
    "white",
    "grey",
    "red",
    "orange",
    "yellow",
    "green",
    "blue",
    "purple",
    "pink",
    "brown",
)
"""The fixed clothing colour palette (names only; renderers pick their own RGB values)."""


@dataclass(frozen=True, slots=True)
class Attribute:
    """One attribute of the schema.

    Attributes:
        name: machine name, unique in the schema (``"upper_colour"``).
        kind: ``"binary"`` (value is a bool) or ``"multiclass"`` (value is one of ``values``).
        values: the fixed value list of a multi-class attribute; ``("no", "yes")`` for a binary one.
        stable: True when the attribute belongs to the person (survives a change of clothes),
            False when it belongs to the outfit.
        description: one line for documentation and UIs.
    """

    name: str
    kind: AttributeKind
    values: tuple[str, ...]
    stable: bool
    description: str = ""

    @property
    def num_classes(self) -> int:
        return len(self.values)

    def index_of(self, value: AttributeValue) -> int:
        """Class index of ``value``.

        Raises:
            ValueError: when the value does not fit the attribute.
        """
        if self.kind == "binary":
            if not isinstance(value, bool):
                raise ValueError(f"attribute {self.name} is binary, got {value!r}")
            return int(value)
        if not isinstance(value, str) or value not in self.values:
            raise ValueError(f"attribute {self.name}: {value!r} is not one of {', '.join(self.values)}")
        return self.values.index(value)

    def value_of(self, index: int) -> AttributeValue:
        """Inverse of :meth:`index_of`."""
        if not 0 <= index < len(self.values):
            raise ValueError(f"attribute {self.name}: class index {index} out of range")
        return bool(index) if self.kind == "binary" else self.values[index]


def _binary(name: str, stable: bool, description: str) -> Attribute:
    return Attribute(name, "binary", ("no", "yes"), stable, description)


@dataclass(frozen=True, slots=True)
class EncodedAttributes:
    """Attributes of one sample as fixed-length vectors.

    Attributes:
        labels: int64 (A,), the class index of each attribute in schema order (binary: 0 or 1);
            0 where unlabelled.
        mask: bool (A,), True where the attribute is labelled.
    """

    labels: np.ndarray
    mask: np.ndarray


@dataclass(frozen=True)
class AttributeSchema:
    """An ordered list of attributes with encode/decode helpers.

    Attributes:
        attributes: the attributes, in label-vector order.
    """

    attributes: tuple[Attribute, ...]
    _by_name: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {a.name: i for i, a in enumerate(self.attributes)}
        if len(by_name) != len(self.attributes):
            raise ValueError("attribute names must be unique")
        object.__setattr__(self, "_by_name", by_name)

    def __len__(self) -> int:
        return len(self.attributes)

    def __getitem__(self, name: str) -> Attribute:
        return self.attributes[self.position(name)]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes)

    @property
    def stable_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes if a.stable)

    @property
    def mutable_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.attributes if not a.stable)

    @property
    def head_sizes(self) -> tuple[int, ...]:
        """Number of classes per attribute (2 for binary), for one softmax head per attribute."""
        return tuple(a.num_classes for a in self.attributes)

    def position(self, name: str) -> int:
        """Index of attribute ``name`` in the label vector.

        Raises:
            KeyError: for a name that is not in the schema.
        """
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"unknown attribute {name!r}") from None

    def validate(self, values: Mapping[str, AttributeValue]) -> None:
        """Check names and values of an attribute dictionary.

        Raises:
            ValueError: on an unknown name or a value that does not fit its attribute.
        """
        for name, value in values.items():
            if name not in self._by_name:
                raise ValueError(f"unknown attribute {name!r}")
            self.attributes[self._by_name[name]].index_of(value)

    def encode(self, values: Mapping[str, AttributeValue] | None) -> EncodedAttributes:
        """Encode an attribute dictionary; missing attributes (or ``None``) are masked out.

        Raises:
            ValueError: on an unknown name or a bad value.
        """
        labels = np.zeros(len(self.attributes), dtype=np.int64)
        mask = np.zeros(len(self.attributes), dtype=bool)
        for name, value in (values or {}).items():
            if name not in self._by_name:
                raise ValueError(f"unknown attribute {name!r}")
            i = self._by_name[name]
            labels[i] = self.attributes[i].index_of(value)
            mask[i] = True
        return EncodedAttributes(labels=labels, mask=mask)

    def decode(self, labels: np.ndarray, mask: np.ndarray | None = None) -> dict[str, AttributeValue]:
        """Turn a label vector (and optional mask) back into an attribute dictionary.

        Raises:
            ValueError: when the vector has the wrong length or an index is out of range.
        """
        labels = np.asarray(labels)
        if labels.shape != (len(self.attributes),):
            raise ValueError(f"expected a label vector of length {len(self.attributes)}, got {labels.shape}")
        keep = np.ones(len(self.attributes), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        return {a.name: a.value_of(int(labels[i])) for i, a in enumerate(self.attributes) if bool(keep[i])}

    def multi_hot(self, values: Mapping[str, AttributeValue] | None) -> tuple[np.ndarray, np.ndarray]:
        """Encode for sigmoid heads: one slot per binary attribute, one slot per class otherwise.

        Returns:
            ``(targets, mask)``, float32 and bool arrays of length ``sum(multi_hot_sizes)``.
        """
        enc = self.encode(values)
        sizes = [1 if a.kind == "binary" else a.num_classes for a in self.attributes]
        targets = np.zeros(sum(sizes), dtype=np.float32)
        mask = np.zeros(sum(sizes), dtype=bool)
        start = 0
        for i, size in enumerate(sizes):
            if enc.mask[i]:
                mask[start : start + size] = True
                targets[start + (0 if size == 1 else int(enc.labels[i]))] = (
                    float(enc.labels[i]) if size == 1 else 1.0
                )
            start += size
        return targets, mask


SCHEMA = AttributeSchema(
    attributes=(
        Attribute("gender", "multiclass", ("female", "male"), True, "apparent gender"),
        Attribute("age_group", "multiclass", ("child", "adult", "senior"), True, "<18, 18-60, >60"),
        Attribute("build", "multiclass", ("slim", "medium", "heavy"), True, "body build"),
        Attribute("height", "multiclass", ("short", "average", "tall"), True, "relative body height"),
        Attribute("hair_length", "multiclass", ("bald", "short", "medium", "long"), True, "hair length"),
        Attribute(
            "hair_colour", "multiclass", ("black", "brown", "blond", "grey", "red"), True, "hair colour"
        ),
        _binary("glasses", True, "wears glasses"),
        _binary("beard", True, "has a beard"),
        Attribute(
            "upper_type",
            "multiclass",
            ("tshirt", "shirt", "jacket", "coat", "dress"),
            False,
            "outermost upper-body garment",
        ),
        Attribute("sleeve_length", "multiclass", ("short", "long"), False, "sleeve length"),
        Attribute("upper_colour", "multiclass", COLOURS, False, "dominant upper-garment colour"),
        Attribute(
            "upper_pattern", "multiclass", ("solid", "stripes", "checks", "print"), False, "upper pattern"
        ),
        Attribute(
            "lower_type",
            "multiclass",
            ("trousers", "jeans", "shorts", "skirt", "dress"),
            False,
            "lower-body garment (a dress counts as both upper and lower garment)",
        ),
        Attribute("lower_colour", "multiclass", COLOURS, False, "dominant lower-garment colour"),
        Attribute("shoes_colour", "multiclass", COLOURS, False, "shoe colour"),
        _binary("backpack", False, "carries a backpack"),
        _binary("handbag", False, "carries a handbag"),
        _binary("shoulder_bag", False, "carries a shoulder bag"),
        _binary("hat", False, "wears a hat or cap"),
    )
)
"""The schema every Longview data set and attribute model uses."""
