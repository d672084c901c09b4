"""Contract tests for every tracker, ByteTrack on synthetic walkers, and a short run on real footage."""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np
import pytest

from reid_engine.config import config_from_dict
from reid_engine.detect import DetectorConfig, build_detector
from reid_engine.errors import ConfigError
from reid_engine.track import ByteTrackConfig, Tracker, TrackerConfig, build_tracker
from reid_engine.types import Detections, Frame, Tracks

logger = logging.getLogger(__name__)

DATA_DIR = Path(os.environ.get("LONGVIEW_DATA_DIR", Path(__file__).resolve().parents[3] / "var")).resolve()
VTEST = DATA_DIR / "data" / "vtest.avi"
TRACKER_CONFIGS = {"bytetrack": TrackerConfig(kind="bytetrack")}

# A walker at 5 sampled frames per second: a box 40x100 moving about 15 px per update.
Person = Callable[[int], tuple[float, float, float] | None]


def walker(x0: float, y0: float, vx: float, h: float = 100.0, vy: float = 0.0) -> Person:
    def at(t: int) -> tuple[float, float, float]:
        return x0 + vx * t, y0 + vy * t, h

    return at


def make_dets(
    frame_index: int, people: Iterable[tuple[float, float, float]], scores: Iterable[float]
) -> Detections:
    boxes = [[cx - 0.2 * h, cy - 0.5 * h, cx + 0.2 * h, cy + 0.5 * h] for cx, cy, h in people]
    return Detections(
        frame_index=frame_index,
        boxes_xyxy=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        scores=np.asarray(list(scores), dtype=np.float32),
    )


def run(tracker: Tracker, frames: list[Detections]) -> list[Tracks]:
    return [tracker.update(d) for d in frames]


def ids_by_person(
    outputs: list[Tracks], frames: list[Detections], labels: list[list[str]]
) -> dict[str, set[int]]:
    """Which track ids each labelled synthetic person received, via the exact detection boxes."""
    seen: dict[str, set[int]] = defaultdict(set)
    for out, dets, names in zip(outputs, frames, labels, strict=True):
        for tid, box in zip(out.track_ids, out.boxes_xyxy, strict=True):
            row = int(np.flatnonzero((dets.boxes_xyxy == box).all(axis=1))[0])
            seen[names[row]].add(int(tid))
    return seen


def scenario(
    steps: int, people: dict[str, Person], score: Callable[[str, int], float | None] | None = None
) -> tuple[list[Detections], list[list[str]]]:
    """Detections of named people over ``steps`` updates; ``score`` returns None to drop one."""
    frames, labels = [], []
    for t in range(steps):
        boxes, scores, names = [], [], []
        for name, person in people.items():
            s = 0.9 if score is None else score(name, t)
            if s is None:
                continue
            pos = person(t)
            if pos is None:
                continue
            boxes.append(pos)
            scores.append(s)
            names.append(name)
        frames.append(make_dets(t * 2, boxes, scores))
        labels.append(names)
    return frames, labels


@pytest.fixture(params=sorted(TRACKER_CONFIGS))
def tracker(request: pytest.FixtureRequest) -> Tracker:
    return build_tracker(TRACKER_CONFIGS[request.param])


def test_tracker_outputs_have_documented_shapes_and_dtypes(tracker: Tracker) -> None:
    frames, _ = scenario(8, {"a": walker(100, 200, 15), "b": walker(400, 220, -15, h=110)})
    for dets, out in zip(frames, run(tracker, frames), strict=True):
        assert out.frame_index == dets.frame_index
        assert out.track_ids.dtype == np.int64
        assert out.track_ids.shape == (len(out),)
        assert out.boxes_xyxy.dtype == np.float32
        assert out.boxes_xyxy.shape == (len(out), 4)
        assert out.scores.dtype == np.float32
        assert out.scores.shape == (len(out),)
        assert np.isfinite(out.boxes_xyxy).all()
        assert np.isfinite(out.scores).all()
        assert len(np.unique(out.track_ids)) == len(out)
        for box in out.boxes_xyxy:
            assert (dets.boxes_xyxy == box).all(axis=1).any()


def test_tracker_handles_frames_without_detections(tracker: Tracker) -> None:
    empty = make_dets(0, [], [])
    out = tracker.update(empty)
    assert len(out) == 0
    assert out.boxes_xyxy.shape == (0, 4)
    assert out.track_ids.dtype == np.int64


