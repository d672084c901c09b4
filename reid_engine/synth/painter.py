"""Rasterising primitives into a render-id map, and turning that map into colours and labels.

Shapes are drawn into one uint8 map of *render ids*; each id carries a semantic label, a base colour,
a shade and an optional garment pattern. Colour is applied once at the end with table look-ups, which
keeps a whole person to a few dozen OpenCV calls and a handful of vectorised numpy operations.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

# Semantic labels written to the mask files (the index is the pixel value).
LABELS: tuple[str, ...] = (
    "background",
    "hat",
    "hair",
    "glasses",
    "face",
    "upper",
    "lower",
    "arms",
    "legs",
    "shoes",
    "bag",
    "occluder",
)
BACKGROUND, HAT, HAIR, GLASSES, FACE, UPPER, LOWER, ARMS, LEGS, SHOES, BAG, OCCLUDER = range(12)
CLOTHING_LABELS: tuple[int, ...] = (HAT, UPPER, LOWER, SHOES, BAG)
"""Labels that change with the outfit (masked out by clothes-agnostic training)."""

NO_PATTERN, UPPER_PATTERN = 0, 1
_SHIFT = 3
_ONE = 1 << _SHIFT


def _fix(p: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(p, dtype=np.float64) * _ONE).astype(np.int32)


def _fix2(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0]) * _ONE), round(float(p[1]) * _ONE)


class Painter:
    """A render-id canvas (``ids``: uint8 (H, W), 0 = empty) and the table of ids drawn so far."""

    def __init__(self, height: int, width: int) -> None:
        self.ids = np.zeros((height, width), dtype=np.uint8)
        self.labels: list[int] = [BACKGROUND]
        self.colours: list[tuple[float, float, float]] = [(0.0, 0.0, 0.0)]
        self.patterns: list[int] = [NO_PATTERN]
        self.shades: list[float] = [1.0]

    def new(
        self, label: int, rgb: tuple[int, int, int], shade: float = 1.0, pattern: int = NO_PATTERN
    ) -> int:
        """Register a paint and return its render id."""
        if len(self.labels) >= 255:
            raise ValueError("too many paints on one canvas")
        self.labels.append(label)
        self.colours.append((rgb[0] * shade, rgb[1] * shade, rgb[2] * shade))
        self.patterns.append(pattern)
        self.shades.append(shade)
        return len(self.labels) - 1

    def poly(self, pid: int, points: np.ndarray) -> None:
        cv2.fillPoly(self.ids, [_fix(points).reshape(-1, 1, 2)], pid, cv2.LINE_8, _SHIFT)

    def circle(self, pid: int, centre: np.ndarray, radius: float) -> None:
        cv2.circle(self.ids, _fix2(centre), max(1, int(radius * _ONE)), pid, -1, cv2.LINE_8, _SHIFT)

    def ellipse(self, pid: int, centre: np.ndarray, axes: tuple[float, float], angle: float = 0.0) -> None:
        ax = (max(1, int(axes[0] * _ONE)), max(1, int(axes[1] * _ONE)))
        cv2.ellipse(self.ids, _fix2(centre), ax, angle, 0, 360, pid, -1, cv2.LINE_8, _SHIFT)

    def line(self, pid: int, p0: np.ndarray, p1: np.ndarray, thickness: float) -> None:
        t = max(1, round(thickness))
        cv2.line(self.ids, _fix2(p0), _fix2(p1), pid, t, cv2.LINE_8, _SHIFT)

    def capsule(self, pid: int, p0: np.ndarray, p1: np.ndarray, r0: float, r1: float) -> None:
        """A limb: a tapered quad between two joints with round ends."""
        x0, y0, x1, y1 = float(p0[0]), float(p0[1]), float(p1[0]), float(p1[1])
        n = math.hypot(x1 - x0, y1 - y0)
        if n > 1e-6:
            px, py = -(y1 - y0) / n, (x1 - x0) / n
            quad = [
                (x0 + px * r0, y0 + py * r0),
                (x1 + px * r1, y1 + py * r1),
                (x1 - px * r1, y1 - py * r1),
                (x0 - px * r0, y0 - py * r0),
            ]
            pts = np.array([(round(a * _ONE), round(b * _ONE)) for a, b in quad], dtype=np.int32)
            cv2.fillPoly(self.ids, [pts], pid, cv2.LINE_8, _SHIFT)
        self.circle(pid, p0, r0)
        self.circle(pid, p1, r1)


@dataclass(frozen=True, slots=True)
class Pattern:
    """A garment texture: ``kind`` is solid, stripes, checks or print; period in pixels."""

    kind: str
    rgb: tuple[int, int, int]
    period_px: float
    angle_deg: float
    origin: tuple[float, float]


def pattern_mask(pattern: Pattern, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Boolean texture over pixel coordinates (grids of equal shape); True takes the pattern colour."""
    p = max(2.0, pattern.period_px)
    x = xs - pattern.origin[0]
    y = ys - pattern.origin[1]
    a = math.radians(pattern.angle_deg)
    u = y * math.cos(a) + x * math.sin(a)
    if pattern.kind == "stripes":
        return np.mod(u, p) < p * 0.45
    v = x * math.cos(a) - y * math.sin(a)
    if pattern.kind == "checks":
        return (np.mod(u, 2 * p) < p) ^ (np.mod(v, 2 * p) < p)
    if pattern.kind == "print":
        # Staggered dots: every other row of dots is shifted by half a period.
        row = np.floor(u / (1.6 * p))
        du = np.mod(u, 1.6 * p) - 0.8 * p
        dv = np.mod(v + row * 0.8 * p, 1.6 * p) - 0.8 * p
        return du * du + dv * dv < (0.42 * p) ** 2
    return np.zeros(np.broadcast(ys, xs).shape, dtype=bool)


