"""Backgrounds: a static scene per camera (wall, floor, fixtures) and cheap random textured fills.

Backgrounds never depend on who is in the picture, so they tell the camera at most, never the person.
"""

from __future__ import annotations

import cv2
import numpy as np


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cells: int, amp: float) -> np.ndarray:
    small = rng.normal(0.0, amp, (max(2, cells * h // max(h, w)), max(2, cells * w // max(h, w)), 1))
    return cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)[..., None]


def _colour(rng: np.random.Generator, lo: float = 40.0, hi: float = 220.0) -> np.ndarray:
    base = rng.uniform(lo, hi)
    tint = rng.normal(0.0, 25.0, 3)
    return np.clip(base + tint, 0, 255).astype(np.float32)


def scene_background(
    rng: np.random.Generator, height: int, width: int, *, horizon: float | None = None
) -> np.ndarray:
    """A scene-like static background: a wall or facade above a floor or pavement.

    Args:
        rng: randomness source.
        height, width: size in pixels.
        horizon: the wall/floor boundary as a fraction of the height (random when None).

    Returns:
        uint8 (height, width, 3) RGB.
    """
    hz = int(height * (horizon if horizon is not None else rng.uniform(0.3, 0.6)))
    img = np.empty((height, width, 3), dtype=np.float32)
    wall, floor = _colour(rng), _colour(rng, 50, 190)
    img[:hz] = wall
    ramp = np.linspace(0.85, 1.1, max(1, height - hz), dtype=np.float32)[:, None, None]
    img[hz:] = floor * ramp
    canvas = img
    wall_kind = int(rng.integers(4))
    if wall_kind == 0:  # bricks
        bh = int(rng.integers(6, 14))
        line = _colour(rng, 60, 200)
        for y in range(0, hz, bh):
            canvas[y : y + 1, :] = line
            off = (y // bh % 2) * bh
            for x in range(off, width, bh * 2):
                canvas[y : min(y + bh, hz), x : x + 1] = line
    elif wall_kind == 1:  # windows / shop fronts
        for _ in range(int(rng.integers(2, 7))):
            w = int(rng.integers(width // 12, width // 4))
            h = int(rng.integers(max(4, hz // 6), max(5, hz - 2)))
            x, y = int(rng.integers(0, max(1, width - w))), int(rng.integers(0, max(1, hz - h)))
            cv2.rectangle(canvas, (x, y), (x + w, y + h), _colour(rng, 20, 240).tolist(), -1)
            cv2.rectangle(canvas, (x, y), (x + w, y + h), _colour(rng, 20, 120).tolist(), 2)
    elif wall_kind == 2:  # vertical panels
        pw = int(rng.integers(8, 40))
        shade = rng.uniform(0.8, 1.0)
        for x in range(0, width, pw * 2):
            canvas[:hz, x : x + pw] *= shade
    floor_kind = int(rng.integers(3))
    vx = rng.uniform(0.2, 0.8) * width
    line = (floor * rng.uniform(0.6, 0.9)).tolist()
    if floor_kind == 0:  # tiles converging to a vanishing point
        for i in range(-8, 9):
            cv2.line(canvas, (int(vx), hz), (int(vx + i * width / 6), height), line, 1)
        row = float(hz)
        step = 3.0
        while row < height:
            cv2.line(canvas, (0, int(row)), (width, int(row)), line, 1)
            step *= 1.35
            row += step
    elif floor_kind == 1:  # kerb and road marking
        ky = int(hz + rng.uniform(0.3, 0.7) * (height - hz))
        canvas[ky : ky + 3] = _colour(rng, 150, 230)
        canvas[ky + 3 :] *= 0.7
    for _ in range(int(rng.integers(0, 4))):  # poles, bins, benches
        x = int(rng.integers(0, width))
        w = int(rng.integers(2, max(3, width // 20)))
        top = int(rng.integers(0, max(1, hz)))
        bottom = int(hz + rng.uniform(0.05, 0.4) * (height - hz))
        cv2.rectangle(canvas, (x, top), (x + w, bottom), _colour(rng, 20, 200).tolist(), -1)
    canvas += _smooth_noise(rng, height, width, 8, 12.0)
    canvas += rng.normal(0.0, 3.0, canvas.shape).astype(np.float32)
    return np.clip(canvas, 0, 255).astype(np.uint8)


def texture_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A random gradient with blotches and noise, uint8 (height, width, 3) RGB."""
    a, b = _colour(rng, 20, 235), _colour(rng, 20, 235)
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    if rng.random() < 0.5:
        t = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :, None]
    img = a * (1 - t) + b * t + _smooth_noise(rng, height, width, int(rng.integers(3, 12)), 25.0)
    return np.clip(img, 0, 255).astype(np.uint8)


def window(scene: np.ndarray, rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A random crop of ``scene`` with the aspect of (height, width), resized to that size."""
    sh, sw = scene.shape[:2]
    ch = int(rng.uniform(0.35, 0.9) * sh)
    cw = min(sw, max(4, int(ch * width / height)))
    y = int(rng.integers(0, sh - ch + 1))
    x = int(rng.integers(0, sw - cw + 1))
    return cv2.resize(scene[y : y + ch, x : x + cw], (width, height), interpolation=cv2.INTER_LINEAR)
