"""Colour-histogram features of SynthCC crops for the sanity experiment: the clothes matchers (whole
crop; the person's own pixels) and the oracle on hair and skin pixels, both read with the label maps."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from reid_engine.data.base import ImageRecord
from reid_engine.data.torch_dataset import load_rgb
from reid_engine.synth.painter import ARMS, FACE, HAIR, LEGS, OCCLUDER


def read_labels(path: Path, size_hw: tuple[int, int]) -> np.ndarray:
    """A label map resized (nearest neighbour) to ``size_hw``."""
    labels = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if labels is None:
        raise SystemExit(f"cannot read {path}")
    return np.asarray(cv2.resize(labels, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_NEAREST))


def histogram_features(records: list[ImageRecord], *, person_only: bool) -> np.ndarray:
    """Hue-saturation histograms (16×4 bins) of the upper and lower halves, Hellinger-normalised.

    Value (brightness) is left out: it mostly measures the light, not the clothes.

    With ``person_only`` the histograms count only the person's pixels (from the label maps) and
    split the person's own box in halves: a clothes-colour matcher without background clutter.
    """
    feats = []
    for r in records:
        hsv = cv2.cvtColor(load_rgb(r.path, (128, 64)), cv2.COLOR_RGB2HSV)
        mask = np.ones((128, 64), np.uint8)
        top, bottom = 8, 120
        if person_only and r.mask_path is not None:
            labels = read_labels(r.mask_path, (128, 64))
            mask = ((labels > 0) & (labels != OCCLUDER)).astype(np.uint8)
            rows = np.flatnonzero(mask.any(axis=1))
            if rows.size:
                top, bottom = int(rows[0]), int(rows[-1]) + 1
        mid = (top + bottom) // 2
        parts = []
        for y0, y1 in ((top, mid), (mid, bottom)):
            h = cv2.calcHist([hsv[y0:y1]], [0, 1], mask[y0:y1], [16, 4], [0, 180, 0, 256]).ravel()
            parts.append(np.sqrt(h / max(h.sum(), 1.0)))
        feats.append(np.concatenate(parts))
    return np.asarray(feats, dtype=np.float32)


def trait_histogram_features(records: list[ImageRecord]) -> np.ndarray:
    """An oracle for persistent cues: HSV histograms of the hair pixels and of the skin pixels (face,
    arms, legs), found with the ground-truth label maps. Shows how much identity the pixels carry
    outside the clothes; not a model (it reads the labels at test time)."""
    feats = []
    for r in records:
        hsv = cv2.cvtColor(load_rgb(r.path), cv2.COLOR_RGB2HSV)
        if r.mask_path is None:
            raise SystemExit(f"{r.path} has no label map")
        labels = read_labels(r.mask_path, hsv.shape[:2])
        parts = []
        for wanted in ((HAIR,), (FACE, ARMS, LEGS)):
            m = np.isin(labels, wanted).astype(np.uint8)
            h = cv2.calcHist([hsv], [0, 1, 2], m, [16, 8, 4], [0, 180, 0, 256, 0, 256]).ravel()
            parts.append(np.sqrt(h / max(h.sum(), 1.0)))
        feats.append(np.concatenate(parts))
    return np.asarray(feats, dtype=np.float32)