def test_tracker_is_deterministic() -> None:
    frames, _ = scenario(20, {"a": walker(100, 200, 15), "b": walker(400, 230, -15, h=110)})
    for name, cfg in TRACKER_CONFIGS.items():
        first, second = run(build_tracker(cfg), frames), run(build_tracker(cfg), frames)
        for a, b in zip(first, second, strict=True):
            assert np.array_equal(a.track_ids, b.track_ids), name
            assert np.array_equal(a.boxes_xyxy, b.boxes_xyxy), name


def test_tracker_rejects_malformed_detections(tracker: Tracker) -> None:
    bad = Detections(frame_index=0, boxes_xyxy=np.zeros((2, 4), np.float32), scores=np.zeros(3, np.float32))
    with pytest.raises(ValueError, match="scores"):
        tracker.update(bad)
    nan = make_dets(0, [(np.nan, 10.0, 50.0)], [0.9])
    with pytest.raises(ValueError, match="NaN"):
        tracker.update(nan)


def test_tracks_are_reported_only_once_confirmed_and_ids_start_at_one(tracker: Tracker) -> None:
    frames, _ = scenario(3, {"a": walker(100, 200, 15)})
    outs = run(tracker, frames)
    assert len(outs[0]) == 0
    assert outs[1].track_ids.tolist() == [1]
    assert outs[2].track_ids.tolist() == [1]


def test_two_people_crossing_keep_their_ids(tracker: Tracker) -> None:
    people = {"a": walker(100, 200, 16), "b": walker(420, 215, -16, h=110)}
    frames, labels = scenario(25, people)
    seen = ids_by_person(run(tracker, frames), frames, labels)
    assert len(seen["a"]) == 1
    assert len(seen["b"]) == 1
    assert seen["a"] != seen["b"]


def test_person_hidden_within_the_buffer_comes_back_with_the_same_id(tracker: Tracker) -> None:
    def score(name: str, t: int) -> float | None:
        return None if name == "a" and 8 <= t < 14 else 0.9

    people = {"a": walker(100, 200, 12), "b": walker(600, 300, 0, h=120)}
    frames, labels = scenario(24, people, score)
    seen = ids_by_person(run(tracker, frames), frames, labels)
    assert len(seen["a"]) == 1
    assert len(seen["b"]) == 1


def test_person_standing_still_who_leaves_and_returns_within_the_buffer_keeps_the_id() -> None:
    cfg = ByteTrackConfig(track_buffer=10)

    def score(name: str, t: int) -> float | None:
        return None if 5 <= t < 13 else 0.9

    frames, labels = scenario(18, {"a": walker(300, 200, 0)}, score)
    seen = ids_by_person(run(build_tracker(TrackerConfig(bytetrack=cfg)), frames), frames, labels)
    assert seen["a"] == {1}


def test_person_gone_longer_than_the_buffer_gets_a_new_id() -> None:
    cfg = ByteTrackConfig(track_buffer=3)

    def score(name: str, t: int) -> float | None:
        return None if 5 <= t < 10 else 0.9

    frames, labels = scenario(14, {"a": walker(300, 200, 0)}, score)
    seen = ids_by_person(run(build_tracker(TrackerConfig(bytetrack=cfg)), frames), frames, labels)
    assert seen["a"] == {1, 2}


def test_scattered_missed_detections_do_not_break_a_track(tracker: Tracker) -> None:
    def score(name: str, t: int) -> float | None:
        return None if t % 3 == 2 else 0.9

    frames, labels = scenario(30, {"a": walker(50, 200, 15, vy=2)}, score)
    seen = ids_by_person(run(tracker, frames), frames, labels)
    assert seen["a"] == {1}


def test_low_score_detections_extend_a_track_through_the_second_stage(tracker: Tracker) -> None:
    def score(name: str, t: int) -> float | None:
        return 0.3 if 6 <= t < 12 else 0.9

    frames, _labels = scenario(16, {"a": walker(100, 200, 14)}, score)
    outs = run(tracker, frames)
    assert all(out.track_ids.tolist() == [1] for out in outs[1:])
    assert np.allclose(outs[8].scores, 0.3)


def test_low_score_detections_never_start_a_track(tracker: Tracker) -> None:
    frames, _ = scenario(10, {"clutter": walker(300, 200, 0)}, lambda name, t: 0.3)
    assert all(len(out) == 0 for out in run(tracker, frames))


def test_track_ids_are_never_reused_even_after_reset(tracker: Tracker) -> None:
    frames, _ = scenario(4, {"a": walker(100, 200, 15), "b": walker(400, 200, 0)})
    first = {int(i) for out in run(tracker, frames) for i in out.track_ids}
    tracker.reset()
    assert len(tracker.update(frames[0])) == 0
    second = {int(i) for out in run(tracker, frames[1:]) for i in out.track_ids}
    assert first == {1, 2}
    assert second
    assert not first & second


