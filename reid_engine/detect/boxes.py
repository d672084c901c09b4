"""Box arithmetic shared by detectors and trackers: IoU matrices, greedy NMS, clipping."""

from __future__ import annotations

import numpy as np


def box_areas(boxes: np.ndarray) -> np.ndarray:
    """Areas of xyxy boxes; degenerate boxes have area 0.

    Args:
        boxes: float (N, 4) xyxy.

    Returns:
        float64 (N,).
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    return np.clip(b[:, 2] - b[:, 0], 0.0, None) * np.clip(b[:, 3] - b[:, 1], 0.0, None)


def intersection_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection areas of two sets of xyxy boxes.

    Args:
        a: float (N, 4) xyxy.
        b: float (M, 4) xyxy.

    Returns:
        float64 (N, M).
    """
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    w = np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0])
    h = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    return np.clip(w, 0.0, None) * np.clip(h, 0.0, None)


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection over union of two sets of xyxy boxes.

    Args:
        a: float (N, 4) xyxy.
        b: float (M, 4) xyxy.

    Returns:
        float64 (N, M) in [0, 1]; 0 where both boxes are degenerate.
    """
    inter = intersection_matrix(a, b)
    union = box_areas(a)[:, None] + box_areas(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(
    boxes: np.ndarray, scores: np.ndarray, *, iou_threshold: float, containment_threshold: float = 1.0
) -> np.ndarray:
    """Greedy non-maximum suppression.

    A box is suppressed by a higher-scored kept box when their IoU exceeds ``iou_threshold``, or when
    their intersection covers more than ``containment_threshold`` of the smaller box (a box nested in
    another, which IoU alone lets through when the sizes differ a lot).

    Args:
        boxes: float (N, 4) xyxy.
        scores: float (N,).
        iou_threshold: IoU above which the lower-scored box goes.
        containment_threshold: intersection over the smaller area above which the lower-scored box
            goes; 1.0 disables the rule.

    Returns:
        int64 (K,) indices of kept boxes, highest score first; ties keep the earlier index first.
    """
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if boxes.shape[0] != scores.shape[0]:
        raise ValueError(f"nms: {boxes.shape[0]} boxes but {scores.shape[0]} scores")
    order = np.argsort(-scores, kind="stable")
    inter = intersection_matrix(boxes, boxes)
    areas = box_areas(boxes)
    union = areas[:, None] + areas[None, :] - inter
    iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
    smaller = np.minimum(areas[:, None], areas[None, :])
    contain = np.divide(inter, smaller, out=np.zeros_like(inter), where=smaller > 0)
    suppress = (iou > iou_threshold) | (contain > containment_threshold)
    alive = np.ones(boxes.shape[0], dtype=bool)
    keep: list[int] = []
    for i in order:
        if not alive[i]:
            continue
        keep.append(int(i))
        alive &= ~suppress[i]
    return np.asarray(keep, dtype=np.int64)


def clip_boxes(boxes: np.ndarray, width: int, height: int) -> np.ndarray:
    """Clip xyxy boxes to a ``width`` x ``height`` frame.

    Returns:
        float32 (N, 4), with 0 <= x1 <= x2 <= width and 0 <= y1 <= y2 <= height.
    """
    b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4).copy()
    b[:, 0::2] = np.clip(b[:, 0::2], 0.0, float(width))
    b[:, 1::2] = np.clip(b[:, 1::2], 0.0, float(height))
    b[:, 2] = np.maximum(b[:, 2], b[:, 0])
    b[:, 3] = np.maximum(b[:, 3], b[:, 1])
    return b
