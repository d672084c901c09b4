"""PA-100K, PETA and RAP v2 adapters on tiny .mat files in each data set's published structure:
hand-picked rows map as documented, unlabelled attributes are masked, bad files fail in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from reid_engine.attributes import SCHEMA
from reid_engine.attributes.adapters import AnyOf, OneOf, map_labels
from reid_engine.attributes.pa100k import PA100K_RULES, load_pa100k
from reid_engine.attributes.peta import load_peta
from reid_engine.attributes.rap import load_rapv2
from reid_engine.data.synthcc import DatasetError

PA100K_NAMES = ["Female", "AgeOver60", "Age18-60", "AgeLess18", "Front", "Side", "Back", "Hat", "Glasses", "HandBag", "ShoulderBag", "Backpack", "HoldObjectsInFront", "ShortSleeve", "LongSleeve", "UpperStride", "UpperLogo", "UpperPlaid", "UpperSplice", "LowerStripe", "LowerPattern", "LongCoat", "Trousers", "Shorts", "Skirt&Dress", "boots"]
_PETA_COLOURS = ["Black", "Blue", "Brown", "Green", "Grey", "Orange", "Pink", "Purple", "Red", "White", "Yellow"]
PETA_NAMES = (
    ["personalLess30", "personalLess45", "personalLess60", "personalLarger60", "carryingBackpack", "carryingOther", "lowerBodyCasual", "upperBodyCasual", "lowerBodyFormal", "upperBodyFormal", "accessoryHat", "upperBodyJacket", "lowerBodyJeans", "footwearLeatherShoes", "upperBodyLogo", "hairLong", "personalMale", "carryingMessengerBag", "accessoryMuffler", "accessoryNothing", "carryingNothing", "upperBodyPlaid", "carryingPlasticBags", "footwearSandals", "footwearShoes", "lowerBodyShorts", "upperBodyShortSleeve", "lowerBodyShortSkirt", "footwearSneaker", "upperBodyThinStripes", "accessorySunglasses", "lowerBodyTrousers", "upperBodyTshirt", "upperBodyOther", "upperBodyVNeck"]
    + [f"{part}{c}" for part in ("upperBody", "lowerBody", "hair", "footwear") for c in _PETA_COLOURS]
    + ["accessoryHeadphone", "personalLess15", "carryingBabyBuggy", "hairBald", "footwearBoots", "lowerBodyCapri", "carryingShoppingTro", "carryingUmbrella", "personalFemale", "carryingFolder", "accessoryHairBand", "lowerBodyHotPants", "accessoryKerchief", "lowerBodyLongSkirt", "upperBodyLongSleeve", "lowerBodyPlaid", "lowerBodyThinStripes", "carryingLuggageCase", "upperBodyNoSleeve", "hairShort", "footwearStocking", "upperBodySuit", "carryingSuitcase", "lowerBodySuits", "upperBodySweater", "upperBodyThickStripes"]
)
_RAP_COLOURS = [
    f"Color{c}"
    for c in ["Black", "White", "Gray", "Red", "Green", "Blue", "Silver", "Yellow", "Brown", "Purple", "Pink", "Orange", "Mixture", "Other"]
]
RAPV2_NAMES = (
    ["Femal", "AgeLess16", "Age17-30", "Age31-45", "Age46-60", "AgeBiger60", "BodyFatter", "BodyFat", "BodyNormal", "BodyThin", "BodyThiner", "Customer", "Employee", "hs-BaldHead", "hs-LongHair", "hs-BlackHair", "hs-Hat", "hs-Glasses", "hs-Sunglasses", "hs-Muffler", "hs-Mask", "ub-Shirt", "ub-Sweater", "ub-Vest", "ub-TShirt", "ub-Cotton", "ub-Jacket", "ub-SuitUp", "ub-Tight", "ub-ShortSleeve", "ub-Others"]
    + [("up-" if c == "ColorRed" else "ub-") + c for c in _RAP_COLOURS]
    + ["lb-LongTrousers", "lb-Shorts", "lb-Skirt", "lb-ShortSkirt", "lb-LongSkirt", "lb-Dress", "lb-Jeans", "lb-TightTrousers"]
    + [f"lb-{c}" for c in _RAP_COLOURS]
    + ["shoes-Leather", "shoes-Sports", "shoes-Boots", "shoes-Cloth", "shoes-Sandals", "shoes-Casual", "shoes-Other"]
    + [f"shoes-{c}" for c in _RAP_COLOURS]
    + ["attachment-Backpack", "attachment-ShoulderBag", "attachment-HandBag", "attachment-WaistBag", "attachment-Box", "attachment-PlasticBag", "attachment-PaperBag", "attachment-HandTrunk", "attachment-Baby", "attachment-Other"]
    + [f"action-{i}" for i in range(13)]
    + [f"other-{i}" for i in range(41)]
)


def _cell(strings: list[str], shape: tuple[int, int]) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    for i, s in enumerate(strings):
        out.flat[i] = s
    return out


def _labels(names: list[str], rows: list[list[str]], extra: int = 0) -> np.ndarray:
    """A 0/1 matrix with one row per list of positive attribute names (plus ``extra`` empty rows)."""
    out = np.zeros((len(rows) + extra, len(names)), np.uint8)
    for i, positives in enumerate(rows):
        for name in positives:
            out[i, names.index(name)] = 1
    return out


def _assert_masked_exactly(attributes: dict[str, object], labelled: set[str]) -> None:
    enc = SCHEMA.encode(attributes)
    assert {n for n, m in zip(SCHEMA.names, enc.mask, strict=True) if m} == labelled


# --- PA-100K ---------------------------------------------------------------------------------------


def _write_pa100k(root: Path, *, rename: tuple[str, str] | None = None, drop: str | None = None) -> None:
    names = list(PA100K_NAMES)
    train = _labels(
        names,
        [
            ["Female", "Age18-60", "Glasses", "ShortSleeve", "UpperStride", "Backpack", "Trousers"],
            ["AgeOver60", "LongSleeve", "UpperSplice", "LongCoat", "Hat", "ShoulderBag"],
            ["Age18-60", "AgeLess18", "HandBag"],
        ],
    )
    written = [rename[1] if rename and n == rename[0] else n for n in names]
    mat = {
        "attributes": _cell(written, (len(names), 1)),
        "train_images_name": _cell(["000001.jpg", "000002.jpg", "000003.jpg"], (3, 1)),
        "train_label": train,
        "val_images_name": _cell(["080001.jpg"], (1, 1)),
        "val_label": _labels(names, [["Age18-60"]]),
        "test_images_name": _cell(["090001.jpg", "090002.jpg"], (2, 1)),
        "test_label": _labels(names, [["Female", "Age18-60"], ["AgeLess18"]]),
    }
    if drop is not None:
        del mat[drop]
    (root / "data").mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(root / "annotation.mat", mat)


def test_pa100k_rows_map_into_the_schema(tmp_path: Path) -> None:
    _write_pa100k(tmp_path)
    ds = load_pa100k(tmp_path)
    assert ds.summary() == {"train": 3, "val": 1, "test": 2}
    first, second, third = ds.train
    assert first.path == tmp_path / "data" / "000001.jpg"
    assert first.attributes == {
        "gender": "female",
        "age_group": "adult",
        "glasses": True,
        "sleeve_length": "short",
        "upper_pattern": "stripes",
        "backpack": True,
        "handbag": False,
        "shoulder_bag": False,
        "hat": False,
    }
    # Splice is a pattern outside the schema; a long coat or trousers name no lower/upper type.
    assert second.attributes["gender"] == "male"
    assert second.attributes["age_group"] == "senior"
    assert second.attributes["sleeve_length"] == "long"
    assert "upper_pattern" not in second.attributes
    assert "upper_type" not in second.attributes
    assert "lower_type" not in second.attributes
    # Two age groups at once, or no sleeve label: unlabelled; no pattern flag: solid.
    assert "age_group" not in third.attributes
    assert "sleeve_length" not in third.attributes
    assert third.attributes["upper_pattern"] == "solid"
    assert ds.test[1].attributes["age_group"] == "child"
    assert set(ds.labelled) == {r.attribute for r in PA100K_RULES}
    _assert_masked_exactly(dict(first.attributes), set(ds.labelled))
    assert not {"upper_colour", "lower_type", "build", "hair_length"} & set(ds.labelled)


# --- PETA ------------------------------------------------------------------------------------------


def _write_peta(root: Path) -> None:
    names = list(PETA_NAMES)
    labels = _labels(
        names,
        [
            ["personalMale", "personalLess30", "upperBodyRed", "lowerBodyBlue", "footwearBlack", "hairYellow", "upperBodyNoSleeve", "carryingMessengerBag", "upperBodyPlaid", "accessorySunglasses", "lowerBodyShortSkirt"],
            ["personalFemale", "personalLess15", "upperBodyBlack", "upperBodyWhite", "hairPink", "hairLong"],
            ["personalMale", "personalFemale", "personalLarger60", "upperBodyThickStripes", "hairWhite"],
        ],
        extra=3,
    )
    data = np.concatenate([np.arange(6 * 4, dtype=float).reshape(6, 4), labels], axis=1)
    parts = np.empty((5, 1), dtype=object)
    for k in range(5):
        order = np.roll(np.arange(1, 7), k).astype(float)
        parts[k, 0] = {"train": order[:3, None], "val": order[3:4, None], "test": order[4:, None]}
    peta = {
        "data": data,
        "attribute": _cell(names, (len(names), 1)),
        "selected_attribute": np.arange(1, 36, dtype=float)[None],
        "partition_attribute": parts,
    }
    (root / "images").mkdir(parents=True, exist_ok=True)
    scipy.io.savemat(root / "PETA.mat", {"peta": peta})


def test_peta_rows_map_into_the_schema_and_partitions_select_images(tmp_path: Path) -> None:
    _write_peta(tmp_path)
    ds = load_peta(tmp_path)
    assert ds.summary() == {"train": 3, "val": 1, "test": 2}
    first, second, third = ds.train  # partition 0 keeps the file order
    assert first.path == tmp_path / "images" / "00001.png"
    assert first.attributes == {
        "gender": "male",
        "age_group": "adult",
        "hair_colour": "blond",
        "sleeve_length": "short",
        "upper_colour": "red",
        "upper_pattern": "checks",
        "lower_colour": "blue",
        "shoes_colour": "black",
        "backpack": False,
        "shoulder_bag": True,
        "hat": False,
    }
    # Sunglasses alone cannot say "no glasses", and a short skirt may be a dress: both unlabelled.
    _assert_masked_exactly(dict(first.attributes), set(ds.labelled))
    assert "glasses" not in ds.labelled
    assert "lower_type" not in ds.labelled
    # Two upper colours and dyed hair are unlabelled; long hair alone names no hair length.
    assert second.attributes["gender"] == "female"
    assert second.attributes["age_group"] == "child"
    assert "upper_colour" not in second.attributes
    assert "hair_colour" not in second.attributes
    assert "hair_length" not in second.attributes
    # Male and female at once: unlabelled.
    assert "gender" not in third.attributes
    assert third.attributes["upper_pattern"] == "stripes"
    assert third.attributes["hair_colour"] == "grey"
    assert third.attributes["age_group"] == "senior"
    shifted = load_peta(tmp_path, partition=1)
    assert [r.path.name for r in shifted.train] == ["00006.png", "00001.png", "00002.png"]
    assert shifted.train[1].attributes == first.attributes


# --- RAP v2 ----------------------------------------------------------------------------------------


def _write_rapv2(root: Path, *, bad_index: bool = False) -> None:
    names = list(RAPV2_NAMES)
    labels = _labels(
        names,
        [
            ["Femal", "Age31-45", "BodyThiner", "hs-Sunglasses", "ub-TShirt", "ub-Jacket", "ub-ColorSilver", "lb-LongTrousers", "lb-Jeans", "lb-ColorMixture", "shoes-ColorRed", "attachment-HandBag"],
            ["AgeBiger60", "BodyFat", "ub-Cotton", "ub-Sweater", "ub-ShortSleeve", "up-ColorRed", "lb-Dress"],
            ["AgeLess16", "ub-Sweater", "lb-Skirt", "lb-ColorBlack", "lb-ColorWhite", "hs-Hat"],
        ],
        extra=1,
    )
    labels[2, names.index("Femal")] = 2  # neither 0 nor 1: unknown
    parts = np.empty((1, 5), dtype=object)
    for k in range(5):
        test = [4.0, 99.0] if bad_index else [4.0]
        parts[0, k] = {
            "train_index": np.array([[1.0, 2.0]]),
            "val_index": np.array([[3.0]]),
            "test_index": np.array([test]),
        }
    ann = {
        "name": _cell([f"CAM01_{i}.png" for i in range(4)], (4, 1)),
        "data": labels,
        "attribute": _cell(names, (len(names), 1)),
        "selected_attribute": np.arange(1, 55, dtype=float)[None],
        "partition_attribute": parts,
    }
    (root / "RAP_annotation").mkdir(parents=True, exist_ok=True)
    (root / "RAP_dataset").mkdir(exist_ok=True)
    scipy.io.savemat(root / "RAP_annotation" / "RAP_annotation.mat", {"RAP_annotation": ann})


def test_rapv2_rows_map_into_the_schema(tmp_path: Path) -> None:
    _write_rapv2(tmp_path)
    ds = load_rapv2(tmp_path)
    assert ds.summary() == {"train": 2, "val": 1, "test": 1}
    first, second = ds.train
    assert first.path == tmp_path / "RAP_dataset" / "CAM01_0.png"
    assert first.attributes == {
        "gender": "female",
        "age_group": "adult",
        "build": "slim",
        "glasses": True,
        "upper_type": "jacket",  # the jacket is worn over the T-shirt
        "sleeve_length": "long",
        "upper_colour": "grey",  # silver
        "lower_type": "jeans",  # jeans are also long trousers in RAP
        "shoes_colour": "red",
        "backpack": False,
        "handbag": True,
        "shoulder_bag": False,
        "hat": False,
    }
    # A "mixture" lower colour has no palette value: unlabelled, like everything RAP cannot say.
    _assert_masked_exactly(dict(first.attributes), set(ds.labelled) - {"lower_colour"})
    assert second.attributes["upper_type"] == "coat"  # a padded coat over a sweater
    assert second.attributes["upper_colour"] == "red"  # spelled "up-ColorRed" in the file
    assert second.attributes["lower_type"] == "dress"
    assert second.attributes["sleeve_length"] == "short"
    assert second.attributes["build"] == "heavy"
    assert second.attributes["age_group"] == "senior"
    third = ds.val[0]
    assert "gender" not in third.attributes  # the label was 2
    assert "upper_type" not in third.attributes  # a sweater has no schema value
    assert "lower_colour" not in third.attributes  # two colours
    assert third.attributes["lower_type"] == "skirt"
    assert third.attributes["hat"] is True
    assert "hair_length" not in ds.labelled
    assert "upper_pattern" not in ds.labelled


# --- Rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("coat_first", [True, False])
def test_overrides_act_on_what_was_named_whatever_their_order(coat_first: bool) -> None:
    beats = [("coat", ("jacket",)), ("jacket", ("tshirt",))]
    overrides = dict(beats if coat_first else beats[::-1])
    rule = OneOf("upper_type", {"c": "coat", "j": "jacket", "t": "tshirt"}, overrides=overrides)
    labels = np.array([[1, 1, 1], [0, 1, 1], [1, 0, 1], [0, 0, 0], [0, 2, 1]])
    rows = map_labels(["c", "j", "t"], labels, [rule, AnyOf("hat", ("t",))], source="x")
    # Coat over jacket over T-shirt is a coat; a coat does not beat a T-shirt on its own here.
    assert [r.get("upper_type") for r in rows] == ["coat", "jacket", None, None, None]
    assert [r.get("hat") for r in rows] == [True, True, True, False, True]


def test_rules_reject_values_outside_the_schema() -> None:
    with pytest.raises(ValueError, match="teal"):
        OneOf("upper_colour", {"x": "teal"})
    with pytest.raises(ValueError, match="binary"):
        OneOf("glasses", {"x": "yes"})
    with pytest.raises(ValueError, match="not binary"):
        AnyOf("gender", ("x",))


# --- Errors ----------------------------------------------------------------------------------------


def _one_line_error(call: object, match: str) -> None:
    with pytest.raises(DatasetError, match=match) as info:
        call()  # type: ignore[operator]
    assert "\n" not in str(info.value)


def test_missing_and_malformed_files_raise_one_line_dataset_errors(tmp_path: Path) -> None:
    _one_line_error(lambda: load_pa100k(tmp_path / "none"), "missing annotation file")
    _one_line_error(lambda: load_peta(tmp_path / "none"), "missing annotation file")
    _one_line_error(lambda: load_rapv2(tmp_path / "none"), "missing annotation file")
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "annotation.mat").write_bytes(b"this is not a MATLAB file" * 10)
    _one_line_error(lambda: load_pa100k(garbage), "not a readable MATLAB")

    _write_pa100k(tmp_path / "noval", drop="val_label")
    _one_line_error(lambda: load_pa100k(tmp_path / "noval"), "val_label")
    _write_pa100k(tmp_path / "nohat", rename=("Hat", "Cap"))
    _one_line_error(lambda: load_pa100k(tmp_path / "nohat"), "lacks attribute.*Hat")
    _write_pa100k(tmp_path / "noimages")
    (tmp_path / "noimages" / "data").rmdir()
    _one_line_error(lambda: load_pa100k(tmp_path / "noimages"), "missing image folder")

    _write_peta(tmp_path / "peta")
    _one_line_error(lambda: load_peta(tmp_path / "peta", partition=5), "5 partitions")
    scipy.io.savemat(tmp_path / "peta" / "PETA.mat", {"peta": np.zeros((3, 3))})
    _one_line_error(lambda: load_peta(tmp_path / "peta"), "expected struct")

    _write_rapv2(tmp_path / "rap", bad_index=True)
    _one_line_error(lambda: load_rapv2(tmp_path / "rap"), "outside 1..4")