def test_tracker_config_loads_from_a_table_and_rejects_bad_values() -> None:
    cfg = config_from_dict(TrackerConfig, {"bytetrack": {"track_buffer": 15, "min_hits": 3}})
    assert cfg.bytetrack.track_buffer == 15
    with pytest.raises(ConfigError):
        config_from_dict(TrackerConfig, {"bytetrack": {"low_score": 0.8, "high_score": 0.5}})
    with pytest.raises(ConfigError):
        config_from_dict(TrackerConfig, {"kind": "sort"})


def test_hog_and_bytetrack_on_vtest_at_5_fps_give_plausible_tracks() -> None:
    if not VTEST.is_file():
        pytest.fail(f"{VTEST} is missing: run `make setup` first")
    # 8 s of the busiest part of the clip, every second frame of 10 fps = 5 fps.
    cap = cv2.VideoCapture(str(VTEST))
    frames = []
    for index in range(280):
        ok, bgr = cap.read()
        assert ok
        if index >= 200 and index % 2 == 0:
            rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
            frames.append(Frame(index=index, pts_s=index / 10.0, image=rgb))
    cap.release()
    detections = build_detector(DetectorConfig(num_threads=2)).detect(frames)
    tracker = build_tracker(TrackerConfig())
    lengths: dict[int, int] = defaultdict(int)
    active = []
    for dets in detections:
        out = tracker.update(dets)
        active.append(len(out))
        for tid in out.track_ids:
            lengths[int(tid)] += 1
    logger.info(
        "vtest frames 200-278 at 5 fps: %d tracks, lengths %s, %.1f reported per frame",
        len(lengths),
        sorted(lengths.values(), reverse=True),
        float(np.mean(active)),
    )
    # By eye 9 people walk through these 8 s; an IoU tracker fragments a few of them where they
    # pass behind the lamp post or each other.
    assert 5 <= len(lengths) <= 20
    assert np.mean(active) >= 3
    assert sum(n >= 10 for n in lengths.values()) >= 4


def test_backfill_has_the_documented_shapes_and_is_empty_without_confirmations(tracker: Tracker) -> None:
    frames, _ = scenario(6, {"a": walker(100, 200, 15), "b": walker(400, 220, -15, h=110)})
    for dets in frames:
        tracker.update(dets)
        for old in tracker.take_backfill():
            assert old.frame_index < dets.frame_index
            assert old.track_ids.dtype == np.int64
            assert old.boxes_xyxy.dtype == np.float32
            assert old.boxes_xyxy.shape == (len(old), 4)
            assert old.scores.dtype == np.float32
            assert old.scores.shape == (len(old),)
        assert tracker.take_backfill() == []


@pytest.mark.parametrize("min_hits", [2, 3])
def test_the_frames_before_confirmation_are_reported_once_after_it(min_hits: int) -> None:
    tracker = build_tracker(TrackerConfig(bytetrack=ByteTrackConfig(min_hits=min_hits)))
    frames, _ = scenario(5, {"a": walker(100, 200, 15)})
    backfills = []
    for dets in frames:
        out = tracker.update(dets)
        backfills.append(tracker.take_backfill())
        assert tracker.take_backfill() == []
        assert (len(out) == 1) == (dets.frame_index >= frames[min_hits - 1].frame_index)
    confirmed_at = min_hits - 1
    assert [len(b) for b in backfills] == [0] * confirmed_at + [min_hits - 1] + [0] * (len(frames) - min_hits)
    for old, dets in zip(backfills[confirmed_at], frames, strict=False):
        assert old.frame_index == dets.frame_index
        assert old.track_ids.tolist() == [1]
        np.testing.assert_array_equal(old.boxes_xyxy, dets.boxes_xyxy)
        assert old.detection_indices is not None
        assert old.detection_indices.tolist() == [0]


def test_a_new_track_can_be_confirmed_by_a_low_score_detection() -> None:
    # A walker whose score swings with the stride: confident, then not, then confident again.
    frames, _ = scenario(4, {"a": walker(100, 200, 15)}, lambda name, t: 0.9 if t % 2 == 0 else 0.3)
    with_low = run(build_tracker(TrackerConfig()), frames)
    assert [out.track_ids.tolist() for out in with_low] == [[], [1], [1], [1]]
    strict = build_tracker(TrackerConfig(bytetrack=ByteTrackConfig(confirm_with_low=False)))
    assert all(len(out) == 0 for out in run(strict, frames))
