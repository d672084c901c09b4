"""Pictures of what the engine found: annotated frames, region overlays and contact sheets."""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

from reid_engine.pose.regions import COCO_SKELETON, BodyRegions

_REGION_COLOURS = {"head": (66, 133, 244), "upper": (234, 67, 53), "lower": (52, 168, 83)}


def track_colour(track_id: int) -> tuple[int, int, int]:
    """A stable, distinct RGB colour per track id (golden-ratio hue steps)."""
    hue = (track_id * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_tracks(
    image: np.ndarray, boxes: np.ndarray, track_ids: np.ndarray, keypoints: np.ndarray | None = None
) -> np.ndarray:
    """Draw boxes with their track ids (and skeletons when keypoints are given) on a copy of ``image``.

    Args:
        image: RGB uint8 (H, W, 3).
        boxes: float (N, 4) xyxy.
        track_ids: int (N,).
        keypoints: optional float (N, 17, 3) (x, y, score).
    """
    out = image.copy()
    scale = max(1.0, image.shape[0] / 576)
    for i, (box, tid) in enumerate(zip(boxes, track_ids, strict=True)):
        colour = track_colour(int(tid))
        x1, y1, x2, y2 = (round(float(v)) for v in box)
        cv2.rectangle(out, (x1, y1), (x2, y2), colour, max(1, round(2 * scale)))
        label = str(int(tid))
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, 1)
        cv2.rectangle(out, (x1, max(0, y1 - th - 6)), (x1 + tw + 6, y1), colour, -1)
        cv2.putText(
            out, label, (x1 + 3, y1 - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, (0, 0, 0), 1, cv2.LINE_AA
        )
        if keypoints is not None:
            kp = keypoints[i]
            for a, b in COCO_SKELETON:
                if kp[a, 2] >= 0.3 and kp[b, 2] >= 0.3:
                    cv2.line(out, _pt(kp[a]), _pt(kp[b]), colour, 1, cv2.LINE_AA)
    return out


def overlay_regions(crop: np.ndarray, regions: BodyRegions, alpha: float = 0.45) -> np.ndarray:
    """Tint a crop's head (blue), upper garment (red) and lower garment (green)."""
    out = crop.astype(np.float32)
    for name, colour in _REGION_COLOURS.items():
        mask = getattr(regions, name)
        out[mask] = (1 - alpha) * out[mask] + alpha * np.asarray(colour, np.float32)
    return out.clip(0, 255).astype(np.uint8)


def labelled_tile(image: np.ndarray, label: str, height: int) -> np.ndarray:
    """Resize to ``height`` and add a caption strip below."""
    h, w = image.shape[:2]
    width = max(1, round(w * height / max(h, 1)))
    tile = cv2.resize(
        image, (width, height), interpolation=cv2.INTER_AREA if h > height else cv2.INTER_LINEAR
    )
    strip = np.full((18, max(width, 8 * len(label) + 6), 3), 255, np.uint8)
    cv2.putText(strip, label, (3, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (30, 30, 30), 1, cv2.LINE_AA)
    canvas = np.full((height + 18, strip.shape[1], 3), 255, np.uint8)
    canvas[:height, :width] = tile
    canvas[height:] = strip
    return canvas


def grid(tiles: list[np.ndarray], *, width: int, gap: int = 6, background: int = 245) -> np.ndarray:
    """Pack tiles left to right into rows no wider than ``width``."""
    rows: list[list[np.ndarray]] = [[]]
    used = 0
    for tile in tiles:
        if rows[-1] and used + tile.shape[1] + gap > width:
            rows.append([])
            used = 0
        rows[-1].append(tile)
        used += tile.shape[1] + gap
    bands = []
    for row in rows:
        if not row:
            continue
        h = max(t.shape[0] for t in row)
        band = np.full((h + gap, width, 3), background, np.uint8)
        x = gap
        for t in row:
            band[: t.shape[0], x : x + t.shape[1]] = t[:, : max(0, min(t.shape[1], width - x))]
            x += t.shape[1] + gap
        bands.append(band)
    return np.concatenate(bands) if bands else np.full((gap, width, 3), background, np.uint8)


def title_bar(text: str, width: int) -> np.ndarray:
    bar = np.full((30, width, 3), 255, np.uint8)
    cv2.putText(bar, text, (8, 21), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (20, 20, 20), 1, cv2.LINE_AA)
    return bar


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))
