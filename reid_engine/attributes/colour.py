"""Model-free naming of garment colours in the 11-colour palette, from pixel statistics.

The crop is first white-balanced on its near-neutral pixels (cameras tint greys blue or orange).
Then each pixel of a garment region votes for one palette name: pixels of low chroma (CIE Lab) are
achromatic and vote black, grey or white by lightness; the others vote by hue (HSV), with brown for
dark orange-to-yellow hues and pink for light, weakly saturated reds and magentas. Skin-like pixels
(bare arms and necks inside keypoint-drawn regions) vote with a reduced weight, and the region is
shrunk first so that background at its rim votes less. The normalised votes are the probability
vector; the name is its arg-max. Measured accuracy is in docs/attributes.md.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from reid_engine.attributes.schema import COLOURS
from reid_engine.pose.regions import BodyRegions

BLACK, WHITE, GREY, RED, ORANGE, YELLOW, GREEN, BLUE, PURPLE, PINK, BROWN = range(len(COLOURS))
_LEVELS = 32
_STEP = 256 // _LEVELS


@dataclass(frozen=True, kw_only=True)
class ColourConfig:
    """Thresholds of the pixel classifier (lightness L in 0–100, chroma in Lab units, hue in degrees,
    saturation and value in 0–1).

    Attributes:
        chroma_achromatic: pixels below this Lab chroma are fully achromatic …
        chroma_chromatic: … and above this fully chromatic; in between they split their vote.
        dark_value: pixels darker than this HSV value are black whatever their hue (dark pixels'
            hue is noise).
        black_below: achromatic lightness under which a pixel is black …
        white_above: … and over which it is white; grey in between.
        hue_edges: lower hue edges of orange, yellow, green, blue, purple, magenta and red; red
            wraps round 360°, magenta is pink when light and purple when dark.
        brown_value: orange and yellow hues darker than this HSV value are brown.
        pink_saturation: red hues less saturated than this (and lighter than ``pink_value``) are pink.
        pink_value: lightness condition for pink, as an HSV value.
        skin_weight: vote weight of skin-like pixels (1 = no special treatment).
        white_balance_chroma: pixels of the crop below this Lab chroma are taken as neutral for
            the white-balance estimate (0 turns white balancing off) …
        white_balance_p: … pooled with this Minkowski norm (1 = grey world, large = white patch) …
        white_balance_max: … and the resulting per-channel gains clipped to 1 ± this.
        shrink: the region is eroded by this fraction of the crop height before voting.
        stride: every ``stride``-th row and column is used (speed; 1 = every pixel).
        min_pixels: regions with fewer voting pixels are not named.
    """

    chroma_achromatic: float = 11.0
    chroma_chromatic: float = 20.0
    dark_value: float = 0.18
    black_below: float = 27.0
    white_above: float = 66.0
    hue_edges: tuple[float, ...] = (15.0, 42.0, 72.0, 170.0, 250.0, 295.0, 340.0)
    brown_value: float = 0.55
    pink_saturation: float = 0.5
    pink_value: float = 0.55
    skin_weight: float = 0.3
    white_balance_chroma: float = 20.0
    white_balance_p: float = 4.0
    white_balance_max: float = 0.2
    shrink: float = 0.01
    stride: int = 2
    min_pixels: int = 12

    def __post_init__(self) -> None:
        if not 0 <= self.chroma_achromatic < self.chroma_chromatic:
            raise ValueError("need 0 <= chroma_achromatic < chroma_chromatic")
        if not self.black_below < self.white_above:
            raise ValueError("need black_below < white_above")
        edges = self.hue_edges
        if len(edges) != 7 or list(edges) != sorted(edges) or not 0 < edges[0] <= edges[-1] < 360:
            raise ValueError("hue_edges must be 7 increasing hues within (0, 360)")
        if self.stride < 1 or self.min_pixels < 1 or not 0 <= self.skin_weight <= 1:
            raise ValueError("stride and min_pixels must be >= 1, skin_weight in [0, 1]")
        if self.white_balance_p <= 0 or not 0 <= self.white_balance_max < 1 or self.shrink < 0:
            raise ValueError("need white_balance_p > 0, 0 <= white_balance_max < 1 and shrink >= 0")


_DEFAULT = ColourConfig()


@dataclass(frozen=True, slots=True)
class ColourName:
    """The colour of one region.

    Attributes:
        name: a palette name, or None when the region had too few pixels to name.
        probabilities: float32 (11,), vote shares in ``COLOURS`` order (zeros when ``name`` is None).
        pixels: number of pixels that voted.
    """

    name: str | None
    probabilities: np.ndarray
    pixels: int

    @property
    def confidence(self) -> float:
        """Vote share of the winning name (0 when unnamed)."""
        return float(self.probabilities.max()) if self.name is not None else 0.0


@dataclass(frozen=True, slots=True)
class GarmentColours:
    """Upper- and lower-garment colours of one person crop."""

    upper: ColourName
    lower: ColourName


def white_balance_gains(rgb: np.ndarray, config: ColourConfig | None = None) -> np.ndarray:
    """Per-channel gains, float32 (3,), that turn the crop's near-neutral pixels neutral.

    The illuminant is estimated from pixels of low chroma only (a tinted grey garment, a white wall),
    with a Minkowski ``white_balance_p`` norm, so that a crop filled by a pink coat is not bleached.
    Gains are clipped to 1 ± ``white_balance_max``; ones when white balancing is off or fewer than
    3 % of the pixels are near-neutral.
    """
    cfg = config or _DEFAULT
    if cfg.white_balance_chroma <= 0 or cfg.white_balance_max <= 0:
        return np.ones(3, np.float32)
    px = rgb[:: cfg.stride * 2, :: cfg.stride * 2].reshape(-1, 1, 3).astype(np.float32) / 255.0
    lab = cv2.cvtColor(px, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    # Very dark pixels have no reliable chroma and clipped highlights no reliable ratio.
    grey = (np.hypot(lab[:, 1], lab[:, 2]) < cfg.white_balance_chroma) & (lab[:, 0] > 20) & (lab[:, 0] < 95)
    if grey.sum() < 0.03 * len(grey):
        return np.ones(3, np.float32)
    p = cfg.white_balance_p
    est = np.power(np.mean(np.power(px.reshape(-1, 3)[grey], p), axis=0), 1.0 / p)
    gains = float(est.mean()) / np.maximum(est, 1e-3)
    return np.clip(gains, 1.0 - cfg.white_balance_max, 1.0 + cfg.white_balance_max).astype(np.float32)


def pixel_votes(rgb: np.ndarray, config: ColourConfig | None = None) -> np.ndarray:
    """Soft votes of single pixels, float32 (N, 11) in ``COLOURS`` order, for uint8 (N, 3) RGB.

    A row sums to the pixel's weight: 1, or ``skin_weight`` for a skin-like pixel.
    """
    cfg = config or _DEFAULT
    f = rgb.reshape(-1, 1, 3).astype(np.float32) / 255.0
    hsv = cv2.cvtColor(f, cv2.COLOR_RGB2HSV).reshape(-1, 3)
    lab = cv2.cvtColor(f, cv2.COLOR_RGB2Lab).reshape(-1, 3)
    hue, sat, val = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    light = lab[:, 0]
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    n = len(hue)
    votes = np.zeros((n, len(COLOURS)), np.float32)

    chromatic = np.clip(
        (chroma - cfg.chroma_achromatic) / (cfg.chroma_chromatic - cfg.chroma_achromatic), 0.0, 1.0
    )
    dark = val < cfg.dark_value
    chromatic[dark] = 0.0
    achromatic = 1.0 - chromatic
    # Lightness ramps of ±6 L units around each boundary soften the black/grey/white split.
    to_black = np.clip((cfg.black_below + 6.0 - light) / 12.0, 0.0, 1.0)
    to_white = np.clip((light - cfg.white_above + 6.0) / 12.0, 0.0, 1.0)
    to_black[dark] = 1.0
    votes[:, BLACK] = achromatic * to_black
    votes[:, WHITE] = achromatic * to_white * (1.0 - to_black)
    votes[:, GREY] = achromatic * np.clip(1.0 - to_black - to_white, 0.0, 1.0)

    e = cfg.hue_edges
    name = np.full(n, RED, np.int64)
    for lo, hi, colour in ((0, 1, ORANGE), (1, 2, YELLOW), (2, 3, GREEN), (3, 4, BLUE), (4, 5, PURPLE)):
        name[(hue >= e[lo]) & (hue < e[hi])] = colour
    magenta = (hue >= e[5]) & (hue < e[6])
    name[magenta] = np.where(val[magenta] >= cfg.pink_value, PINK, PURPLE)
    reddish = (name == RED) | magenta
    name[reddish & (sat < cfg.pink_saturation) & (val >= cfg.pink_value)] = PINK
    warm = (name == ORANGE) | (name == YELLOW)
    name[warm & (val < cfg.brown_value)] = BROWN
    votes[np.arange(n), name] += chromatic

    # Skin: warm hue, moderate saturation, not dark. Garments of those colours lose weight too, but
    # evenly, so their own vote still wins; what the rule removes is bare arms beside a garment.
    skin = ((hue < 35.0) | (hue > 345.0)) & (sat > 0.15) & (sat < 0.6) & (val > 0.3)
    votes[skin] *= cfg.skin_weight
    return votes


@functools.lru_cache(maxsize=8)
def _vote_table(cfg: ColourConfig) -> np.ndarray:
    # Votes of every 5-bit-per-channel RGB cell, taken at the cell centre: voting becomes one gather
    # per pixel, which keeps a crop well under a millisecond whatever the thresholds.
    centres = (np.arange(_LEVELS) * _STEP + _STEP // 2).astype(np.uint8)
    grid = np.stack(np.meshgrid(centres, centres, centres, indexing="ij"), axis=-1).reshape(-1, 3)
    table = pixel_votes(grid, cfg)
    table.setflags(write=False)
    return table


def name_colour(
    rgb: np.ndarray, mask: np.ndarray, config: ColourConfig | None = None, *, gains: np.ndarray | None = None
) -> ColourName:
    """Name the colour of one region of an image.

    Args:
        rgb: uint8 (H, W, 3) RGB image.
        mask: bool (H, W), the region.
        config: classifier thresholds (defaults when None).
        gains: white-balance gains; None estimates them from ``rgb`` (:func:`white_balance_gains`).

    Returns:
        The name and vote shares; ``name`` is None when fewer than ``min_pixels`` pixels voted.

    Raises:
        ValueError: when the image is not uint8 RGB or the mask has another size.
    """
    cfg = config or _DEFAULT
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) RGB image, got {rgb.dtype} {rgb.shape}")
    if mask.shape != rgb.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match image {rgb.shape[:2]}")
    m: np.ndarray = mask.astype(np.uint8)
    radius = round(cfg.shrink * rgb.shape[0])
    if radius > 0:
        shrunk = cv2.erode(m, np.ones((2 * radius + 1, 2 * radius + 1), np.uint8))
        # Thin regions (a far-away person's legs) would vanish: keep the original then.
        if int(shrunk.sum()) >= cfg.min_pixels * cfg.stride**2:
            m = shrunk
    s = cfg.stride
    pixels = rgb[::s, ::s][m[::s, ::s].astype(bool)]
    if len(pixels) < cfg.min_pixels:
        return ColourName(name=None, probabilities=np.zeros(len(COLOURS), np.float32), pixels=len(pixels))
    if gains is None:
        gains = white_balance_gains(rgb, cfg)
    q = np.clip(pixels.astype(np.float32) * gains, 0.0, 255.0).astype(np.int32) // _STEP
    cells = (q[:, 0] * _LEVELS + q[:, 1]) * _LEVELS + q[:, 2]
    total = _vote_table(cfg)[cells].sum(axis=0)
    probs = (total / max(float(total.sum()), 1e-12)).astype(np.float32)
    return ColourName(name=COLOURS[int(probs.argmax())], probabilities=probs, pixels=len(pixels))


def name_colours(rgb: np.ndarray, regions: BodyRegions, config: ColourConfig | None = None) -> GarmentColours:
    """Name the upper- and lower-garment colours of a person crop.

    Args:
        rgb: uint8 (H, W, 3) RGB crop.
        regions: garment masks of the crop, from :func:`reid_engine.pose.body_regions` or a label map.
        config: classifier thresholds (defaults when None).

    Returns:
        One :class:`ColourName` per garment.

    Raises:
        ValueError: when the image is not uint8 RGB or the masks have another size.
    """
    gains = white_balance_gains(rgb, config)
    return GarmentColours(
        upper=name_colour(rgb, regions.upper, config, gains=gains),
        lower=name_colour(rgb, regions.lower, config, gains=gains),
    )
