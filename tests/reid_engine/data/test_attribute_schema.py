"""The unified attribute schema: stable/mutable split, encode/decode round trips and masks."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.attributes import COLOURS, SCHEMA


def test_schema_separates_person_attributes_from_outfit_attributes() -> None:
    assert {"gender", "age_group", "hair_length", "build", "glasses"} <= set(SCHEMA.stable_names)
    assert {"upper_colour", "lower_colour", "upper_type", "backpack", "hat"} <= set(SCHEMA.mutable_names)
    assert not set(SCHEMA.stable_names) & set(SCHEMA.mutable_names)
    assert len(COLOURS) == 11
    assert SCHEMA["upper_colour"].values == COLOURS


def test_encode_then_decode_returns_the_labelled_attributes_and_masks_the_rest() -> None:
    values = {"gender": "female", "glasses": True, "upper_colour": "blue", "hat": False}
    enc = SCHEMA.encode(values)
    assert enc.labels.shape == enc.mask.shape == (len(SCHEMA),)
    assert enc.labels.dtype == np.int64
    assert int(enc.mask.sum()) == 4
    assert SCHEMA.decode(enc.labels, enc.mask) == values


def test_encode_of_none_is_fully_masked() -> None:
    enc = SCHEMA.encode(None)
    assert not enc.mask.any()
    assert SCHEMA.decode(enc.labels, enc.mask) == {}


def test_bad_names_and_values_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown attribute"):
        SCHEMA.encode({"shoe_size": "42"})
    with pytest.raises(ValueError, match="not one of"):
        SCHEMA.encode({"upper_colour": "teal"})
    with pytest.raises(ValueError, match="binary"):
        SCHEMA.encode({"glasses": "yes"})
    with pytest.raises(ValueError, match="length"):
        SCHEMA.decode(np.zeros(3, dtype=np.int64))


def test_multi_hot_has_one_slot_per_binary_and_one_per_class() -> None:
    targets, mask = SCHEMA.multi_hot({"glasses": True, "gender": "male"})
    sizes = [1 if a.kind == "binary" else a.num_classes for a in SCHEMA.attributes]
    assert targets.shape == mask.shape == (sum(sizes),)
    assert targets.sum() == 2.0
    assert int(mask.sum()) == 1 + 2
