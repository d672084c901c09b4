"""Person detection: the ``Detector`` protocol and its implementations."""

from __future__ import annotations

from reid_engine.detect.base import Detector, DetectorConfig, build_detector
from reid_engine.detect.hog import HogConfig, HogDetector

__all__ = ["Detector", "DetectorConfig", "HogConfig", "HogDetector", "build_detector"]
