"""ONNX YOLO detectors of both output layouts, on tiny models whose output is known (see tiny_yolo)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reid_engine.config import config_from_dict
from reid_engine.detect import DetectorConfig, OnnxYoloConfig, OnnxYoloDetector, build_detector
from reid_engine.detect.onnx_yolo import decode_yolo, letterbox
from reid_engine.errors import ConfigError, ResourceMissingError
from reid_engine.types import Frame
from tests.reid_engine.detect.tiny_yolo import BAG, INPUT, PERSON, candidate_arrays, write_yolo_model

CheckDetections = Callable[..., None]  # the ``check_detections`` fixture


def red_frame(width: int, height: int, index: int = 0) -> Frame:
    image = np.zeros((height, width, 3), dtype=np.uint8)
    image[..., 0] = 255
    return Frame(index=index, pts_s=index / 10.0, image=image)


def build(path: Path, **kw: Any) -> OnnxYoloDetector:
    onnx_config = OnnxYoloConfig(model_path=str(path), input_width=INPUT, input_height=INPUT, **kw)
    detector = build_detector(DetectorConfig(kind="onnx", onnx=onnx_config))
    assert isinstance(detector, OnnxYoloDetector)
    return detector


@pytest.fixture(scope="module", params=["yolov5", "yolov8"])
def model_path(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_yolo_model(tmp_path_factory.mktemp("onnx") / f"{request.param}.onnx", request.param)


def test_decode_reads_yolov8_columns_as_candidates() -> None:
    boxes, classes = candidate_arrays()
    out = np.concatenate([boxes.T, classes.T])[None]
    xyxy, scores, cls = decode_yolo(out, "yolov8")
    np.testing.assert_allclose(xyxy[0], [54.0, 44.0, 74.0, 84.0])
    np.testing.assert_allclose(scores[:5], [0.9, 0.8, 0.95, 0.05, 0.7], rtol=1e-6)
    assert cls.dtype == np.int64
    assert cls[:5].tolist() == [PERSON, PERSON, BAG, PERSON, PERSON]


def test_decode_multiplies_yolov5_objectness_into_the_class_score() -> None:
    boxes, classes = candidate_arrays()
    objectness = np.linspace(0.2, 1.0, len(boxes), dtype=np.float32)[:, None]
    out = np.concatenate([boxes, objectness, classes], axis=1)[None]
    xyxy, scores, cls = decode_yolo(out, "yolov5")
    np.testing.assert_allclose(xyxy[4], [105.0, 20.0, 135.0, 60.0])
    np.testing.assert_allclose(scores[:3], objectness[:3, 0] * [0.9, 0.8, 0.95], rtol=1e-6)
    assert cls[:3].tolist() == [PERSON, PERSON, BAG]


def test_decode_auto_takes_the_shorter_axis_as_the_candidate_values() -> None:
    rng = np.random.default_rng(0)
    v8 = rng.random((1, 84, 8400), dtype=np.float32)
    v5 = rng.random((1, 25200, 85), dtype=np.float32)
    for out, layout in ((v8, "yolov8"), (v5, "yolov5")):
        for got, want in zip(decode_yolo(out, "auto"), decode_yolo(out, layout), strict=True):
            np.testing.assert_array_equal(got, want)


def test_decode_refuses_outputs_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match="batch 1"):
        decode_yolo(np.zeros((2, 84, 100)), "yolov8")
    with pytest.raises(ValueError, match="more than 5"):
        decode_yolo(np.zeros((1, 100, 5)), "yolov5")
    with pytest.raises(ValueError, match=r"\(1, N, 5\+C\)"):
        decode_yolo(np.zeros((1, 2, 3, 4)), "auto")


def test_letterbox_centres_the_frame_and_maps_boxes_back() -> None:
    image = np.full((100, 200, 3), 255, dtype=np.uint8)
    canvas, fit = letterbox(image, 64, 64, pad_value=114)
    assert canvas.shape == (64, 64, 3)
    assert (fit.scale, fit.pad_x, fit.pad_y) == (0.32, 0, 16)
    assert (canvas[:16] == 114).all()
    assert (canvas[48:] == 114).all()
    assert (canvas[16:48] == 255).all()
    np.testing.assert_allclose(fit.to_frame(np.array([[0.0, 16.0, 64.0, 48.0]])), [[0.0, 0.0, 200.0, 100.0]])


def test_detector_keeps_confident_people_after_nms_in_frame_pixels(
    model_path: Path, check_detections: CheckDetections
) -> None:
    # 256 x 128 into 128 x 128: scale 0.5, 32 px of padding above and below.
    frame = red_frame(256, 128, index=7)
    dets = build(model_path, layout=model_path.stem).detect([frame])[0]
    check_detections(dets, frame, keypoints=False)
    np.testing.assert_allclose(dets.scores, [0.9, 0.7], rtol=1e-5)
    np.testing.assert_allclose(dets.boxes_xyxy[0], [108.0, 24.0, 148.0, 104.0], atol=1e-3)
    # The cut candidate (105..135 in input pixels, 210..270 in the frame) is clipped to the frame.
    np.testing.assert_allclose(dets.boxes_xyxy[1], [210.0, 0.0, 256.0, 56.0], atol=1e-3)


def test_both_layouts_and_auto_find_the_same_people(tmp_path: Path) -> None:
    frame = red_frame(256, 128)
    results = [
        build(write_yolo_model(tmp_path / f"{layout}.onnx", layout), layout=setting).detect([frame])[0]
        for layout, setting in (("yolov5", "yolov5"), ("yolov8", "yolov8"), ("yolov8", "auto"))
    ]
    for other in results[1:]:
        np.testing.assert_allclose(other.boxes_xyxy, results[0].boxes_xyxy, atol=1e-4)
        np.testing.assert_allclose(other.scores, results[0].scores, rtol=1e-5)


def test_frames_are_fed_as_rgb_scaled_to_one(model_path: Path) -> None:
    detector = build(model_path, layout=model_path.stem)
    square_red = red_frame(128, 128)
    blue = Frame(index=1, pts_s=0.1, image=np.zeros((128, 128, 3), dtype=np.uint8))
    blue.image[..., 2] = 255
    red_dets, blue_dets = detector.detect([square_red, blue])
    np.testing.assert_allclose(red_dets.scores, [0.9, 0.7], rtol=1e-5)
    assert len(blue_dets) == 0


def test_thresholds_come_from_the_config(model_path: Path) -> None:
    frame = red_frame(256, 128)
    strict = build(model_path, layout=model_path.stem, min_person_score=0.75).detect([frame])[0]
    np.testing.assert_allclose(strict.scores, [0.9], rtol=1e-5)
    no_nms = build(model_path, layout=model_path.stem, nms_iou=0.99).detect([frame])[0]
    np.testing.assert_allclose(no_nms.scores, [0.9, 0.8, 0.7], rtol=1e-5)
    bags = build(model_path, layout=model_path.stem, person_class=BAG).detect([frame])[0]
    np.testing.assert_allclose(bags.scores, [0.95], rtol=1e-5)


def test_a_relative_model_path_starts_from_the_data_folder(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    write_yolo_model(tmp_path / "models" / "people.onnx", "yolov8")
    config = config_from_dict(
        DetectorConfig,
        {
            "kind": "onnx",
            "onnx": {"model_path": "models/people.onnx", "input_width": 128, "input_height": 128},
        },
    )
    detector = build_detector(config, data_dir=tmp_path)
    assert len(detector.detect([red_frame(256, 128)])[0]) == 2


def test_config_rejects_unknown_keys_and_a_missing_model_path() -> None:
    with pytest.raises(ConfigError, match="unknown config key onnx.score"):
        config_from_dict(DetectorConfig, {"kind": "onnx", "onnx": {"model_path": "m.onnx", "score": 0.3}})
    with pytest.raises(ConfigError, match="model_path is required"):
        config_from_dict(DetectorConfig, {"kind": "onnx"})
    with pytest.raises(ConfigError, match="layout"):
        config_from_dict(
            DetectorConfig, {"kind": "onnx", "onnx": {"model_path": "m.onnx", "layout": "yolox"}}
        )
    with pytest.raises(ConfigError, match="multiple of 32"):
        config_from_dict(
            DetectorConfig, {"kind": "onnx", "onnx": {"model_path": "m.onnx", "input_width": 100}}
        )


def test_a_missing_or_broken_model_file_is_a_clear_engine_error(tmp_path: Path) -> None:
    with pytest.raises(ResourceMissingError, match="not found"):
        build(tmp_path / "absent.onnx")
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"this is not a protobuf" * 10)
    with pytest.raises(ResourceMissingError, match="cannot be loaded"):
        build(garbage)
    good = write_yolo_model(tmp_path / "good.onnx", "yolov8")
    with pytest.raises(ResourceMissingError, match="sha256"):
        build(good, model_sha256="0" * 64)


def test_a_model_that_does_not_fit_the_config_is_refused(tmp_path: Path) -> None:
    fixed = write_yolo_model(tmp_path / "fixed.onnx", "yolov8")
    with pytest.raises(ValueError, match="fixed input of 128"):
        build_detector(
            DetectorConfig(
                kind="onnx", onnx=OnnxYoloConfig(model_path=str(fixed), input_width=640, input_height=640)
            )
        )
    with pytest.raises(ValueError, match="no class 5"):
        build(fixed, person_class=5)


def test_a_model_with_a_dynamic_input_size_takes_the_configured_one(tmp_path: Path) -> None:
    dynamic = write_yolo_model(tmp_path / "dynamic.onnx", "yolov8", size="side")
    config = DetectorConfig(
        kind="onnx", onnx=OnnxYoloConfig(model_path=str(dynamic), input_width=256, input_height=128)
    )
    dets = build_detector(config).detect([red_frame(256, 128)])[0]
    # No letterbox at all now: input pixels are frame pixels.
    np.testing.assert_allclose(dets.boxes_xyxy[0], [54.0, 44.0, 74.0, 84.0], atol=1e-3)
