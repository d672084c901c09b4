"""Photometric variation and camera degradations: lighting, occluders, blur, low resolution, JPEG, noise.

Parameters are sampled into small frozen records first and applied second, so a tracklet can keep one
camera look across its frames while single images draw a new one each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from reid_engine.synth.painter import OCCLUDER


@dataclass(frozen=True, slots=True)
class Look:
    """How one camera renders one shot.

    Attributes:
        gain: overall brightness factor.
        tint: per-channel (R, G, B) gains (colour temperature / white-balance error).
        gamma: tone curve exponent.
        side_light: horizontal brightness gradient, -0.3 … 0.3 across the image.
        blur: ``"none"``, ``"gauss"`` or ``"motion"``.
        blur_px: blur kernel size in pixels (odd).
        blur_angle: motion-blur direction in degrees.
        lowres: downscale factor before upscaling back (1 = full resolution).
        jpeg: JPEG quality of an encode/decode round trip, 0 for none.
        noise: sensor noise sigma in grey levels.
    """

    gain: float
    tint: tuple[float, float, float]
    gamma: float
    side_light: float
    blur: str
    blur_px: int
    blur_angle: float
    lowres: float
    jpeg: int
    noise: float


def sample_look(
    rng: np.random.Generator,
    *,
    camera_tint: tuple[float, float, float] = (1.0, 1.0, 1.0),
    lowres_p: float = 0.3,
    strength: float = 1.0,
) -> Look:
    """Draw a look; ``strength`` in [0, 1] scales how often and how hard degradations apply."""
    temp = rng.normal(0.0, 0.08 * strength)
    tint = tuple(
        float(np.clip(t * g, 0.6, 1.4)) for t, g in zip(camera_tint, (1 + temp, 1.0, 1 - temp), strict=True)
    )
    r = rng.random()
    blur = "motion" if r < 0.12 * strength else "gauss" if r < 0.3 * strength else "none"
    return Look(
        gain=float(rng.uniform(1 - 0.3 * strength, 1 + 0.25 * strength)),
        tint=(tint[0], tint[1], tint[2]),
        gamma=float(math.exp(rng.normal(0.0, 0.15 * strength))),
        side_light=float(rng.uniform(-0.3, 0.3) * strength),
        blur=blur,
        blur_px=int(rng.choice([3, 3, 5, 7])),
        blur_angle=float(rng.uniform(0.0, 180.0)),
        lowres=float(rng.uniform(1.5, 3.0)) if rng.random() < lowres_p * strength else 1.0,
        jpeg=int(rng.integers(20, 90)) if rng.random() < 0.5 * strength else 0,
        noise=float(rng.uniform(0.0, 5.0) * strength),
    )


def apply_light(img: np.ndarray, look: Look) -> np.ndarray:
    """Lighting on a uint8 (H, W, 3) RGB image; returns a new uint8 image.

    Gain, tint and gamma fold into one per-channel look-up table; the side light is one saturating
    multiply, so the whole step stays a few passes over the bytes.
    """
    levels = np.arange(256, dtype=np.float32)[:, None] / 255.0
    gains = np.asarray(look.tint, dtype=np.float32)[None, :] * look.gain
    lut = 255.0 * np.clip(levels * gains, 0.0, 1.0) ** look.gamma
    out = cv2.LUT(img, np.round(lut).astype(np.uint8).reshape(256, 1, 3))
    if abs(look.side_light) > 0.01:
        w = img.shape[1]
        ramp = np.round(128.0 * (1.0 + look.side_light * np.linspace(-1.0, 1.0, w))).astype(np.uint8)
        out = cv2.multiply(
            out, np.ascontiguousarray(np.broadcast_to(ramp[None, :, None], img.shape)), scale=1 / 128
        )
    return out


_NOISE_TILE: np.ndarray | None = None


def _noise_tile() -> np.ndarray:
    # A fixed table of unit Gaussian noise, cut at random offsets: drawing fresh noise per pixel is
    # the single most expensive step of a crop otherwise. Fixed seed, so output stays deterministic.
    global _NOISE_TILE
    if _NOISE_TILE is None:
        _NOISE_TILE = np.random.default_rng(20261121).standard_normal((1024, 1024, 3), dtype=np.float32)
    return _NOISE_TILE


def noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    """Gaussian noise of ``shape`` (H, W, 3) with H, W ≤ 1024, float32, from the shared tile."""
    tile = _noise_tile()
    h, w = shape[0], shape[1]
    y = int(rng.integers(0, tile.shape[0] - h + 1))
    x = int(rng.integers(0, tile.shape[1] - w + 1))
    return tile[y : y + h, x : x + w] * np.float32(sigma)


def _motion_kernel(size: int, angle: float) -> np.ndarray:
    k = np.zeros((size, size), dtype=np.float32)
    k[size // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((size / 2 - 0.5, size / 2 - 0.5), angle, 1.0)
    rotated = np.asarray(cv2.warpAffine(k, rot, (size, size)), dtype=np.float32)
    return rotated / max(float(rotated.sum()), 1e-6)


def apply_degrade(img: np.ndarray, look: Look, rng: np.random.Generator) -> np.ndarray:
    """Blur, resolution loss, noise and compression on a uint8 (H, W, 3) RGB image."""
    h, w = img.shape[:2]
    out: np.ndarray = img
    if look.blur == "gauss":
        out = cv2.GaussianBlur(out, (look.blur_px, look.blur_px), 0)
    elif look.blur == "motion":
        out = cv2.filter2D(out, -1, _motion_kernel(look.blur_px, look.blur_angle))
    if look.lowres > 1.0:
        small = cv2.resize(
            out, (max(8, int(w / look.lowres)), max(8, int(h / look.lowres))), interpolation=cv2.INTER_AREA
        )
        out = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    if look.noise > 0.5 and h <= 1024 and w <= 1024:
        out = cv2.add(out, noise(rng, out.shape, look.noise), dtype=cv2.CV_8U)
    if look.jpeg > 0:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, look.jpeg])
        decoded = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else None
        if decoded is not None:
            out = decoded
    return np.asarray(out)


@dataclass(frozen=True, slots=True)
class Occluder:
    """Something between the camera and the person, in fractions of the crop (x0, y0, x1, y1)."""

    kind: str
    box: tuple[float, float, float, float]
    rgb: tuple[int, int, int]


NO_OCCLUDER = Occluder("none", (0.0, 0.0, 0.0, 0.0), (0, 0, 0))


def sample_occluder(rng: np.random.Generator, p: float) -> Occluder:
    """An occluder with probability ``p``: a low obstacle, a pole, a passer-by's blob or a side object."""
    if rng.random() >= p:
        return NO_OCCLUDER
    rgb = tuple(int(v) for v in rng.integers(20, 230, 3))
    kind = ("bottom", "pole", "blob", "side")[int(rng.integers(4))]
    if kind == "bottom":
        top = rng.uniform(0.55, 0.8)
        box = (0.0, top, 1.0, 1.0)
    elif kind == "pole":
        x = rng.uniform(0.15, 0.85)
        half = rng.uniform(0.04, 0.1)
        box = (x - half, 0.0, x + half, 1.0)
    elif kind == "blob":
        cx, cy = rng.uniform(0.0, 1.0), rng.uniform(0.3, 0.9)
        r = rng.uniform(0.15, 0.3)
        box = (cx - r, cy - r * 0.8, cx + r, cy + r * 0.8)
    else:
        left = rng.random() < 0.5
        edge = rng.uniform(0.2, 0.4)
        box = (0.0, rng.uniform(0.0, 0.4), edge, 1.0) if left else (1 - edge, rng.uniform(0.0, 0.4), 1.0, 1.0)
    return Occluder(
        kind, (float(box[0]), float(box[1]), float(box[2]), float(box[3])), (rgb[0], rgb[1], rgb[2])
    )


def draw_occluder(img: np.ndarray, labels: np.ndarray, occ: Occluder) -> None:
    """Paint the occluder in place on a uint8 image and mark it as ``OCCLUDER`` in the labels."""
    if occ.kind == "none":
        return
    h, w = labels.shape
    x0, y0, x1, y1 = (round(v) for v in (occ.box[0] * w, occ.box[1] * h, occ.box[2] * w, occ.box[3] * h))
    mask = np.zeros((h, w), dtype=np.uint8)
    if occ.kind == "blob":
        cv2.ellipse(
            mask,
            ((x0 + x1) // 2, (y0 + y1) // 2),
            (max(1, (x1 - x0) // 2), max(1, (y1 - y0) // 2)),
            0,
            0,
            360,
            1,
            -1,
        )
    else:
        cv2.rectangle(mask, (x0, y0), (x1, y1), 1, -1)
    on = mask.astype(bool)
    shade = np.linspace(1.1, 0.8, h, dtype=np.float32)[:, None, None]
    paint = np.clip(np.asarray(occ.rgb, dtype=np.float32)[None, None, :] * shade, 0, 255).astype(np.uint8)
    np.copyto(img, np.broadcast_to(paint, img.shape), where=on[..., None])
    labels[on] = OCCLUDER
