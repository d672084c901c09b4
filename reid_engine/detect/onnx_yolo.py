"""Bring-your-own YOLO person detectors exported to ONNX (YOLOv5 or YOLOv8 output), run by onnxruntime."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import cv2
import numpy as np

from reid_engine.detect.boxes import clip_boxes, nms
from reid_engine.errors import ResourceMissingError
from reid_engine.models.pretrained import file_sha256
from reid_engine.types import Detections, Frame

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

Layout = Literal["auto", "yolov5", "yolov8"]


@dataclass(frozen=True, kw_only=True)
class OnnxYoloConfig:
    """Settings of an ONNX YOLO detector.

    Attributes:
        model_path: the ``.onnx`` file, relative to the data folder unless absolute. Required.
        model_sha256: when set, the file must have this sha256 (hex), so a swapped file is caught.
        input_width, input_height: the network input size; frames are letterboxed to it (aspect
            kept, grey padding split evenly). A model with a fixed input size must be given that.
        layout: the raw output layout (see :func:`decode_yolo`). ``"auto"`` takes the smaller of the
            two output dimensions as the per-candidate one, which holds for real models (thousands
            of candidates, under a few hundred classes).
        person_class: the class id of "person" (0 in COCO-trained models).
        min_person_score: candidates whose person score is lower are dropped (the detector applies
            the larger of this and the detector-wide ``min_score``).
        nms_iou: IoU above which the lower-scored of two people is dropped.
        max_candidates: at most this many candidates, the best scored, go into NMS.
        pad_value: grey level of the letterbox padding (114 in Ultralytics' training).
    """

    model_path: str = ""
    model_sha256: str = ""
    input_width: int = 640
    input_height: int = 640
    layout: Layout = "auto"
    person_class: int = 0
    min_person_score: float = 0.1
    nms_iou: float = 0.5
    max_candidates: int = 3000
    pad_value: int = 114

    def __post_init__(self) -> None:
        for name in ("input_width", "input_height"):
            value = getattr(self, name)
            if value % 32 or not 32 <= value <= 4096:
                raise ValueError(f"onnx.{name} must be a multiple of 32 in [32, 4096]")
        if self.person_class < 0:
            raise ValueError("onnx.person_class must be >= 0")
        if not 0.0 <= self.min_person_score <= 1.0:
            raise ValueError("onnx.min_person_score must be in [0, 1]")
        if not 0.0 < self.nms_iou <= 1.0:
            raise ValueError("onnx.nms_iou must be in (0, 1]")
        if self.max_candidates < 1:
            raise ValueError("onnx.max_candidates must be at least 1")
        if not 0 <= self.pad_value <= 255:
            raise ValueError("onnx.pad_value must be in [0, 255]")
        if self.model_sha256 and (
            len(self.model_sha256) != 64 or any(c not in "0123456789abcdefABCDEF" for c in self.model_sha256)
        ):
            raise ValueError("onnx.model_sha256 must be empty or 64 hex digits")


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a frame was fitted into the network input: ``input = frame * scale + (pad_x, pad_y)``."""

    scale: float
    pad_x: int
    pad_y: int

    def to_frame(self, boxes: np.ndarray) -> np.ndarray:
        """Map xyxy boxes from network input pixels back to frame pixels (unclipped).

        Args:
            boxes: float (N, 4).

        Returns:
            float64 (N, 4).
        """
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        pad = np.array([self.pad_x, self.pad_y, self.pad_x, self.pad_y], dtype=np.float64)
        return (b - pad) / self.scale


def letterbox(
    image: np.ndarray, width: int, height: int, pad_value: int = 114
) -> tuple[np.ndarray, Letterbox]:
    """Resize an image into ``width`` x ``height`` keeping its aspect ratio, padding the rest.

    Args:
        image: uint8 (H, W, 3).
        width, height: the output size.
        pad_value: grey level of the padding.

    Returns:
        The uint8 (height, width, 3) canvas and the mapping that was applied.
    """
    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, min(width, round(w * scale))), max(1, min(height, round(h * scale)))
    pad_x, pad_y = (width - new_w) // 2, (height - new_h) // 2
    canvas = np.full((height, width, 3), pad_value, dtype=np.uint8)
    interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = cv2.resize(
        np.ascontiguousarray(image), (new_w, new_h), interpolation=interpolation
    )
    return canvas, Letterbox(scale=scale, pad_x=pad_x, pad_y=pad_y)


