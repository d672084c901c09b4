"""Re-linking broken tracks by appearance, time and motion, on synthetic detections with features."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from reid_engine.config import config_from_dict
from reid_engine.errors import ConfigError
from reid_engine.track import ByteTrackConfig, RelinkConfig, TrackerConfig, build_tracker, relink_tracks
from reid_engine.types import Detections, Tracklet

FPS = 5.0  # sampled frames per second
RNG = np.random.default_rng(0)
LOOKS = {
    name: v / np.linalg.norm(v) for name, v in (("red", RNG.normal(size=16)), ("blue", RNG.normal(size=16)))
}
# Where someone is at update t, or None while unseen: (centre x, centre y, height).
Path = Callable[[int], tuple[float, float, float] | None]


def run_tracker(
    steps: int, people: dict[str, tuple[Path, str]]
) -> tuple[list[Tracklet], list[np.ndarray], dict[int, set[str]]]:
    """Track the named people; per track, the mean of its detections' features and who it followed."""
    tracker = build_tracker(TrackerConfig(bytetrack=ByteTrackConfig(track_buffer=5)))
    rows: dict[int, list[tuple[int, np.ndarray]]] = {}
    features: dict[int, list[np.ndarray]] = {}
    who: dict[int, set[str]] = {}
    for t in range(steps):
        boxes, feats, names = [], [], []
        for name, (path, look) in people.items():
            pos = path(t)
            if pos is None:
                continue
            cx, cy, h = pos
            boxes.append([cx - 0.2 * h, cy - 0.5 * h, cx + 0.2 * h, cy + 0.5 * h])
            feat = LOOKS[look] + RNG.normal(scale=0.05, size=16)
            feats.append(feat / np.linalg.norm(feat))
            names.append(name)
        dets = Detections(
            frame_index=2 * t,
            boxes_xyxy=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
            scores=np.full(len(boxes), 0.9, dtype=np.float32),
        )
        out = tracker.update(dets)
        for tracks in [*tracker.take_backfill(), out]:
            assert tracks.detection_indices is not None
            for tid, box, det in zip(
                tracks.track_ids, tracks.boxes_xyxy, tracks.detection_indices, strict=True
            ):
                rows.setdefault(int(tid), []).append((tracks.frame_index, box))
                features.setdefault(int(tid), []).append(feats[det])
                who.setdefault(int(tid), set()).add(names[det])
    tracklets, embeddings = [], []
    for tid in sorted(rows):
        frames = np.asarray([f for f, _ in rows[tid]], dtype=np.int64)
        tracklets.append(
            Tracklet(
                track_id=tid,
                frame_indices=frames,
                timestamps_s=frames / (2 * FPS),
                boxes_xyxy=np.stack([b for _, b in rows[tid]]),
                scores=np.full(len(frames), 0.9, dtype=np.float32),
                best_crops=(),
            )
        )
        mean = np.mean(features[tid], axis=0)
        embeddings.append(mean / np.linalg.norm(mean))
    return tracklets, embeddings, who


def walk_with_absence(x0: float, vx: float, gone: range, *, jump: float = 0.0, end: int = 100) -> Path:
    """Walks right at ``vx`` px per update, unseen during ``gone``, then continues ``jump`` px further on."""

    def at(t: int) -> tuple[float, float, float] | None:
        if t in gone or t >= end:
            return None
        return x0 + vx * t + (jump if t >= gone.stop else 0.0), 200.0, 100.0

    return at


def ids_of(tracklets: list[Tracklet], chains: list[list[int]]) -> list[list[int]]:
    return [[tracklets[i].track_id for i in chain] for chain in chains]


def test_a_person_lost_for_longer_than_the_buffer_comes_back_elsewhere_under_the_same_id() -> None:
    # Gone for 10 updates (2 s), back 60 px off the straight line: the tracker gives up, appearance does not.
    people = {"a": (walk_with_absence(100, 10, range(8, 18), jump=60), "red")}
    tracklets, embeddings, who = run_tracker(30, people)
    assert len(tracklets) == 2
    chains = relink_tracks(tracklets, embeddings, RelinkConfig(max_gap_s=3.0, min_similarity=0.9))
    assert ids_of(tracklets, chains) == [[tracklets[0].track_id, tracklets[1].track_id]]
    assert all(names == {"a"} for names in who.values())