def colourise(
    painter: Painter, pattern: Pattern | None, *, soft_edge_px: float = 0.0
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]]:
    """Colour a finished canvas, inside the bounding box of what was drawn.

    Args:
        painter: the canvas.
        pattern: the upper-garment texture, or None for solid garments.
        soft_edge_px: when > 0, darken pixels within this distance of the silhouette edge, a cheap
            stand-in for the shading of a rounded body.

    Returns:
        ``(rgb, labels, box)``: uint8 (h, w, 3) colours of the box ``(x0, y0, x1, y1)`` (0 where
        empty) and uint8 (H, W) semantic labels of the whole canvas.
    """
    ids = painter.ids
    labels = np.asarray(painter.labels, dtype=np.uint8)[ids]
    x, y, w, h = cv2.boundingRect(labels)
    box = (x, y, x + w, y + h)
    sub = ids[y : y + h, x : x + w]
    lut = np.clip(np.round(np.asarray(painter.colours, dtype=np.float32)), 0, 255).astype(np.uint8)
    rgb = lut[sub]
    if pattern is not None and pattern.kind != "solid" and w > 0:
        pat_ids = np.flatnonzero(np.asarray(painter.patterns) == UPPER_PATTERN)
        ys, xs = np.nonzero(np.isin(sub, pat_ids))
        if ys.size:
            on = pattern_mask(pattern, (ys + y).astype(np.float32), (xs + x).astype(np.float32))
            ys, xs = ys[on], xs[on]
            shade = np.asarray(painter.shades, dtype=np.float32)[sub[ys, xs]]
            rgb[ys, xs] = np.clip(np.asarray(pattern.rgb, dtype=np.float32) * shade[:, None], 0, 255)
    if soft_edge_px > 0 and w > 0:
        fg = np.pad((sub > 0).astype(np.uint8), 1)
        dist = cv2.distanceTransform(fg, cv2.DIST_L2, 3)[1:-1, 1:-1]
        # Saturating affine map: 0.72 at the edge rising to 1.0 (255) at soft_edge_px inside.
        shade_u8 = cv2.convertScaleAbs(dist, alpha=0.28 * 255.0 / soft_edge_px, beta=0.72 * 255.0)
        shaded = cv2.multiply(rgb, cv2.merge([shade_u8, shade_u8, shade_u8]), scale=1.0 / 255.0)
        return np.asarray(shaded), labels, box
    return rgb, labels, box
