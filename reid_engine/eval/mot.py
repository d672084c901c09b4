"""Multi-object tracking scores (MOTA, IDF1, …) of MOTChallenge files, via py-motmetrics.

Tracks from ``reid ingest --mot`` exist only on the frames the pipeline sampled, so scoring is done
on exactly those frames: ground truth on frames that were never analysed is not counted as missed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from reid_engine.detect.boxes import iou_matrix
from reid_engine.errors import ReidEngineError
from reid_engine.types import Tracklet

METRICS = (
    "idf1",
    "mota",
    "motp",
    "precision",
    "recall",
    "num_switches",
    "num_false_positives",
    "num_misses",
    "num_objects",
    "mostly_tracked",
    "mostly_lost",
    "num_unique_objects",
)


def load_mot_rows(
    path: str | os.PathLike[str], *, ground_truth: bool = False, min_visibility: float = 0.0
) -> np.ndarray:
    """Rows (frame, id, x, y, w, h) of a MOTChallenge file.

    With ``ground_truth``, rows with conf 0, a class other than pedestrian (1) or a visibility below
    ``min_visibility`` are dropped, as the MOTChallenge evaluation does.
    """
    try:
        data = np.loadtxt(path, delimiter=",", ndmin=2, dtype=np.float64)
    except (OSError, ValueError) as exc:
        raise ReidEngineError(f"cannot read MOT file {path}: {exc}") from None
    if data.size == 0:
        return np.zeros((0, 6))
    keep = np.ones(len(data), bool)
    if ground_truth and data.shape[1] >= 9:
        keep &= (data[:, 6] != 0) & (data[:, 7] == 1) & (data[:, 8] >= min_visibility)
    return data[keep, :6]


def score_mot(gt: np.ndarray, pred: np.ndarray, *, frames: Iterable[int], iou: float = 0.5) -> dict[str, Any]:
    """Score predicted tracks against ground truth on the given (1-based) frames.

    Args:
        gt, pred: rows (frame, id, x, y, w, h) as from :func:`load_mot_rows`.
        frames: the frame numbers to evaluate.
        iou: minimum IoU for a match (MOTChallenge uses 0.5).
    """
    import motmetrics as mm

    host = mm.metrics.create()
    summary = host.compute(_accumulate(gt, pred, frames, iou), metrics=list(METRICS), name="all")
    return _scores(summary.loc["all"])


def score_mot_many(
    sequences: Mapping[str, tuple[np.ndarray, np.ndarray, Iterable[int]]], *, iou: float = 0.5
) -> dict[str, dict[str, Any]]:
    """Score several sequences (the cameras of a scene set), each alone and all together.

    The overall scores pool every sequence's matches, misses, false positives and switches, as
    MOTChallenge does over a benchmark's sequences (not a mean of per-sequence scores).

    Args:
        sequences: per name, ground truth rows, predicted rows and the frames to evaluate, as for
            :func:`score_mot`.
        iou: minimum IoU for a match.

    Returns:
        Per name the scores of :func:`score_mot`, plus ``"overall"``.

    Raises:
        ValueError: no sequence, or one named ``"overall"``.
    """
    import motmetrics as mm

    if not sequences or "overall" in sequences:
        raise ValueError("score_mot_many needs at least one sequence and none named 'overall'")
    names = list(sequences)
    accumulators = [_accumulate(*sequences[name], iou) for name in names]
    host = mm.metrics.create()
    summary = host.compute_many(accumulators, metrics=list(METRICS), names=names, generate_overall=True)
    out = {name: _scores(summary.loc[name]) for name in names}
    out["overall"] = _scores(summary.loc["OVERALL"])
    return out


def tracklet_rows(tracklets: Iterable[Tracklet]) -> np.ndarray:
    """Rows (frame, id, x, y, w, h) of tracklets, frames numbered from 1 as in MOT files."""
    rows = [
        (int(frame) + 1, t.track_id, float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1]))
        for t in tracklets
        for frame, b in zip(t.frame_indices, t.boxes_xyxy, strict=True)
    ]
    return np.asarray(rows, dtype=np.float64).reshape(-1, 6)


def _accumulate(gt: np.ndarray, pred: np.ndarray, frames: Iterable[int], iou: float) -> Any:
    import motmetrics as mm

    acc = mm.MOTAccumulator(auto_id=False)
    gt_by = _by_frame(gt)
    pred_by = _by_frame(pred)
    for frame in sorted(set(int(f) for f in frames)):
        g = gt_by.get(frame, np.zeros((0, 6)))
        p = pred_by.get(frame, np.zeros((0, 6)))
        # py-motmetrics' own IoU helper uses an API NumPy 2 removed; ours gives the same matrix.
        overlap = iou_matrix(_xyxy(g), _xyxy(p))
        dist = np.where(overlap >= iou, 1.0 - overlap, np.nan)
        acc.update(g[:, 1].astype(int).tolist(), p[:, 1].astype(int).tolist(), dist, frameid=frame)
    return acc


def _scores(row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in METRICS:
        value = float(row[name])
        # NaN (e.g. MOTP with no match at all) is not JSON: report it as null.
        out[name] = (
            None
            if np.isnan(value)
            else (int(value) if name.startswith(("num_", "mostly_")) else round(value, 4))
        )
    return out


def _xyxy(rows: np.ndarray) -> np.ndarray:
    return np.concatenate([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]], axis=1).astype(np.float32)


def _by_frame(rows: np.ndarray) -> dict[int, np.ndarray]:
    out: dict[int, np.ndarray] = {}
    if len(rows):
        order = np.argsort(rows[:, 0], kind="stable")
        rows = rows[order]
        frames, starts = np.unique(rows[:, 0].astype(int), return_index=True)
        for frame, chunk in zip(frames, np.split(rows, starts[1:]), strict=True):
            out[int(frame)] = chunk
    return out