def test_someone_who_looks_different_is_not_re_linked() -> None:
    # "a" leaves at t=8; "b", dressed differently, walks on from where "a" would have been.
    people = {
        "a": (walk_with_absence(100, 10, range(8, 100)), "red"),
        "b": (lambda t: None if t < 18 else (100 + 10 * t + 60, 200.0, 100.0), "blue"),
    }
    tracklets, embeddings, _ = run_tracker(30, people)
    assert len(tracklets) == 2
    chains = relink_tracks(tracklets, embeddings, RelinkConfig(max_gap_s=3.0, min_similarity=0.9))
    assert len(chains) == 2


def test_a_person_back_after_the_window_is_not_re_linked() -> None:
    people = {"a": (walk_with_absence(100, 5, range(8, 28), jump=20), "red")}
    tracklets, embeddings, _ = run_tracker(40, people)
    assert len(tracklets) == 2
    gap_s = float(tracklets[1].timestamps_s[0] - tracklets[0].timestamps_s[-1])
    assert gap_s == pytest.approx(4.2)
    assert len(relink_tracks(tracklets, embeddings, RelinkConfig(max_gap_s=4.0, min_similarity=0.9))) == 2
    assert len(relink_tracks(tracklets, embeddings, RelinkConfig(max_gap_s=4.5, min_similarity=0.9))) == 1


def test_a_look_alike_too_far_away_to_have_walked_there_is_not_re_linked() -> None:
    # Back after 2 s, 600 px (6 body heights) away: more than 1.5 heights/s plus one height of slack.
    people = {"a": (walk_with_absence(50, 5, range(8, 18), jump=550), "red")}
    tracklets, embeddings, _ = run_tracker(25, people)
    assert len(tracklets) == 2
    assert len(relink_tracks(tracklets, embeddings, RelinkConfig(max_speed=1.5))) == 2
    assert len(relink_tracks(tracklets, embeddings, RelinkConfig(max_speed=3.0))) == 1


def test_two_people_seen_at_the_same_time_are_never_joined() -> None:
    people = {
        "a": (walk_with_absence(100, 10, range(0)), "red"),
        "twin": (walk_with_absence(400, -10, range(0)), "red"),
    }
    tracklets, embeddings, _ = run_tracker(12, people)
    assert len(tracklets) == 2
    assert len(relink_tracks(tracklets, embeddings, RelinkConfig(min_similarity=-1.0, max_speed=100.0))) == 2


def test_each_track_gets_at_most_one_successor_the_most_similar() -> None:
    # One track ends; two candidates start later near its end: the closer look wins, the other stays apart.
    frames = np.array([0, 2, 4], dtype=np.int64)
    box = np.array([[100, 100, 140, 200]] * 3, dtype=np.float32)

    def t(tid: int, start: int) -> Tracklet:
        f = frames + start
        return Tracklet(
            track_id=tid,
            frame_indices=f,
            timestamps_s=f / 10.0,
            boxes_xyxy=box,
            scores=np.ones(3, np.float32),
            best_crops=(),
        )

    base = LOOKS["red"]
    near = base + 0.1 * LOOKS["blue"]
    far = base + 0.3 * LOOKS["blue"]
    tracklets = [t(1, 0), t(2, 10), t(3, 10)]
    embeddings = [base, far / np.linalg.norm(far), near / np.linalg.norm(near)]
    chains = relink_tracks(tracklets, embeddings, RelinkConfig(min_similarity=0.5))
    assert ids_of(tracklets, chains) == [[1, 3], [2]]


def test_tracks_without_an_embedding_or_with_relinking_off_stay_apart() -> None:
    people = {"a": (walk_with_absence(100, 10, range(8, 18), jump=60), "red")}
    tracklets, embeddings, _ = run_tracker(30, people)
    assert len(relink_tracks(tracklets, [embeddings[0], None], RelinkConfig())) == 2
    assert len(relink_tracks(tracklets, embeddings, RelinkConfig(enabled=False))) == 2
    with pytest.raises(ValueError, match="embeddings"):
        relink_tracks(tracklets, embeddings[:1], RelinkConfig())


def test_relink_config_loads_from_a_table_and_rejects_bad_values() -> None:
    cfg = config_from_dict(
        TrackerConfig, {"relink": {"max_gap_s": 5.0, "min_similarity": 0.7}, "max_gap_s": 0.0}
    )
    assert cfg.relink.max_gap_s == 5.0
    assert cfg.max_gap_s == 0.0
    with pytest.raises(ConfigError, match=r"unknown config key relink\.window"):
        config_from_dict(TrackerConfig, {"relink": {"window": 3}})
    with pytest.raises(ConfigError, match="max_gap_s"):
        config_from_dict(TrackerConfig, {"relink": {"max_gap_s": 0}})
    with pytest.raises(ConfigError, match="max_gap_s"):
        config_from_dict(TrackerConfig, {"max_gap_s": -1.0})
