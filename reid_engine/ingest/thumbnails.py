"""The small image stored with each tracklet."""

from __future__ import annotations

import cv2
import numpy as np


def make_thumbnail(crop: np.ndarray, height: int) -> np.ndarray:
    """Resize an RGB crop to ``height`` pixels high, keeping its aspect ratio."""
    h, w = crop.shape[:2]
    new_w = max(1, round(w * height / max(h, 1)))
    interp = cv2.INTER_AREA if h > height else cv2.INTER_LINEAR
    return cv2.resize(crop, (new_w, height), interpolation=interp)
