"""Turn similarity scores into calibrated match confidences (Platt scaling on labelled pairs).

A cosine score means different things for different embedders (ImageNet features of two strangers
in dark coats score 0.9). Fitting ``p = σ(a · score + b)`` on pairs of held-out people — as many
pairs of the same person (seen by different cameras) as of different people — gives each embedder a
confidence that reads the same way: 0.5 is as likely a match as not, at even prior odds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True, slots=True)
class ScoreCalibration:
    """``confidence = σ(slope · score + intercept)`` for one embedder.

    Attributes:
        embedder: the embedder's name (it carries the weights' checksum and input size).
        slope, intercept: the fitted logistic map.
        pairs: labelled pairs it was fitted on (half of them the same person).
        fitted_on: the data it was fitted on, for the record.
        ece_before, ece_after: expected calibration error (10 bins) on held-out pairs of the raw
            score read as a probability, and of the confidence.
    """

    embedder: str
    slope: float
    intercept: float
    pairs: int
    fitted_on: str
    ece_before: float
    ece_after: float

    def confidence(self, score: float | np.ndarray) -> float | np.ndarray:
        """Calibrated match confidence of a cosine score (or an array of them)."""
        return 1.0 / (1.0 + np.exp(-(self.slope * np.asarray(score, dtype=np.float64) + self.intercept)))


def fit_platt(scores: np.ndarray, labels: np.ndarray, *, l2: float = 1e-6, iterations: int = 50) -> tuple[float, float]:
    """Logistic regression of ``labels`` (0/1) on ``scores`` by Newton's method; returns (slope, intercept).

    Raises:
        ValueError: without both classes, or on mismatched shapes.
    """
    x = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError("scores and labels must be 1-D arrays of the same length")
    if not (y.min() == 0 and y.max() == 1):
        raise ValueError("calibration needs both matching and non-matching pairs")
    design = np.stack([x, np.ones_like(x)], axis=1)
    w = np.zeros(2)
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(design @ w)))
        grad = design.T @ (p - y) + l2 * w
        hess = (design * (p * (1 - p))[:, None]).T @ design + l2 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return float(w[0]), float(w[1])


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> float:
    """Mean |accuracy − confidence| over equal-width probability bins, weighted by bin size."""
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    y = np.asarray(labels, dtype=np.float64)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            total += sel.sum() * abs(y[sel].mean() - p[sel].mean())
    return float(total / max(len(p), 1))


def labelled_pairs(
    embeddings: np.ndarray, pids: np.ndarray, camids: np.ndarray, *, max_pairs: int = 20000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Cosine scores and same-person labels of balanced pairs: every pair of one person across two cameras
    (up to ``max_pairs / 2``) and as many random pairs of different people."""
    rng = np.random.default_rng(seed)
    e = np.asarray(embeddings, dtype=np.float32)
    e = e / np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    pids, camids = np.asarray(pids), np.asarray(camids)
    i, j = np.triu_indices(len(e), k=1)
    positive = (pids[i] == pids[j]) & (camids[i] != camids[j])
    pos = np.flatnonzero(positive)
    neg = np.flatnonzero(pids[i] != pids[j])
    n = min(len(pos), len(neg), max_pairs // 2)
    if n == 0:
        raise ValueError("calibration needs at least one person seen by two cameras, and two people")
    pick = np.concatenate([rng.choice(pos, n, replace=False), rng.choice(neg, n, replace=False)])
    scores = np.sum(e[i[pick]] * e[j[pick]], axis=1)
    labels = np.concatenate([np.ones(n), np.zeros(n)])
    return scores.astype(np.float64), labels


def calibrate(
    embedder: str, embeddings: np.ndarray, pids: np.ndarray, camids: np.ndarray, *, fitted_on: str, seed: int = 0
) -> ScoreCalibration:
    """Fit on half of the people's pairs and measure the calibration error on pairs of the other half."""
    people = np.unique(pids)
    rng = np.random.default_rng(seed)
    fit_people = set(rng.choice(people, len(people) // 2, replace=False).tolist())
    fit = np.array([p in fit_people for p in pids])
    s_fit, y_fit = labelled_pairs(embeddings[fit], pids[fit], camids[fit], seed=seed)
    s_test, y_test = labelled_pairs(embeddings[~fit], pids[~fit], camids[~fit], seed=seed + 1)
    slope, intercept = fit_platt(s_fit, y_fit)
    result = ScoreCalibration(embedder, slope, intercept, len(s_fit), fitted_on, 0.0, 0.0)
    return ScoreCalibration(
        embedder, slope, intercept, len(s_fit), fitted_on,
        ece_before=expected_calibration_error(np.clip(s_test, 0, 1), y_test),
        ece_after=expected_calibration_error(np.asarray(result.confidence(s_test)), y_test),
    )


def save_calibrations(path: Path, calibrations: list[ScoreCalibration]) -> None:
    """Write calibrations as JSON keyed by embedder name (merged into an existing file)."""
    data = load_calibration_table(path) if path.is_file() else {}
    for c in calibrations:
        data[c.embedder] = asdict(c)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load_calibration_table(path: Path) -> dict[str, dict[str, float | int | str]]:
    """The JSON table written by :func:`save_calibrations` (embedder name → fields)."""
    table = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(table, dict):
        raise ValueError(f"{path} is not a calibration table")
    return table
