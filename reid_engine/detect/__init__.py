"""Person detection: the ``Detector`` protocol and its implementations."""

from __future__ import annotations

from reid_engine.detect.base import Detector, DetectorConfig, build_detector
from reid_engine.detect.hog import HogConfig, HogDetector
from reid_engine.detect.movenet import COCO_KEYPOINTS, MoveNetConfig, MoveNetDetector
from reid_engine.detect.onnx_yolo import OnnxYoloConfig, OnnxYoloDetector

__all__ = [
    "COCO_KEYPOINTS",
    "Detector",
    "DetectorConfig",
    "HogConfig",
    "HogDetector",
    "MoveNetConfig",
    "MoveNetDetector",
    "OnnxYoloConfig",
    "OnnxYoloDetector",
    "build_detector",
]