def decode_yolo(output: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode one image's raw YOLO output (before NMS) into candidate boxes, scores and classes.

    ``"yolov5"`` (YOLOv5, YOLOv7 and their kin) gives per candidate ``cx, cy, w, h, objectness, C
    class scores``, and a class's score is objectness × class score. ``"yolov8"`` (YOLOv8, YOLO11 and
    later Ultralytics models) gives ``cx, cy, w, h, C class scores`` per column, no objectness. Boxes
    are in pixels of the letterboxed network input.

    Args:
        output: float (1, N, 5 + C) for ``"yolov5"``, (1, 4 + C, N) for ``"yolov8"``, or either for
            ``"auto"``; the leading batch axis may be absent.
        layout: which of the two.

    Returns:
        Boxes float64 (N, 4) xyxy in network input pixels, scores float64 (N,) and class ids
        int64 (N,): each candidate's best class and its score (times objectness for yolov5).

    Raises:
        ValueError: the output does not have a shape the layout allows.
    """
    raw = np.asarray(output, dtype=np.float64)
    if raw.ndim == 3:
        if raw.shape[0] != 1:
            raise ValueError(f"YOLO output for one image must have batch 1, got shape {raw.shape}")
        raw = raw[0]
    if raw.ndim != 2:
        raise ValueError(f"YOLO output must be (1, N, 5+C) or (1, 4+C, N), got shape {output.shape}")
    if layout == "auto":
        layout = "yolov8" if raw.shape[0] < raw.shape[1] else "yolov5"
    rows = raw.T if layout == "yolov8" else raw
    first_class = 4 if layout == "yolov8" else 5
    if rows.shape[1] <= first_class:
        raise ValueError(
            f"{layout} output needs more than {first_class} values per candidate, got {rows.shape[1]}"
        )
    cls = rows[:, first_class:]
    classes = np.argmax(cls, axis=1)
    scores = cls[np.arange(len(rows)), classes]
    if layout == "yolov5":
        scores = scores * rows[:, 4]
    cx, cy, w, h = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    return boxes, scores, classes.astype(np.int64)


class OnnxYoloDetector:
    """Finds people with a YOLO model exported to ONNX.

    Each frame is letterboxed to the input size, scaled to [0, 1] RGB in NCHW order (as YOLO
    exports expect) and run on its own; candidates whose best class is ``person_class`` and whose
    score passes the threshold go through NMS, and their boxes are mapped back to frame pixels.

    Args:
        config: detector settings.
        data_dir: the folder relative model paths start from.
        min_score: detections scoring lower are dropped.
        num_threads: onnxruntime intra-op threads; 0 keeps onnxruntime's choice.
        device: a CUDA torch device uses onnxruntime's CUDA provider when it is installed; the CPU
            provider otherwise.

    Raises:
        ResourceMissingError: the model file is missing, has another checksum, or is not a usable
            ONNX model (unreadable, no image input, an output of the wrong rank or size).
        ValueError: ``model_path`` is empty, or the model's fixed input size is not the configured one.
    """

    def __init__(
        self,
        config: OnnxYoloConfig,
        *,
        data_dir: Path | None = None,
        min_score: float = 0.1,
        num_threads: int = 0,
        device: torch.device | None = None,
    ) -> None:
        import onnxruntime as ort

        if not config.model_path:
            raise ValueError("detector.onnx.model_path is required for the onnx detector")
        self.config = config
        self.min_score = max(float(min_score), config.min_person_score)
        path = Path(config.model_path)
        if not path.is_absolute():
            path = Path(data_dir or ".") / path
        if not path.is_file():
            raise ResourceMissingError(f"ONNX detector model not found at {path}")
        try:
            digest = file_sha256(path)
        except OSError as exc:
            raise ResourceMissingError(f"ONNX detector model {path} cannot be read ({exc})") from None
        if config.model_sha256 and digest != config.model_sha256.lower():
            raise ResourceMissingError(
                f"ONNX detector model {path} has sha256 {digest[:12]}…, expected {config.model_sha256[:12]}…"
            )
        options = ort.SessionOptions()
        if num_threads > 0:
            options.intra_op_num_threads = int(num_threads)
            options.inter_op_num_threads = 1
        options.log_severity_level = 3
        providers = _providers(device, ort.get_available_providers())
        try:
            self._session = ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except _ort_errors() as exc:
            raise ResourceMissingError(f"ONNX detector model {path} cannot be loaded: {exc}") from None
        self._input, self._input_dtype = self._check_io(path)
        self.name = f"onnx-yolo-{path.stem}-{digest[:12]}"
        logger.info("ONNX detector %s on %s", self.name, self._session.get_providers()[0])

    def detect(self, frames: Sequence[Frame]) -> list[Detections]:
        """Detect people in each frame.

        Args:
            frames: frames with RGB uint8 images (H, W, 3).

        Returns:
            One :class:`Detections` per frame, in order, sorted by decreasing score, without
            keypoints.

        Raises:
            ValueError: a frame image is not uint8 (H, W, 3), or the model's output has a shape the
                layout does not allow.
        """
        return [self._detect_one(frame) for frame in frames]

    def _detect_one(self, frame: Frame) -> Detections:
        image = frame.image
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"frame {frame.index}: expected a uint8 (H, W, 3) image, got {image.dtype} {image.shape}"
            )
        cfg = self.config
        height, width = image.shape[:2]
        canvas, fit = letterbox(image, cfg.input_width, cfg.input_height, cfg.pad_value)
        blob = (canvas.transpose(2, 0, 1)[None].astype(np.float32) / 255.0).astype(self._input_dtype)
        output = self._session.run(None, {self._input: blob})[0]
        boxes, scores, classes = decode_yolo(output, cfg.layout)
        keep = np.flatnonzero(
            (classes == cfg.person_class) & (scores >= self.min_score) & np.isfinite(scores)
        )
        if keep.size > cfg.max_candidates:
            keep = keep[np.argsort(-scores[keep], kind="stable")[: cfg.max_candidates]]
        framed = clip_boxes(fit.to_frame(boxes[keep]), width, height)
        finite = np.isfinite(boxes[keep]).all(axis=1)
        valid = finite & (framed[:, 2] - framed[:, 0] >= 1.0) & (framed[:, 3] - framed[:, 1] >= 1.0)
        keep, framed = keep[valid], framed[valid]
        order = nms(framed, scores[keep], iou_threshold=cfg.nms_iou)
        return Detections(
            frame_index=frame.index,
            boxes_xyxy=np.ascontiguousarray(framed[order], dtype=np.float32).reshape(-1, 4),
            scores=np.clip(scores[keep][order], 0.0, 1.0).astype(np.float32),
        )

    def _check_io(self, path: Path) -> tuple[str, type[np.floating[Any]]]:
        cfg = self.config
        inputs = self._session.get_inputs()
        outputs = self._session.get_outputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ResourceMissingError(f"ONNX detector model {path} must take one (1, 3, H, W) image input")
        dtypes: dict[str, type[np.floating[Any]]] = {
            "tensor(float)": np.float32,
            "tensor(float16)": np.float16,
        }
        if inputs[0].type not in dtypes:
            raise ResourceMissingError(f"ONNX detector model {path} takes {inputs[0].type}, not float images")
        _, channels, in_h, in_w = inputs[0].shape
        if isinstance(channels, int) and channels != 3:
            raise ResourceMissingError(f"ONNX detector model {path} takes {channels} channels, not 3")
        for fixed, wanted, name in (
            (in_w, cfg.input_width, "input_width"),
            (in_h, cfg.input_height, "input_height"),
        ):
            if isinstance(fixed, int) and fixed != wanted:
                raise ValueError(
                    f"ONNX detector model {path} has a fixed input of {fixed} for onnx.{name}, not {wanted}"
                )
        if not outputs or len(outputs[0].shape) != 3:
            raise ResourceMissingError(
                f"ONNX detector model {path}: expected a (1, N, 5+C) or (1, 4+C, N) first output, "
                f"got {outputs[0].shape if outputs else 'none'}"
            )
        shape = outputs[0].shape
        if all(isinstance(d, int) for d in shape[1:]):
            layout = cfg.layout
            if layout == "auto":
                layout = "yolov8" if shape[1] < shape[2] else "yolov5"
            classes = (shape[1] - 4) if layout == "yolov8" else (shape[2] - 5)
            if classes < 1 or cfg.person_class >= classes:
                raise ValueError(
                    f"ONNX detector model {path} ({layout} output {shape}) has {max(classes, 0)} classes: "
                    f"no class {cfg.person_class} for onnx.person_class"
                )
        return inputs[0].name, dtypes[inputs[0].type]


def _providers(
    device: torch.device | None, available: Sequence[str]
) -> list[str | tuple[str, dict[str, Any]]]:
    if device is not None and device.type == "cuda":
        if "CUDAExecutionProvider" in available:
            return [("CUDAExecutionProvider", {"device_id": device.index or 0}), "CPUExecutionProvider"]
        logger.warning("onnxruntime has no CUDA provider here: the ONNX detector runs on the CPU")
    return ["CPUExecutionProvider"]


def _ort_errors() -> tuple[type[Exception], ...]:
    from onnxruntime.capi import onnxruntime_pybind11_state as state

    names = (
        "Fail",
        "InvalidArgument",
        "InvalidGraph",
        "InvalidProtobuf",
        "NoSuchFile",
        "NotImplemented",
        "RuntimeException",
    )
    return tuple(getattr(state, name) for name in names if hasattr(state, name))
