"""Calibrate a lane's confidence on a site's own footage, from the free labels of its tracks.

Positives are two time-disjoint stretches of one track (a gap between them); negatives are stretches
of two tracks seen at the same moment. Each stretch is the mean of a few crops, as a stored tracklet
vector is the mean of its best few. The fit is checked on tracks it did not see: the footage's tracks
are split by time (earlier and later halves of each footage), fitted on one part and scored on the
other, both ways round.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reid_engine.eval.calibration import ScoreCalibration, expected_calibration_error, fit_platt
from reid_engine.eval.real import FootageTrack, co_occurring


def stretches(times_s: np.ndarray, *, per_stretch: int, gap_s: float) -> list[np.ndarray]:
    """Consecutive runs of ``per_stretch`` crops, each starting at least ``gap_s`` after the previous ends."""
    out: list[np.ndarray] = []
    k, times = 0, np.asarray(times_s, float)
    while k + per_stretch <= len(times):
        run = np.arange(k, k + per_stretch)
        out.append(run)
        later = np.flatnonzero(times >= times[run[-1]] + gap_s)
        if len(later) == 0:
            break
        k = int(later[0])
    return out


def stretch_pairs(
    tracks: list[FootageTrack], crop_vectors: list[np.ndarray], *, per_stretch: int = 4, gap_s: float = 1.0,
    max_pairs: int = 20000, seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Balanced scores and labels: as many same-track stretch pairs as co-occurring-track pairs.

    Raises:
        ValueError: without both kinds of pair.
    """
    vecs: list[np.ndarray] = []
    owner: list[int] = []
    for k, (t, v) in enumerate(zip(tracks, crop_vectors, strict=True)):
        for run in stretches(t.crop_times_s, per_stretch=per_stretch, gap_s=gap_s):
            m = v[run].mean(axis=0)
            vecs.append(m / max(float(np.linalg.norm(m)), 1e-12))
            owner.append(k)
    if not vecs:
        raise ValueError("no track has enough crops for a stretch")
    e, who = np.asarray(vecs), np.asarray(owner)
    negatives = co_occurring(
        np.array([t.start_s for t in tracks]), np.array([t.end_s for t in tracks]), np.array([t.footage for t in tracks])
    )
    apart = np.zeros((len(tracks), len(tracks)), bool)
    apart[negatives[:, 0], negatives[:, 1]] = True
    i, j = np.triu_indices(len(e), k=1)
    pos = np.flatnonzero(who[i] == who[j])
    neg = np.flatnonzero(apart[np.minimum(who[i], who[j]), np.maximum(who[i], who[j])])
    n = min(len(pos), len(neg), max_pairs // 2)
    if n == 0:
        raise ValueError("calibration needs tracks long enough for two stretches and tracks seen at the same time")
    rng = np.random.default_rng(seed)
    pick = np.concatenate([rng.choice(pos, n, replace=False), rng.choice(neg, n, replace=False)])
    scores = np.sum(e[i[pick]] * e[j[pick]], axis=1).astype(np.float64)
    return scores, np.concatenate([np.ones(n), np.zeros(n)])


@dataclass(frozen=True, slots=True)
class FootageCalibration:
    """The fit on all tracks, and how well each half-fit carries to the other half.

    Attributes:
        calibration: fitted on every track (``ece_before``/``ece_after``: the worse fold's).
        folds: per fold, ``{"fit_pairs", "test_pairs", "ece_before", "ece_after", "slope", "intercept"}``.
    """

    calibration: ScoreCalibration
    folds: tuple[dict[str, float], ...]

    def holds(self, max_ece: float) -> bool:
        """Whether every fold's held-out calibration error is at most ``max_ece``."""
        return all(f["ece_after"] <= max_ece for f in self.folds)


def time_split(tracks: list[FootageTrack], durations: dict[str, float]) -> np.ndarray:
    """True for tracks whose middle lies in the first half of their footage."""
    return np.array([(t.start_s + t.end_s) / 2 < durations[t.footage] / 2 for t in tracks])


def calibrate_on_footage(
    embedder: str, tracks: list[FootageTrack], crop_vectors: list[np.ndarray], durations: dict[str, float], *,
    fitted_on: str, per_stretch: int = 4, gap_s: float = 1.0, seed: int = 0,
) -> FootageCalibration:
    """Fit ``σ(a · score + b)`` on the free pairs of every track; measure ECE across the time split."""
    early = time_split(tracks, durations)
    folds = []
    for fit_part in (early, ~early):
        def pairs(mask: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
            sel = np.flatnonzero(mask)
            return stretch_pairs([tracks[k] for k in sel], [crop_vectors[k] for k in sel],
                                 per_stretch=per_stretch, gap_s=gap_s, seed=s)
        s_fit, y_fit = pairs(fit_part, seed)
        s_test, y_test = pairs(~fit_part, seed + 1)
        a, b = fit_platt(s_fit, y_fit)
        p = 1.0 / (1.0 + np.exp(-(a * s_test + b)))
        folds.append({
            "fit_pairs": len(s_fit), "test_pairs": len(s_test), "slope": a, "intercept": b,
            "ece_before": expected_calibration_error(np.clip(s_test, 0, 1), y_test),
            "ece_after": expected_calibration_error(p, y_test),
        })
    s_all, y_all = stretch_pairs(tracks, crop_vectors, per_stretch=per_stretch, gap_s=gap_s, seed=seed)
    a, b = fit_platt(s_all, y_all)
    calibration = ScoreCalibration(
        embedder, a, b, len(s_all), fitted_on,
        ece_before=max(f["ece_before"] for f in folds), ece_after=max(f["ece_after"] for f in folds),
    )
    return FootageCalibration(calibration, tuple(folds))
