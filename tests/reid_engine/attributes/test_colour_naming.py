"""Model-free garment-colour naming: every palette colour on solid crops, colour casts, skin, empty
regions, bad input, and accuracy on a small SynthCC set with keypoint-drawn regions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reid_engine.attributes import COLOURS
from reid_engine.attributes.colour import ColourConfig, name_colour, name_colours
from reid_engine.cli import main
from reid_engine.data.synthcc import load_synthcc_images
from reid_engine.data.torch_dataset import load_rgb
from reid_engine.pose import body_regions

# Everyday renderings of each palette name (not the synthetic generator's paint values).
SWATCHES: dict[str, tuple[int, int, int]] = {
    "black": (22, 22, 26),
    "white": (238, 238, 232),
    "grey": (125, 125, 128),
    "red": (200, 28, 36),
    "orange": (240, 128, 24),
    "yellow": (238, 214, 40),
    "green": (40, 150, 64),
    "blue": (30, 70, 190),
    "purple": (118, 48, 150),
    "pink": (240, 150, 190),
    "brown": (105, 66, 36),
}
H, W = 128, 64


def _crop(upper: tuple[int, int, int], lower: tuple[int, int, int]) -> np.ndarray:
    # Fixed bands (head 0-16 %, upper 16-55 %, lower 55-100 %), as body_regions draws without keypoints.
    img = np.empty((H, W, 3), np.uint8)
    img[: int(0.16 * H)] = (70, 70, 70)
    img[int(0.16 * H) : int(0.55 * H)] = upper
    img[int(0.55 * H) :] = lower
    return img


@pytest.mark.parametrize("colour", COLOURS)
def test_every_palette_colour_is_named_on_a_solid_crop(colour: str) -> None:
    other = "black" if colour != "black" else "white"
    named = name_colours(_crop(SWATCHES[colour], SWATCHES[other]), body_regions(H, W, None))
    assert named.upper.name == colour
    assert named.lower.name == other
    assert named.upper.probabilities.shape == (len(COLOURS),)
    assert named.upper.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert named.upper.confidence > 0.9


@pytest.mark.parametrize("cast", [(1.2, 1.0, 0.8), (0.8, 1.0, 1.2)], ids=["warm", "cool"])
@pytest.mark.parametrize("colour", ["grey", "white", "blue", "brown", "pink"])
def test_naming_survives_a_white_balance_error(colour: str, cast: tuple[float, float, float]) -> None:
    # A camera cast of ±20 % on red and blue, over the garment and a grey background.
    img = _crop(SWATCHES[colour], (128, 128, 128)).astype(np.float32)
    tinted = np.clip(img * np.array(cast, np.float32), 0, 255).astype(np.uint8)
    assert name_colours(tinted, body_regions(H, W, None)).upper.name == colour


def test_white_balancing_is_what_keeps_a_tinted_grey_grey() -> None:
    img = _crop(SWATCHES["grey"], (128, 128, 128)).astype(np.float32)
    cool = np.clip(img * np.array([0.8, 1.0, 1.2], np.float32), 0, 255).astype(np.uint8)
    off = ColourConfig(white_balance_chroma=0.0)
    assert name_colours(cool, body_regions(H, W, None), off).upper.name == "blue"
    assert name_colours(cool, body_regions(H, W, None)).upper.name == "grey"


def test_bare_arms_do_not_outvote_the_garment() -> None:
    skin, blue = (222, 170, 140), SWATCHES["blue"]
    img = np.full((H, W, 3), 128, np.uint8)
    mask = np.zeros((H, W), bool)
    mask[20:70, 4:60] = True
    img[20:70, 4:60] = skin
    img[20:70, 20:44] = blue  # the garment is under half of the region; the rest is arms
    assert name_colour(img, mask).name == "blue"
    # Without the skin rule the arms win: this is what the rule is for.
    assert name_colour(img, mask, ColourConfig(skin_weight=1.0)).name == "orange"


def test_an_empty_region_is_not_named() -> None:
    named = name_colour(np.zeros((H, W, 3), np.uint8), np.zeros((H, W), bool))
    assert named.name is None
    assert named.confidence == 0.0
    assert not named.probabilities.any()


def test_naming_is_deterministic() -> None:
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    regions = body_regions(H, W, None)
    a, b = name_colours(img, regions), name_colours(img.copy(), regions)
    assert a.upper.name == b.upper.name
    np.testing.assert_array_equal(a.upper.probabilities, b.upper.probabilities)
    np.testing.assert_array_equal(a.lower.probabilities, b.lower.probabilities)


def test_bad_input_is_rejected() -> None:
    mask = np.ones((H, W), bool)
    with pytest.raises(ValueError, match="uint8"):
        name_colour(np.zeros((H, W, 3), np.float32), mask)
    with pytest.raises(ValueError, match="does not match"):
        name_colour(np.zeros((H, W, 3), np.uint8), mask[:10])
    with pytest.raises(ValueError, match="hue_edges"):
        ColourConfig(hue_edges=(10.0, 5.0, 72.0, 170.0, 250.0, 295.0, 340.0))


def test_upper_colours_of_a_synthcc_set_are_named_well_above_chance(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    argv = ["synth", "images", "--out", str(out), "--seed", "3", "--ids", "8", "--outfits", "2"]
    assert main([*argv, "--cameras", "2", "--per-visit", "2", "--quiet"]) == 0
    ds = load_synthcc_images(out)
    records = [*ds.train, *ds.query, *ds.gallery]
    hits = []
    for rec in records:
        assert rec.attributes is not None
        rgb = load_rgb(rec.path)
        # Regions from the crop's keypoints, as the video pipeline draws them.
        regions = body_regions(rgb.shape[0], rgb.shape[1], rec.keypoints_array())
        hits.append(name_colours(rgb, regions).upper.name == rec.attributes["upper_colour"])
    accuracy = float(np.mean(hits))
    # Chance is 1/11 and always answering this set's commonest colour scores 0.4; naming measures
    # 0.92 here (0.68-0.97 over seeds 3-8). The bound leaves room for renderer changes.
    assert len(records) == 60
    assert accuracy >= 0.6, f"upper-colour accuracy {accuracy:.2f} on {len(records)} crops"
