"""Tracking scores on hand-made MOT data: perfect tracks, an identity switch, unanalysed frames."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.eval.mot import load_mot_rows, score_mot


def _walk(track_id: int, x0: float, frames: range) -> list[list[float]]:
    return [[f, track_id, x0 + 5 * f, 50, 20, 60] for f in frames]


GT = np.asarray(_walk(1, 0, range(1, 21)) + _walk(2, 300, range(1, 21)), dtype=np.float64)


def test_perfect_tracks_score_one() -> None:
    scores = score_mot(GT, GT.copy(), frames=range(1, 21))
    assert scores["idf1"] == pytest.approx(1.0)
    assert scores["mota"] == pytest.approx(1.0)
    assert scores["num_switches"] == 0


def test_an_identity_switch_is_counted_and_lowers_idf1() -> None:
    pred = GT.copy()
    late = (pred[:, 0] > 10) & (pred[:, 1] == 1)
    pred[late, 1] = 7  # the same person continues under a new id
    scores = score_mot(GT, pred, frames=range(1, 21))
    assert scores["num_switches"] == 1
    assert scores["idf1"] == pytest.approx(0.75)
    assert scores["mota"] == pytest.approx(1.0 - 1 / 40)


def test_only_the_analysed_frames_are_scored() -> None:
    odd = range(1, 21, 2)
    pred = GT[np.isin(GT[:, 0], list(odd))]
    scores = score_mot(GT, pred, frames=odd)
    assert scores["num_objects"] == 20
    assert scores["num_misses"] == 0
    missed = score_mot(GT, np.zeros((0, 6)), frames=odd)
    assert missed["recall"] == 0.0
    assert missed["motp"] is None


def test_ground_truth_rows_that_are_not_pedestrians_or_barely_visible_are_dropped(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "gt.txt"
    path.write_text(
        "1,1,0,0,10,20,1,1,0.9\n1,2,0,0,10,20,0,1,0.9\n1,3,0,0,10,20,1,3,0.9\n1,4,0,0,10,20,1,1,0.05\n"
    )
    assert load_mot_rows(path, ground_truth=True)[:, 1].tolist() == [1, 4]
    assert load_mot_rows(path, ground_truth=True, min_visibility=0.1)[:, 1].tolist() == [1]
    assert len(load_mot_rows(path)) == 4
