"""Motion gating and the calm-scene stride: fewer detector runs, every person still found."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import pytest

from reid_engine.config import load_config
from reid_engine.detect.boxes import clip_boxes
from reid_engine.eval.mot import score_mot, tracklet_rows
from reid_engine.ingest.gating import Decision, DetectionGate, GatingConfig
from reid_engine.pipeline import Pipeline, PipelineConfig, build_pipeline
from reid_engine.synth.scenes import SceneSetConfig, generate_scenes
from reid_engine.types import Detections, Frame, IngestResult

UNGATED = ["gating.motion=false", "gating.detect_every=1"]


class CountingDetector:
    """Ground-truth boxes of a SynthCC scene as detections, counting the frames it is asked about."""

    name = "ground-truth"

    def __init__(self, gt: np.ndarray) -> None:
        self.gt = gt
        self.calls = 0

    def detect(self, frames: Sequence[Frame]) -> list[Detections]:
        out = []
        for frame in frames:
            self.calls += 1
            rows = self.gt[(self.gt[:, 0] == frame.index + 1) & (self.gt[:, 8] >= 0.3)]
            h, w = frame.image.shape[:2]
            boxes = clip_boxes(np.concatenate([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]], axis=1), w, h)
            scores = np.full(len(rows), 0.9, np.float32)
            out.append(Detections(frame_index=frame.index, boxes_xyxy=boxes, scores=scores))
        return out


def people_found(result: IngestResult, reference: IngestResult) -> list[bool]:
    """For each reference tracklet: does one tracklet of ``result`` overlap it (IoU >= 0.5) in at
    least half of the frames they share?"""
    rows = tracklet_rows(e.tracklet for e in result.tracklets)
    found = []
    for ref in reference.tracklets:
        t = ref.tracklet
        best = 0.0
        for track_id in np.unique(rows[:, 1]):
            mine = rows[rows[:, 1] == track_id]
            hits = shared = 0
            for frame, box in zip(t.frame_indices, t.boxes_xyxy, strict=True):
                at = mine[mine[:, 0] == frame + 1]
                if len(at):
                    shared += 1
                    other = np.concatenate([at[0, 2:4], at[0, 2:4] + at[0, 4:6]])
                    hits += _iou(box, other) >= 0.5
            best = max(best, hits / max(len(t.frame_indices), 1))
        found.append(best >= 0.5)
    return found


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    return float(inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter))


def test_the_gate_reuses_detections_on_a_frozen_picture_and_detects_when_it_changes() -> None:
    gate = DetectionGate(GatingConfig(max_static_s=10.0))
    still = np.full((120, 160, 3), 90, np.uint8)
    moved = still.copy()
    cv2.rectangle(moved, (40, 30), (60, 90), (220, 200, 180), -1)  # someone walks in
    decisions = [
        gate.decide(Frame(index=i, pts_s=i * 0.2, image=img), {}, set())
        for i, img in enumerate([still, still, still, moved, moved])
    ]
    assert decisions == [Decision.DETECT, Decision.REUSE, Decision.REUSE, Decision.DETECT, Decision.REUSE]
    # A static scene is still looked at every max_static_s.
    gate = DetectionGate(GatingConfig(max_static_s=0.5))
    decisions = [gate.decide(Frame(index=i, pts_s=i * 0.2, image=still), {}, set()) for i in range(6)]
    assert decisions.count(Decision.DETECT) == 2


@pytest.fixture(scope="module")
def loaded(data_dir: Path) -> Pipeline:
    import torch

    torch.set_num_threads(1)
    return build_pipeline(load_config(PipelineConfig, None, ["detector.kind='movenet'"]), data_dir=data_dir)


@pytest.fixture(scope="module")
def frozen_vtest(vtest_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s of vtest.avi whose middle 3 s are one frame repeated (a camera that froze, a quiet
    stretch): people walk, stand perfectly still, walk on."""
    dest = tmp_path_factory.mktemp("gating") / "frozen.avi"
    cap = cv2.VideoCapture(str(vtest_path))
    out = cv2.VideoWriter(str(dest), cv2.VideoWriter_fourcc(*"MJPG"), 10, (768, 576))
    for index in range(50):
        ok, bgr = cap.read()
        assert ok
        out.write(bgr)
        if index == 24:
            for _ in range(30):
                out.write(bgr)
    out.release()
    return dest


def test_motion_gating_keeps_every_person_of_vtest(loaded: Pipeline, frozen_vtest: Path) -> None:
    def run(overrides: list[str]) -> IngestResult:
        config = load_config(PipelineConfig, None, ["detector.kind='movenet'", *overrides])
        return Pipeline(config, loaded.detector, loaded.embedder).run(frozen_vtest)

    reference = run(UNGATED)
    gated = run(["gating.motion=true", "gating.detect_every=1"])
    assert reference.frame_decisions["detect"] == 40
    # The frozen stretch (14 of 15 sampled frames) is not detected again.
    assert gated.frame_decisions["reuse"] >= 12
    assert len(reference.tracklets) >= 5
    assert all(people_found(gated, reference))


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    out = tmp_path_factory.mktemp("scene") / "set"
    generate_scenes(out, SceneSetConfig(seed=4, cameras=1, duration=15.0, people=3, width=640, height=360))
    gt = np.loadtxt(out / "cam0" / "gt" / "gt.txt", delimiter=",", ndmin=2)
    return out / "cam0" / "video.mp4", gt


@pytest.mark.parametrize(
    "gating", [["gating.motion=true"], ["gating.motion=true", "gating.detect_every=3"]]
)
def test_gating_keeps_every_person_of_a_synthcc_scene(
    loaded: Pipeline, scene: tuple[Path, np.ndarray], gating: list[str]
) -> None:
    video, gt = scene

    def run(overrides: list[str]) -> tuple[IngestResult, int]:
        config = load_config(PipelineConfig, None, ["detector.kind='hog'", *overrides])
        detector = CountingDetector(gt)
        return Pipeline(config, detector, loaded.embedder).run(video), detector.calls

    (reference, all_calls), (gated, calls) = run(UNGATED), run(gating)
    assert calls == gated.frame_decisions["detect"] <= all_calls
    assert len(reference.tracklets) >= 3
    assert all(people_found(gated, reference))
    frames = range(1, int(gt[:, 0].max()) + 1, 2)
    mota = [
        score_mot(gt[:, :6], tracklet_rows(e.tracklet for e in r.tracklets), frames=frames)["mota"]
        for r in (reference, gated)
    ]
    assert mota[1] >= mota[0] - 0.05
    if "gating.detect_every=3" in gating:
        assert calls < all_calls
