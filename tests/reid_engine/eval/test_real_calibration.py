"""Calibration on free footage labels: stretches of one track against tracks seen together."""

from __future__ import annotations

import itertools

import numpy as np

from reid_engine.eval.real import FootageTrack
from reid_engine.eval.real_calibration import calibrate_on_footage, stretch_pairs, stretches


def make(tid: int, start: float, end: float, n: int = 12) -> FootageTrack:
    crops = tuple(np.zeros((8, 4, 3), np.uint8) for _ in range(n))
    return FootageTrack(footage="f", track_id=tid, start_s=start, end_s=end,
                        crop_times_s=np.linspace(start, end, n), crops=crops)


def test_stretches_are_separated_by_the_gap() -> None:
    times = np.arange(12) * 0.5  # 0 .. 5.5 s
    runs = stretches(times, per_stretch=3, gap_s=1.0)
    assert [r.tolist() for r in runs] == [[0, 1, 2], [4, 5, 6], [8, 9, 10]]
    for a, b in itertools.pairwise(runs):
        assert times[b[0]] - times[a[-1]] >= 1.0


def test_pairs_are_balanced_and_negatives_only_from_co_occurring_tracks() -> None:
    # Tracks 0 and 1 overlap; track 2 is later and alone, so it yields positives only.
    tracks = [make(0, 0, 10), make(1, 5, 15), make(2, 50, 60)]
    rng = np.random.default_rng(0)
    dirs = rng.normal(size=(3, 8))
    vecs = [np.tile(d / np.linalg.norm(d), (12, 1)) for d in dirs]
    scores, labels = stretch_pairs(tracks, vecs, per_stretch=3, gap_s=1.0)
    assert labels.sum() == (1 - labels).sum() > 0
    # Same-track stretches of a constant vector score 1; the negatives are tracks 0 against 1 only.
    assert np.allclose(scores[labels == 1], 1.0)
    assert np.allclose(scores[labels == 0], float(dirs[0] @ dirs[1] / np.linalg.norm(dirs[0]) / np.linalg.norm(dirs[1])))


def test_a_separating_lane_calibrates_and_reports_both_time_folds() -> None:
    rng = np.random.default_rng(1)
    # Pairs of co-occurring tracks early and late in a 200-s footage.
    tracks = [make(k, s, s + 12) for k, s in enumerate([0, 2, 20, 24, 40, 41, 110, 112, 130, 133, 150, 152])]
    vecs = []
    for _ in tracks:
        d = rng.normal(size=32)
        v = d + 0.6 * rng.normal(size=(12, 32))
        vecs.append(v / np.linalg.norm(v, axis=1, keepdims=True))
    result = calibrate_on_footage("lane", tracks, vecs, {"f": 200.0}, fitted_on="test", per_stretch=3)
    assert len(result.folds) == 2
    assert result.calibration.slope > 0
    assert all(f["test_pairs"] > 0 for f in result.folds)
    assert result.holds(1.0)
    assert not result.holds(-1.0)
