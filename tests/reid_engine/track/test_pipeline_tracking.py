"""Tracking inside the ingest pipeline, fed the ground-truth boxes of a SynthCC scene as detections.

With perfect detections every loss is the tracking's own: late confirmation, gaps, cut boxes at
the frame edge, a person hidden too long for the tracker.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from reid_engine.config import load_config
from reid_engine.detect.boxes import clip_boxes
from reid_engine.eval.mot import score_mot, tracklet_rows
from reid_engine.pipeline import Pipeline, PipelineConfig, build_pipeline
from reid_engine.synth.scenes import SceneSetConfig, generate_scenes
from reid_engine.types import Detections, Frame, IngestResult

WIDTH = 640


class GroundTruthDetector:
    """Reports the ground-truth people seen at least ``min_visibility``, cut to the frame.

    Args:
        gt: rows (frame, id, x, y, w, h, conf, class, visibility) with 1-based frames.
        hidden: (track id, first frame, last frame) ranges in which that person is not reported.
    """

    name = "ground-truth"

    def __init__(
        self, gt: np.ndarray, *, hidden: Sequence[tuple[int, int, int]] = (), min_visibility: float = 0.3
    ):
        self.gt = gt
        self.hidden = hidden
        self.min_visibility = min_visibility

    def detect(self, frames: Sequence[Frame]) -> list[Detections]:
        out = []
        for frame in frames:
            rows = self.gt[(self.gt[:, 0] == frame.index + 1) & (self.gt[:, 8] >= self.min_visibility)]
            keep = [not any(tid == r[1] and a <= r[0] <= b for tid, a, b in self.hidden) for r in rows]
            rows = rows[np.asarray(keep, dtype=bool)]
            h, w = frame.image.shape[:2]
            boxes = clip_boxes(np.concatenate([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]], axis=1), w, h)
            out.append(
                Detections(
                    frame_index=frame.index, boxes_xyxy=boxes, scores=np.full(len(rows), 0.9, np.float32)
                )
            )
        return out


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    out = tmp_path_factory.mktemp("scene") / "set"
    generate_scenes(out, SceneSetConfig(seed=4, cameras=1, duration=15.0, people=3, width=WIDTH, height=360))
    gt = np.loadtxt(out / "cam0" / "gt" / "gt.txt", delimiter=",", ndmin=2)
    return out / "cam0" / "video.mp4", gt


@pytest.fixture(scope="module")
def loaded(data_dir: Path) -> Pipeline:
    import torch

    torch.set_num_threads(1)
    # HOG stands in for the detector only to load the embedder; the detections come from the truth.
    return build_pipeline(load_config(PipelineConfig, None, ["detector.kind='hog'"]), data_dir=data_dir)


def ingest(
    loaded: Pipeline, video: Path, detector: GroundTruthDetector, overrides: list[str]
) -> IngestResult:
    config = load_config(PipelineConfig, None, ["detector.kind='hog'", *overrides])
    return Pipeline(config, detector, loaded.embedder).run(video)


def scores(result: IngestResult, gt: np.ndarray) -> dict:  # type: ignore[type-arg]
    # The pipeline samples every second frame of the 10 fps video: MOT frames 1, 3, 5, …
    frames = range(1, int(gt[:, 0].max()) + 1, 2)
    return score_mot(gt[:, :6], tracklet_rows(e.tracklet for e in result.tracklets), frames=frames)


def sampled_rows(gt: np.ndarray, person: int) -> np.ndarray:
    """The person's ground truth on sampled frames where the detector reports them."""
    return gt[(gt[:, 1] == person) & (gt[:, 8] >= 0.3) & (gt[:, 0] % 2 == 1)]


def ids_of_person(result: IngestResult, gt: np.ndarray, person: int) -> set[int]:
    """Track ids reported on the person's detected boxes (same top and bottom-right corner)."""
    rows = tracklet_rows(e.tracklet for e in result.tracklets)
    out = set()
    for row in sampled_rows(gt, person):
        at = rows[(rows[:, 0] == row[0]) & (np.abs(rows[:, 3] - max(row[3], 0.0)) < 1)]
        at = at[np.abs(at[:, 2] + at[:, 4] - min(row[2] + row[4], float(WIDTH))) < 1]
        out.update(int(i) for i in at[:, 1])
    return out


def test_tracks_start_at_their_first_detection_and_reach_past_the_frame_edge(
    loaded: Pipeline, scene: tuple[Path, np.ndarray]
) -> None:
    video, gt = scene
    result = ingest(loaded, video, GroundTruthDetector(gt), [])
    starts = {int(e.tracklet.frame_indices[0]) for e in result.tracklets}
    # The frame the tracker first saw each person in is reported, not only those after confirmation.
    for person in np.unique(gt[:, 1]):
        rows = sampled_rows(gt, int(person))
        if len(rows) >= 3:
            assert int(rows[:, 0].min()) - 1 in starts
    boxes = np.concatenate([e.tracklet.boxes_xyxy for e in result.tracklets])
    assert np.isfinite(boxes).all()
    assert ((boxes[:, 0] < 0) | (boxes[:, 2] > WIDTH)).any()
    plain = ingest(loaded, video, GroundTruthDetector(gt), ["tracker.complete_at_edges=false"])
    plain_boxes = np.concatenate([e.tracklet.boxes_xyxy for e in plain.tracklets])
    assert (plain_boxes[:, 0] >= 0).all()
    assert (plain_boxes[:, 2] <= WIDTH).all()
    assert scores(result, gt)["mota"] > scores(plain, gt)["mota"]
    assert scores(result, gt)["mota"] > 0.8


def test_short_gaps_are_filled_and_a_long_one_is_bridged_by_appearance(
    loaded: Pipeline, scene: tuple[Path, np.ndarray]
) -> None:
    video, gt = scene
    ids, counts = np.unique(gt[gt[:, 8] >= 0.3, 1], return_counts=True)
    person = int(ids[np.argmax(counts)])
    seen = sampled_rows(gt, person)[:, 0].astype(int)
    early, middle = int(seen[len(seen) // 5]), int(seen[len(seen) // 2])
    # Unseen for three sampled frames early on, and for 13 (2.6 s, past the tracker's buffer) later.
    hidden = [(person, early, early + 4), (person, middle, middle + 24)]
    detector = GroundTruthDetector(gt, hidden=hidden)
    apart = ingest(loaded, video, detector, ["tracker.relink.enabled=false", "tracker.max_gap_s=0"])
    assert len(ids_of_person(apart, gt, person)) == 2
    joined = ingest(loaded, video, detector, [])
    (track_id,) = ids_of_person(joined, gt, person)
    assert len(joined.tracklets) == len(apart.tracklets) - 1
    (item,) = [e for e in joined.tracklets if e.tracklet.track_id == track_id]
    track = item.tracklet
    filled = {int(f) + 1 for f in track.frame_indices[track.scores == 0]}
    assert filled == {early, early + 2, early + 4}
    assert np.isin([early - 2, early + 6], track.frame_indices + 1).all()
    assert len(track.best_crops) == 4
    assert np.linalg.norm(item.embedding) == pytest.approx(1.0, abs=1e-5)
