"""The label-free real-footage protocol on hand-made tracks: halves, gap, co-occurrence, scores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reid_engine.eval.footage import Footage, load_tracks, save_tracks
from reid_engine.eval.real import (
    FootageTrack,
    co_occurring,
    free_labels,
    half_vectors,
    restrict_span,
    roc_auc,
    score_lane,
    split_halves,
)


def track(footage: str, tid: int, start: float, end: float, n: int = 11, value: int = 0) -> FootageTrack:
    times = np.linspace(start, end, n)
    crops = tuple(np.full((20, 10, 3), (value + k) % 256, np.uint8) for k in range(n))
    return FootageTrack(footage=footage, track_id=tid, start_s=start, end_s=end, crop_times_s=times, crops=crops)


def test_halves_are_time_disjoint_with_the_gap_left_out() -> None:
    times = np.arange(0.0, 10.5, 0.5)  # 0 .. 10 s, mid 5 s
    first, second = split_halves(times, 0.0, 10.0, gap_s=2.0, per_half=100)  # type: ignore[misc]
    assert times[first].max() <= 4.0
    assert times[second].min() >= 6.0
    assert not set(first) & set(second)
    # Nothing from inside the gap is used.
    assert not np.any((times[np.concatenate([first, second])] > 4.0) & (times[np.concatenate([first, second])] < 6.0))


def test_halves_keep_at_most_per_half_crops_spread_over_the_half() -> None:
    times = np.arange(0.0, 10.5, 0.5)
    first, second = split_halves(times, 0.0, 10.0, gap_s=1.0, per_half=3)  # type: ignore[misc]
    assert len(first) == len(second) == 3
    assert times[first][0] == 0.0
    assert times[second][-1] == 10.0


def test_a_track_with_no_crop_after_the_gap_has_no_halves() -> None:
    times = np.array([0.0, 0.5, 1.0, 4.9])
    assert split_halves(times, 0.0, 10.0, gap_s=1.0, per_half=4) is None


def test_co_occurrence_needs_overlap_in_the_same_footage() -> None:
    starts = np.array([0.0, 5.0, 20.0, 1.0])
    ends = np.array([10.0, 15.0, 30.0, 9.0])
    groups = np.array(["a", "a", "a", "b"])
    pairs = co_occurring(starts, ends, groups)
    # 0 and 1 overlap; 2 is alone in time; 3 overlaps 0 in time but is another footage.
    assert pairs.tolist() == [[0, 1]]
    # Touching spans (one ends as the other starts) are not simultaneous.
    assert co_occurring(np.array([0.0, 10.0]), np.array([10.0, 20.0]), np.array(["a", "a"])).shape == (0, 2)


def test_free_labels_drop_short_tracks_and_pair_only_used_ones() -> None:
    tracks = [
        track("a", 1, 0.0, 10.0), track("a", 2, 2.0, 12.0),
        track("a", 3, 3.0, 5.0),  # too short: not used, even though it co-occurs
        track("a", 4, 40.0, 50.0),
    ]
    labels = free_labels(tracks, min_duration_s=4.0, gap_s=1.0, per_half=4)
    assert labels.tracks.tolist() == [0, 1, 3]
    assert labels.negatives.tolist() == [[0, 1]]
    with pytest.raises(ValueError, match="gap_s"):
        free_labels(tracks, min_duration_s=1.0, gap_s=2.0)


def test_scores_reward_an_embedding_that_tells_tracks_apart() -> None:
    tracks = [track("a", k, 0.0 + k, 10.0 + k) for k in range(4)] + [track("b", 9, 0.0, 8.0)]
    labels = free_labels(tracks, min_duration_s=4.0, gap_s=1.0)
    rng = np.random.default_rng(0)
    # Each track has its own direction plus noise: the halves of one track match.
    dirs = rng.normal(size=(len(tracks), 16))
    good = [dirs[k] + 0.1 * rng.normal(size=(len(t.crops), 16)) for k, t in enumerate(tracks)]
    good = [v / np.linalg.norm(v, axis=1, keepdims=True) for v in good]
    first, second = half_vectors(good, labels)
    scores = score_lane(first, second, labels)
    assert scores["a"]["rank1"] == 100.0
    assert scores["a"]["mAP"] == 100.0
    assert scores["a"]["auc"] == 1.0
    assert scores["a"]["gap"] > 0.5
    assert scores["pooled"]["queries"] == 5
    # Footage b has one track: its only gallery item is its own second half.
    assert scores["b"]["chance_rank1"] == 100.0
    # A constant embedding earns nothing: ties count against the true match.
    const = [np.ones((len(t.crops), 16), np.float32) / 4.0 for t in tracks]
    first, second = half_vectors(const, labels)
    flat = score_lane(first, second, labels)
    assert flat["a"]["rank1"] == 0.0
    assert flat["a"]["auc"] == 0.5
    assert flat["a"]["mAP"] == 25.0


def test_roc_auc_counts_ties_half() -> None:
    assert roc_auc(np.array([0.9, 0.8]), np.array([0.1, 0.2])) == 1.0
    assert roc_auc(np.array([0.5]), np.array([0.5])) == 0.5
    assert roc_auc(np.array([0.1]), np.array([0.2, 0.0])) == 0.5


def test_span_clips_tracks_to_a_fraction_of_the_footage() -> None:
    tracks = [track("a", 1, 0.0, 20.0, n=21), track("a", 2, 70.0, 90.0, n=21)]
    early = restrict_span(tracks, {"a": 100.0}, 0.0, 0.6)
    late = restrict_span(tracks, {"a": 100.0}, 0.6, 1.0)
    assert [t.track_id for t in early] == [1]
    assert [t.track_id for t in late] == [2]
    clipped = restrict_span(tracks, {"a": 100.0}, 0.0, 0.1)
    assert clipped[0].end_s == 9.0
    assert clipped[0].crop_times_s.max() < 10.0


def test_saved_tracks_come_back_pixel_for_pixel(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    t = FootageTrack(footage="cam 1.mp4", track_id=7, start_s=1.0, end_s=3.0,
                     crop_times_s=np.array([1.0, 2.0, 3.0]),
                     crops=tuple(rng.integers(0, 256, (30 + k, 12, 3), dtype=np.uint8) for k in range(3)))
    save_tracks(tmp_path / "t.npz", Footage([t], {"cam 1.mp4": 5.0}))
    back = load_tracks(tmp_path / "t.npz")
    assert back.durations == {"cam 1.mp4": 5.0}
    (u,) = back.tracks
    assert (u.footage, u.track_id, u.start_s, u.end_s) == ("cam 1.mp4", 7, 1.0, 3.0)
    assert all(np.array_equal(a, b) for a, b in zip(t.crops, u.crops, strict=True))
