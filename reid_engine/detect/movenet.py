"""Google's MoveNet MultiPose Lightning (Apache-2.0): people with 17 COCO keypoints, run offline.

The TF.js graph model that set-up extracts (see :mod:`reid_engine.detect.movenet_assets`) is run by
onnxruntime from the ONNX file set-up exports from it (:mod:`reid_engine.detect.movenet_onnx`), or
by :mod:`reid_engine.tfjs` in plain torch, the reference. Per call it returns up to ``max_people`` people, each as 17
keypoints (y, x, score) and a box (ymin, xmin, ymax, xmax, score), normalised to the input image.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import torch

from reid_engine.detect.boxes import clip_boxes, nms
from reid_engine.detect.movenet_onnx import EXPORT_HINT, OnnxGraph, is_current, onnx_path
from reid_engine.errors import ResourceMissingError
from reid_engine.models.pretrained import file_sha256
from reid_engine.tfjs import GraphModel, GraphRunner, load_graph_model
from reid_engine.types import Detections, Frame

logger = logging.getLogger(__name__)

COCO_KEYPOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
MOVENET_JSON = "movenet-multipose.json"
MOVENET_BIN = "movenet-multipose.bin"
MOVENET_SHA256 = {
    MOVENET_JSON: "3c76e18669efc50148b28d0be97db491dc055cb2be292d248ec129031c5aa5de",
    MOVENET_BIN: "19828492d4a69c2e08915916c70f4d22c421c3b59152dfa5601834fc54f54118",
}
_SETUP_HINT = "run the project's set-up script to fetch the MoveNet model"
_GRAPH_PEOPLE = 6  # the person count the published graph was exported with


@dataclass(frozen=True, kw_only=True)
class MoveNetConfig:
    """Settings of the MoveNet MultiPose detector.

    Attributes:
        input_long_side: the frame is letterboxed to this many pixels along its long side (a
            multiple of 32); the short side becomes the next multiple of 32 that keeps the aspect
            ratio. 512 suits 768x576 CCTV frames; people under about 40 pixels tall need more.
        max_people: people the model can report per frame. The published graph is fixed at 6,
            which a busy CCTV scene exceeds; other values rewrite the few constants that carry that
            number. Each extra person costs about 1% more time.
        min_person_score: people whose calibrated score is lower are dropped (the detector
            applies the larger of this and the detector-wide ``min_score``).
        min_keypoint_score: keypoints scoring at least this count as visible: they shape the box
            and are guaranteed to lie inside it.
        score_midpoint: raw MoveNet person score that maps to 0.5. The raw score (centre heat
            times mean keypoint score) sits around 0.1 to 0.5 for clearly visible people, so it is
            remapped as ``r**k / (r**k + midpoint**k)`` to share the 0.5 "confident" line with
            the other detectors and the tracker.
        score_exponent: ``k`` in that mapping.
        nms_iou: IoU above which the lower-scored of two people is dropped; MoveNet suppresses
            duplicates only within 5x5 cells of its centre heatmap.
        nms_containment: fraction of the smaller box covered by a higher-scored one above which
            the smaller is dropped: spare person slots tend to fill with weak head-sized boxes
            inside a real person, while people side by side overlap well under this.
        head_margin: the visible keypoints' box is extended upwards by this fraction of its
            height, because eyes and ears sit below the top of the head.
        foot_margin: the same downwards, for the feet below the ankles.
        side_margin: the same on each side, for clothes and arms beyond the joints.
        model_path: the TF.js model JSON, relative to the data folder.
        weights_path: its weight shard, relative to the data folder.
        model_sha256: expected hex digest of the model JSON.
        weights_sha256: expected hex digest of the weight shard.
        runtime: what runs the network: ``"onnxruntime"`` the graph set-up exported (about 1.3x
            faster here, parity-tested against the interpreter), ``"torch"`` our TF.js
            interpreter (the reference), ``"auto"`` onnxruntime where the exported file for the
            frame's input size exists and the interpreter otherwise.
    """

    input_long_side: int = 512
    max_people: int = 10
    min_person_score: float = 0.1
    min_keypoint_score: float = 0.3
    score_midpoint: float = 0.12
    score_exponent: float = 2.0
    nms_iou: float = 0.6
    nms_containment: float = 0.8
    head_margin: float = 0.12
    foot_margin: float = 0.05
    side_margin: float = 0.08
    model_path: str = f"models/movenet/{MOVENET_JSON}"
    weights_path: str = f"models/movenet/{MOVENET_BIN}"
    model_sha256: str = MOVENET_SHA256[MOVENET_JSON]
    weights_sha256: str = MOVENET_SHA256[MOVENET_BIN]
    runtime: Literal["auto", "onnxruntime", "torch"] = "auto"

    def __post_init__(self) -> None:
        if self.input_long_side % 32 or not 128 <= self.input_long_side <= 2048:
            raise ValueError("movenet.input_long_side must be a multiple of 32 in [128, 2048]")
        if not 1 <= self.max_people <= 64:
            raise ValueError("movenet.max_people must be in [1, 64]")
        if not (0.0 <= self.min_person_score <= 1.0 and 0.0 <= self.min_keypoint_score <= 1.0):
            raise ValueError("movenet.min_person_score and movenet.min_keypoint_score must be in [0, 1]")
        if not (0.0 < self.score_midpoint < 1.0 and self.score_exponent > 0.0):
            raise ValueError("movenet.score_midpoint must be in (0, 1) and score_exponent positive")
        if not (0.0 < self.nms_iou <= 1.0 and 0.0 < self.nms_containment <= 1.0):
            raise ValueError("movenet.nms_iou and movenet.nms_containment must be in (0, 1]")
        if min(self.head_margin, self.foot_margin, self.side_margin) < 0.0:
            raise ValueError("movenet margins must be >= 0")
        if self.runtime not in ("auto", "onnxruntime", "torch"):
            raise ValueError("movenet.runtime must be 'auto', 'onnxruntime' or 'torch'")


class MoveNetDetector:
    """Finds people and their 17 COCO keypoints with MoveNet MultiPose Lightning.

    Each frame is letterboxed (aspect kept, black padding centred) to the input size and run on
    its own, since the graph takes one image per call. Boxes and keypoints come back in frame
    pixels.

    The person box is the union of the model's box and the box of the visible keypoints grown by
    ``head_margin``, ``foot_margin`` and ``side_margin``. The model's box usually spans the body
    but now and then stops at the eyes or cuts off a stride, and keypoints are joint centres, not
    the body's outline; the union of the two covers the whole person without the background
    a fixed large margin would add.

    Args:
        config: detector settings.
        data_dir: the data folder holding ``config.model_path`` and ``config.weights_path``.
        min_score: detections scoring lower (calibrated) are dropped.
        num_threads: torch threads while detecting (restored afterwards); 0 keeps torch's setting.
        device: where the network runs; the CPU by default.

    Raises:
        ResourceMissingError: a model file is missing or has another checksum, or
            ``runtime="onnxruntime"`` and set-up exported no graph for this configuration.
    """

    name = "movenet-multipose-lightning-v1"

    def __init__(
        self,
        config: MoveNetConfig,
        *,
        data_dir: Path,
        min_score: float = 0.1,
        num_threads: int = 0,
        device: torch.device | None = None,
    ) -> None:
        self.config = config
        self.min_score = max(float(min_score), config.min_person_score)
        self.num_threads = int(num_threads)
        self.device = device or torch.device("cpu")
        self.data_dir = Path(data_dir)
        _verified(self.data_dir / config.model_path, config.model_sha256)
        _verified(self.data_dir / config.weights_path, config.weights_sha256)
        self._torch: GraphRunner | None = None
        self._onnx: dict[tuple[int, int], OnnxGraph | None] = {}
        if config.runtime == "torch":
            self._torch = build_runner(config, self.data_dir, self.device)
        elif config.runtime == "onnxruntime":
            # Fail at load, not at the first frame, when set-up exported nothing at all.
            folder = onnx_path(self.data_dir, 32, 32, config.max_people).parent
            if not any(folder.glob(f"movenet-multipose-*-p{config.max_people}.onnx")):
                raise ResourceMissingError(
                    f"movenet.runtime is 'onnxruntime' but {folder} holds no exported graph "
                    f"for max_people={config.max_people}: {EXPORT_HINT}"
                )

    @property
    def runtime(self) -> str:
        """What ran the network last ("onnxruntime:<provider>", "torch"), or the setting before any."""
        used = [g.provider for g in self._onnx.values() if g is not None]
        if used:
            return f"onnxruntime:{used[-1]}"
        return "torch" if self._torch is not None else self.config.runtime

    def _network(self, batch: np.ndarray, in_w: int, in_h: int) -> np.ndarray:
        """The raw (people, 56) output for one int32 (1, H, W, 3) input."""
        cfg = self.config
        if cfg.runtime != "torch":
            if (in_w, in_h) not in self._onnx:
                path = onnx_path(self.data_dir, in_w, in_h, cfg.max_people)
                if cfg.runtime == "onnxruntime" or is_current(path, cfg):
                    self._onnx[(in_w, in_h)] = OnnxGraph(
                        path, cfg, num_threads=self.num_threads, device=self.device
                    )
                else:
                    logger.info("no exported MoveNet graph for %dx%d: using the interpreter", in_w, in_h)
                    self._onnx[(in_w, in_h)] = None
            exported = self._onnx[(in_w, in_h)]
            if exported is not None:
                return exported.run(batch)[0]
        if self._torch is None:
            self._torch = build_runner(cfg, self.data_dir, self.device)
        return self._torch.run({"input": torch.from_numpy(batch)})[0][0].cpu().numpy()

    def detect(self, frames: Sequence[Frame]) -> list[Detections]:
        """Detect people and keypoints in each frame.

        Args:
            frames: frames with RGB uint8 images (H, W, 3).

        Returns:
            One :class:`Detections` per frame, in order, sorted by decreasing score, with
            ``keypoints`` float32 (N, 17, 3) as (x, y, score) in frame pixels, COCO order.

        Raises:
            ValueError: a frame image is not uint8 (H, W, 3).
        """
        with _torch_threads(self.num_threads):
            return [self._detect_one(frame) for frame in frames]

    def input_size(self, width: int, height: int) -> tuple[int, int]:
        """The (width, height) the network sees for a ``width`` x ``height`` frame."""
        long_side = self.config.input_long_side
        short = max(32, math.ceil(min(width, height) * long_side / max(width, height) / 32) * 32)
        return (long_side, short) if width >= height else (short, long_side)

    def _detect_one(self, frame: Frame) -> Detections:
        image = frame.image
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"frame {frame.index}: expected a uint8 (H, W, 3) image, got {image.dtype} {image.shape}"
            )
        height, width = image.shape[:2]
        in_w, in_h = self.input_size(width, height)
        scale = min(in_w / width, in_h / height)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        pad_x, pad_y = (in_w - new_w) // 2, (in_h - new_h) // 2
        canvas = np.zeros((in_h, in_w, 3), dtype=np.uint8)
        interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
        canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = cv2.resize(
            np.ascontiguousarray(image), (new_w, new_h), interpolation=interpolation
        )
        raw = self._network(canvas.astype(np.int32)[None], in_w, in_h).astype(np.float64)
        cfg = self.config
        ratio = np.clip(raw[:, 55], 0.0, None) / cfg.score_midpoint
        scores = ratio**cfg.score_exponent / (1.0 + ratio**cfg.score_exponent)
        people = raw[:, :51].reshape(-1, 17, 3)
        # Normalised input coordinates -> frame pixels, undoing the letterbox.
        kx = (people[:, :, 1] * in_w - pad_x) / scale
        ky = (people[:, :, 0] * in_h - pad_y) / scale
        size = np.array([in_w, in_h, in_w, in_h], dtype=np.float64)
        pad = np.array([pad_x, pad_y, pad_x, pad_y], dtype=np.float64)
        boxes = (raw[:, [52, 51, 54, 53]] * size - pad) / scale  # (ymin, xmin, ymax, xmax) -> xyxy
        visible = people[:, :, 2] >= cfg.min_keypoint_score
        boxes = self._cover_keypoints(boxes, kx, ky, visible)
        boxes32 = clip_boxes(boxes, width, height)
        valid = (
            (scores >= self.min_score)
            & (boxes32[:, 2] - boxes32[:, 0] >= 1.0)
            & (boxes32[:, 3] - boxes32[:, 1] >= 1.0)
        )
        idx = np.flatnonzero(valid)
        idx = idx[
            nms(
                boxes32[idx],
                scores[idx],
                iou_threshold=cfg.nms_iou,
                containment_threshold=cfg.nms_containment,
            )
        ]
        keypoints = np.stack(
            [np.clip(kx, 0.0, width), np.clip(ky, 0.0, height), people[:, :, 2]], axis=2
        ).astype(np.float32)
        return Detections(
            frame_index=frame.index,
            boxes_xyxy=np.ascontiguousarray(boxes32[idx]),
            scores=scores[idx].astype(np.float32),
            keypoints=np.ascontiguousarray(keypoints[idx]).reshape(-1, 17, 3),
        )

    def _cover_keypoints(
        self, boxes: np.ndarray, kx: np.ndarray, ky: np.ndarray, visible: np.ndarray
    ) -> np.ndarray:
        cfg = self.config
        out = boxes.copy()
        for i in np.flatnonzero(visible.any(axis=1)):
            xs, ys = kx[i, visible[i]], ky[i, visible[i]]
            # A person's height, not the keypoints' spread, sets the margins: a lone visible
            # keypoint still deserves a head and shoulders around it.
            span = max(float(ys.max() - ys.min()), float(boxes[i, 3] - boxes[i, 1]), 1.0)
            grown = (
                xs.min() - cfg.side_margin * span,
                ys.min() - cfg.head_margin * span,
                xs.max() + cfg.side_margin * span,
                ys.max() + cfg.foot_margin * span,
            )
            out[i] = (
                min(out[i, 0], grown[0]),
                min(out[i, 1], grown[1]),
                max(out[i, 2], grown[2]),
                max(out[i, 3], grown[3]),
            )
        return out


def build_runner(config: MoveNetConfig, data_dir: Path, device: torch.device | None = None) -> GraphRunner:
    """The TF.js interpreter for the checked model files, with ``config.max_people`` slots."""
    model_json = _verified(Path(data_dir) / config.model_path, config.model_sha256)
    weights = _verified(Path(data_dir) / config.weights_path, config.weights_sha256)
    model = load_graph_model(model_json, shard_files={MOVENET_BIN: weights})
    if config.max_people != _GRAPH_PEOPLE:
        model = _with_max_people(model, config.max_people)
    return GraphRunner(model, device=device)


def _verified(path: Path, sha256: str) -> Path:
    if not path.is_file():
        raise ResourceMissingError(f"MoveNet model file not found at {path}: {_SETUP_HINT}")
    try:
        actual = file_sha256(path)
    except OSError as exc:
        raise ResourceMissingError(
            f"MoveNet model file {path} cannot be read ({exc}): {_SETUP_HINT}"
        ) from None
    if actual != sha256.lower():
        raise ResourceMissingError(
            f"MoveNet model file {path} has sha256 {actual[:12]}…, expected {sha256[:12]}…: {_SETUP_HINT}"
        )
    return path


def _with_max_people(model: GraphModel, k: int) -> GraphModel:
    # The exported graph hard-codes 6 people (TopKV2's k and the reshapes of its results, and
    # keypoint index tables 17 * 6 long); every other tensor takes its shape from those. The graph
    # is pinned by sha256, so the constants' names are known exactly.
    prefix = "StatefulPartitionedCall/"
    table = np.tile(np.arange(17, dtype=np.int32), k)
    values: dict[str, np.ndarray | list[int] | int] = {
        "TopKV2/k": k,
        "Reshape_17": table,
        "Reshape_19": table,
        "Reshape_3": np.zeros(k, dtype=np.int32),
        "zeros_like": np.zeros((1, k, 17), dtype=np.float32),
        "Reshape_6/shape": [1, k, 2],
        "Reshape_7/shape": [1, k, 2],
        "Reshape_9/shape": [k, 17, 2],
        "Reshape_10/shape": [k, 1],
        "Reshape_11/shape": [k, 1],
        "Reshape_12/shape": [1, 1, k],
        "Reshape_13/shape": [1, 1, k],
        "Reshape_14/shape": [1, 1, k],
        "Reshape_15/shape": [1, 1, k],
        "Reshape_16/shape": [-1, 17 * k],
        "Reshape_18/shape": [1, k, 17, 2],
        "Reshape_20/shape": [1, k, 17],
        "Reshape_22/shape": [1, k, -1],
    }
    weights = dict(model.weights)
    for name, value in values.items():
        weights[prefix + name] = np.asarray(value, dtype=weights[prefix + name].dtype)
    return dataclasses.replace(model, weights=weights)


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    # torch.set_num_threads is process-wide: set it only around our own calls and put it back.
    if n <= 0:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
