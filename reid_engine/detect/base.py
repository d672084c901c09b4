"""The ``Detector`` protocol, its typed configuration and the factory that builds one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from reid_engine.detect.hog import HogConfig, HogDetector
from reid_engine.detect.movenet import MoveNetConfig, MoveNetDetector
from reid_engine.detect.onnx_yolo import OnnxYoloConfig, OnnxYoloDetector
from reid_engine.types import Detections, Frame

if TYPE_CHECKING:
    import torch


class Detector(Protocol):
    """Finds people in frames.

    Attributes:
        name: identifies the model and its version, stored with what it produced.
    """

    name: str

    def detect(self, frames: Sequence[Frame]) -> list[Detections]:
        """Detect people in a batch of frames.

        Args:
            frames: frames with RGB uint8 images.

        Returns:
            One :class:`Detections` per frame, in the same order: float32 (N, 4) xyxy boxes clipped
            to the frame and float32 (N,) scores in [0, 1].
        """
        ...


@dataclass(frozen=True, kw_only=True)
class DetectorConfig:
    """Which detector to build and how.

    Attributes:
        kind: the implementation; ``"hog"`` is OpenCV's HOG people detector, ``"movenet"`` is
            Google's MoveNet MultiPose Lightning (people with keypoints; needs its model files),
            ``"onnx"`` is a YOLO model of your own exported to ONNX (see ``onnx``).
        min_score: detections scoring lower are dropped. Keep it well under the tracker's
            ``high_score`` so the tracker's second association stage gets low-score boxes.
        num_threads: threads the detector may use; 0 keeps the library's own setting.
        hog: settings used when ``kind == "hog"``.
        movenet: settings used when ``kind == "movenet"``.
        onnx: settings used when ``kind == "onnx"``; ``onnx.model_path`` is required then.
    """

    kind: Literal["hog", "movenet", "onnx"] = "hog"
    min_score: float = 0.1
    num_threads: int = 0
    hog: HogConfig = field(default_factory=HogConfig)
    movenet: MoveNetConfig = field(default_factory=MoveNetConfig)
    onnx: OnnxYoloConfig = field(default_factory=OnnxYoloConfig)

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError("detector.min_score must be in [0, 1]")
        if self.num_threads < 0:
            raise ValueError("detector.num_threads must be >= 0")
        if self.kind == "onnx" and not self.onnx.model_path:
            raise ValueError("detector.onnx.model_path is required when detector.kind is 'onnx'")


def build_detector(
    config: DetectorConfig, *, device: torch.device | None = None, data_dir: Path | None = None
) -> Detector:
    """Build the detector ``config`` names.

    Args:
        config: detector configuration.
        device: torch device for detectors that run a network; the HOG detector runs on the CPU
            and ignores it.
        data_dir: the data folder set-up filled with model files; needed by ``"movenet"``, and
            where a relative ``onnx.model_path`` starts from.

    Returns:
        A ready detector.

    Raises:
        ValueError: the kind is unknown, or needs ``data_dir`` and none was given.
        ResourceMissingError: the detector's model files are missing or corrupt.
    """
    match config.kind:
        case "hog":
            return HogDetector(config.hog, min_score=config.min_score, num_threads=config.num_threads)
        case "movenet":
            if data_dir is None:
                raise ValueError("the movenet detector needs data_dir (the folder holding its model files)")
            return MoveNetDetector(
                config.movenet,
                data_dir=data_dir,
                min_score=config.min_score,
                num_threads=config.num_threads,
                device=device,
            )
        case "onnx":
            return OnnxYoloDetector(
                config.onnx,
                data_dir=data_dir,
                min_score=config.min_score,
                num_threads=config.num_threads,
                device=device,
            )
        case _:
            raise ValueError(f"unknown detector kind {config.kind!r}")
