"""How many SynthCC scene people OpenCV's default HOG people detector finds: the optional part (d)
of the sanity experiment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between boxes a (N, 4) and b (M, 4), both (x, y, w, h)."""
    ax1, ay1, ax2, ay2 = a[:, 0:1], a[:, 1:2], a[:, 0:1] + a[:, 2:3], a[:, 1:2] + a[:, 3:4]
    bx1, by1, bx2, by2 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0, None)
    ih = np.clip(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0, None)
    inter = iw * ih
    return np.asarray(inter / (a[:, 2:3] * a[:, 3:4] + b[:, 2] * b[:, 3] - inter + 1e-9))


def hog_check(root: Path, *, every: int = 5, iou: float = 0.4) -> dict[str, Any]:
    """Share of ground-truth people (visibility ≥ 0.7, fully inside the frame) that OpenCV's default
    HOG people detector finds (IoU ≥ ``iou``), overall and by box height, on every ``every``-th frame."""
    import av

    from reid_engine.data.synthcc import load_synthcc_scenes

    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32))
    bins = {"80-127px": (0, 128), "128-199px": (128, 200), "200px+": (200, 10_000)}
    found = {k: 0 for k in bins}
    total = {k: 0 for k in bins}
    detections = matched_dets = frames = 0
    for video in load_synthcc_scenes(root):
        gt = np.loadtxt(video.gt_path, delimiter=",", ndmin=2)
        with av.open(str(video.video)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i % every:
                    continue
                frames += 1
                rgb = frame.to_ndarray(format="rgb24")
                rows = gt[gt[:, 0] == i + 1]
                inside = (rows[:, 2] >= 0) & (rows[:, 3] >= 0)
                inside &= (rows[:, 2] + rows[:, 4] <= video.width) & (rows[:, 3] + rows[:, 5] <= video.height)
                rows = rows[inside & (rows[:, 8] >= 0.7)]
                boxes, _ = hog.detectMultiScale(
                    cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), winStride=(4, 4), padding=(8, 8), scale=1.05
                )
                dets = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
                detections += len(dets)
                overlap = (
                    _iou(rows[:, 2:6], dets) if len(rows) and len(dets) else np.zeros((len(rows), len(dets)))
                )
                hit = overlap.max(axis=1) >= iou if len(dets) else np.zeros(len(rows), dtype=bool)
                matched_dets += int((overlap.max(axis=0) >= iou).sum()) if len(rows) and len(dets) else 0
                for h, ok in zip(rows[:, 5], hit, strict=True):
                    key = next(k for k, (lo, hi) in bins.items() if lo <= h < hi)
                    total[key] += 1
                    found[key] += int(ok)
    return {
        "frames": frames,
        "people": sum(total.values()),
        "recall": round(sum(found.values()) / max(1, sum(total.values())), 4),
        "recall_by_height": {k: round(found[k] / total[k], 4) if total[k] else None for k in bins},
        "people_by_height": total,
        "precision": round(matched_dets / max(1, detections), 4),
    }
