"""The ``Detector`` contract, over every detector the engine builds, on real vtest frames.

Each implementation is built by ``build_detector`` from a ``DetectorConfig``, as the product builds
it; what each one finds, and how well, is for its own test module.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from reid_engine.detect import (
    Detector,
    DetectorConfig,
    MoveNetConfig,
    MoveNetDetector,
    OnnxYoloConfig,
    build_detector,
)
from reid_engine.types import Detections, Frame
from tests.reid_engine.detect.tiny_yolo import INPUT, write_yolo_model

REAL_FRAMES = (0, 250)
CheckDetections = Callable[..., None]  # the ``check_detections`` fixture
# Per detector: whether its records carry keypoints.
KEYPOINTS = {"hog": False, "movenet-torch": True, "movenet-onnxruntime": True, "onnx-yolo": False}


def detector_config(kind: str, tmp_path_factory: pytest.TempPathFactory) -> DetectorConfig:
    match kind:
        case "hog":
            return DetectorConfig(kind="hog")
        case "movenet-torch":
            return DetectorConfig(kind="movenet", num_threads=1, movenet=MoveNetConfig(runtime="torch"))
        case "movenet-onnxruntime":
            return DetectorConfig(kind="movenet", num_threads=1, movenet=MoveNetConfig(runtime="onnxruntime"))
        case "onnx-yolo":
            model = write_yolo_model(tmp_path_factory.mktemp("yolo") / "people.onnx", "yolov8")
            onnx = OnnxYoloConfig(model_path=str(model), input_width=INPUT, input_height=INPUT)
            return DetectorConfig(kind="onnx", num_threads=1, onnx=onnx)
    raise ValueError(kind)


@pytest.fixture(scope="module", params=sorted(KEYPOINTS))
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def detector(kind: str, data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Detector:
    return build_detector(detector_config(kind, tmp_path_factory), data_dir=data_dir)


@pytest.fixture(scope="module")
def frames(vtest_frames: dict[int, Frame]) -> list[Frame]:
    return [vtest_frames[i] for i in REAL_FRAMES]


@pytest.fixture(scope="module")
def results(detector: Detector, frames: list[Frame]) -> list[Detections]:
    return detector.detect(frames)


def test_detector_returns_one_valid_record_per_real_frame(
    kind: str,
    detector: Detector,
    frames: list[Frame],
    results: list[Detections],
    check_detections: CheckDetections,
) -> None:
    assert len(results) == len(frames)
    for dets, frame in zip(results, frames, strict=True):
        check_detections(dets, frame, keypoints=KEYPOINTS[kind])
    # The checks above ran over real boxes, not over empty lists.
    assert sum(len(d) for d in results) > 0
    if isinstance(detector, MoveNetDetector):
        assert detector.runtime.split(":")[0] == kind.removeprefix("movenet-")


def test_detector_gives_identical_output_for_the_same_frames_twice(
    detector: Detector, frames: list[Frame], results: list[Detections]
) -> None:
    for first, again in zip(results, detector.detect(frames), strict=True):
        np.testing.assert_array_equal(first.boxes_xyxy, again.boxes_xyxy)
        np.testing.assert_array_equal(first.scores, again.scores)
        if first.keypoints is None:
            assert again.keypoints is None
        else:
            assert again.keypoints is not None
            np.testing.assert_array_equal(first.keypoints, again.keypoints)


def test_detector_gives_valid_empty_records_for_a_black_or_tiny_frame(
    kind: str, detector: Detector, check_detections: CheckDetections
) -> None:
    black = Frame(index=1, pts_s=0.1, image=np.zeros((576, 768, 3), dtype=np.uint8))
    tiny = Frame(index=2, pts_s=0.2, image=np.zeros((8, 8, 3), dtype=np.uint8))
    # MoveNet's "onnxruntime" runtime runs only the input sizes set-up exported (the footage's);
    # an 8x8 frame needs another, which that setting refuses by design and "auto" runs in torch.
    blank = [black] if kind == "movenet-onnxruntime" else [black, tiny]
    for dets, frame in zip(detector.detect(blank), blank, strict=True):
        check_detections(dets, frame, keypoints=KEYPOINTS[kind])
        # The stand-in YOLO model scores by the brightest red in its input, and the grey letterbox
        # padding has some; only real models must find nobody here.
        if kind != "onnx-yolo":
            assert len(dets) == 0


def test_detector_handles_an_empty_batch(detector: Detector) -> None:
    assert detector.detect([]) == []


def test_detector_rejects_a_frame_that_is_not_rgb_uint8(detector: Detector) -> None:
    gray = Frame(index=0, pts_s=0.0, image=np.zeros((64, 64), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        detector.detect([gray])


def test_detector_has_a_name(detector: Detector) -> None:
    assert isinstance(detector.name, str)
    assert detector.name
