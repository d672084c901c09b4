"""Whole-track clean-up: boxes cut by the frame edge completed, short gaps filled by interpolation."""

from __future__ import annotations

import numpy as np
import pytest

from reid_engine.track import complete_at_edges, fill_gaps
from reid_engine.types import Tracklet

WIDTH, HEIGHT = 640, 360
SAMPLED = np.arange(0, 40, 2, dtype=np.int64)  # every second frame of a 10 fps video
TIMES = SAMPLED / 10.0


def tracklet(frames: list[int], boxes: list[list[float]], scores: list[float] | None = None) -> Tracklet:
    frame_indices = np.asarray(frames, dtype=np.int64)
    return Tracklet(
        track_id=3,
        frame_indices=frame_indices,
        timestamps_s=frame_indices / 10.0,
        boxes_xyxy=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        scores=np.asarray(scores if scores is not None else [0.9] * len(frames), dtype=np.float32),
        best_crops=(),
    )


def test_a_person_leaving_at_the_right_keeps_their_width_beyond_the_edge() -> None:
    # 40 x 100 while whole, then cut by the right edge to 30 and 10 pixels.
    t = tracklet(
        [0, 2, 4, 6], [[560, 100, 600, 200], [590, 100, 630, 200], [610, 102, 640, 202], [630, 104, 640, 204]]
    )
    done = complete_at_edges(t, width=WIDTH, height=HEIGHT)
    np.testing.assert_allclose(done.boxes_xyxy[:2], t.boxes_xyxy[:2])
    np.testing.assert_allclose(done.boxes_xyxy[2], [610, 102, 650, 202])
    np.testing.assert_allclose(done.boxes_xyxy[3], [630, 104, 670, 204])
    np.testing.assert_array_equal(done.scores, t.scores)


def test_a_person_entering_at_the_left_gets_the_shape_seen_later() -> None:
    t = tracklet([0, 2, 4], [[0, 50, 12, 150], [0, 50, 30, 150], [20, 50, 70, 175]])
    done = complete_at_edges(t, width=WIDTH, height=HEIGHT)
    # The whole box is 50 x 125 (0.4 wide per unit of height): 40 wide at a height of 100.
    np.testing.assert_allclose(done.boxes_xyxy[0], [-28, 50, 12, 150])
    np.testing.assert_allclose(done.boxes_xyxy[1], [-10, 50, 30, 150])


def test_a_person_cut_at_the_bottom_gets_their_height_back_from_their_width() -> None:
    t = tracklet([0, 2], [[100, 100, 140, 200], [100, 280, 160, 360]])
    done = complete_at_edges(t, width=WIDTH, height=HEIGHT)
    np.testing.assert_allclose(done.boxes_xyxy[1], [100, 280, 160, 430])


def test_boxes_are_left_alone_when_nothing_is_known_or_nothing_is_cut() -> None:
    always_cut = tracklet([0, 2], [[0, 10, 20, 110], [0, 12, 25, 112]])
    assert complete_at_edges(always_cut, width=WIDTH, height=HEIGHT) is always_cut
    whole = tracklet([0, 2], [[100, 10, 140, 110], [110, 12, 150, 112]])
    assert complete_at_edges(whole, width=WIDTH, height=HEIGHT) is whole
    # Cut on both sides (a person filling the frame width): no side to grow.
    both = tracklet([0, 2], [[0, 10, 640, 300], [100, 10, 140, 110]])
    np.testing.assert_array_equal(
        complete_at_edges(both, width=WIDTH, height=HEIGHT).boxes_xyxy[0], [0, 10, 640, 300]
    )
    # Already at least as wide as the person's shape: never shrunk.
    wide = tracklet([0, 2], [[0, 10, 60, 110], [100, 10, 140, 110]])
    np.testing.assert_array_equal(
        complete_at_edges(wide, width=WIDTH, height=HEIGHT).boxes_xyxy[0], [0, 10, 60, 110]
    )


def test_short_gaps_are_filled_by_linear_interpolation_with_score_zero() -> None:
    t = tracklet(
        [0, 2, 8, 10],
        [[0, 0, 10, 20], [10, 0, 20, 20], [40, 6, 50, 26], [50, 6, 60, 26]],
        [0.9, 0.8, 0.7, 0.6],
    )
    done = fill_gaps(t, sampled_frames=SAMPLED, sampled_times=TIMES, max_gap_s=0.6)
    assert done.frame_indices.tolist() == [0, 2, 4, 6, 8, 10]
    np.testing.assert_allclose(done.timestamps_s, [0.0, 0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(done.boxes_xyxy[2], [20, 2, 30, 22])
    np.testing.assert_allclose(done.boxes_xyxy[3], [30, 4, 40, 24])
    np.testing.assert_allclose(done.scores, [0.9, 0.8, 0.0, 0.0, 0.7, 0.6])
    assert done.boxes_xyxy.dtype == np.float32
    assert done.scores.dtype == np.float32
    assert done.frame_indices.dtype == np.int64


def test_gaps_longer_than_the_limit_stay_open() -> None:
    t = tracklet([0, 10, 12], [[0, 0, 10, 20], [50, 0, 60, 20], [52, 0, 62, 20]])
    assert fill_gaps(t, sampled_frames=SAMPLED, sampled_times=TIMES, max_gap_s=0.8) is t
    assert len(fill_gaps(t, sampled_frames=SAMPLED, sampled_times=TIMES, max_gap_s=1.0).frame_indices) == 7
    assert fill_gaps(t, sampled_frames=SAMPLED, sampled_times=TIMES, max_gap_s=0.0) is t


def test_filling_needs_the_track_frames_among_the_sampled_ones() -> None:
    t = tracklet([0, 3], [[0, 0, 10, 20], [10, 0, 20, 20]])
    with pytest.raises(ValueError, match="outside the sampled frames"):
        fill_gaps(t, sampled_frames=SAMPLED, sampled_times=TIMES, max_gap_s=1.0)
    late = tracklet([0, 80], [[0, 0, 10, 20], [10, 0, 20, 20]])
    with pytest.raises(ValueError, match="outside the sampled frames"):
        fill_gaps(late, sampled_frames=SAMPLED, sampled_times=TIMES, max_gap_s=1.0)
