"""Platt calibration of similarity scores."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.eval.calibration import (
    ScoreCalibration,
    calibrate,
    expected_calibration_error,
    fit_platt,
    labelled_pairs,
    load_calibration_table,
    save_calibrations,
)


def test_fit_platt_recovers_the_logistic_map_that_made_the_labels() -> None:
    rng = np.random.default_rng(0)
    scores = rng.uniform(-1, 1, 40000)
    labels = (rng.uniform(size=scores.size) < 1 / (1 + np.exp(-(6.0 * scores - 1.5)))).astype(float)
    slope, intercept = fit_platt(scores, labels)
    assert slope == pytest.approx(6.0, rel=0.05)
    assert intercept == pytest.approx(-1.5, abs=0.1)


def test_fit_platt_needs_both_classes() -> None:
    with pytest.raises(ValueError, match="both"):
        fit_platt(np.array([0.1, 0.2]), np.array([1.0, 1.0]))


def test_expected_calibration_error_by_hand() -> None:
    # Bin [0.2, 0.3): p 0.25 twice, one positive → |0.5 - 0.25| over 2 of 4 items.
    # Bin [0.9, 1.0]: p 0.95 twice, both positive → |1 - 0.95| over 2 of 4.
    p = np.array([0.25, 0.25, 0.95, 0.95])
    y = np.array([1, 0, 1, 1])
    assert expected_calibration_error(p, y) == pytest.approx(0.5 * 0.25 + 0.5 * 0.05)


def test_pairs_are_balanced_and_positives_cross_cameras() -> None:
    rng = np.random.default_rng(1)
    pids = np.repeat(np.arange(10), 4)
    camids = np.tile([0, 0, 1, 1], 10)
    emb = rng.normal(size=(40, 8))
    scores, labels = labelled_pairs(emb, pids, camids, max_pairs=60)
    assert labels.sum() == len(labels) / 2 == 30
    assert np.all(np.abs(scores) <= 1 + 1e-6)


def test_calibration_turns_overconfident_scores_into_honest_confidences(tmp_path: object) -> None:
    rng = np.random.default_rng(2)
    centres = rng.normal(size=(200, 16))
    pids = np.repeat(np.arange(200), 4)
    camids = np.tile([0, 1, 2, 3], 200)
    emb = centres[pids] + 1.2 * rng.normal(size=(800, 16))
    c = calibrate("toy", emb, pids, camids, fitted_on="toy")
    assert c.ece_after < c.ece_before
    assert c.ece_after < 0.06
    assert 0.0 < float(c.confidence(0.0)) < float(c.confidence(0.9)) < 1.0


def test_table_round_trip_merges_by_embedder(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "calibration.json"  # type: ignore[operator]
    a = ScoreCalibration("a", 1.0, 0.0, 10, "x", 0.2, 0.1)
    b = ScoreCalibration("b", 2.0, -1.0, 10, "x", 0.3, 0.05)
    save_calibrations(path, [a])
    save_calibrations(path, [b])
    table = load_calibration_table(path)
    assert set(table) == {"a", "b"}
    assert table["b"]["slope"] == 2.0
