"""OpenCV's HOG + linear SVM people detector (Dalal & Triggs), with its own NMS and calibrated scores."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

from reid_engine.detect.boxes import clip_boxes, iou_matrix, nms
from reid_engine.types import Detections, Frame

logger = logging.getLogger(__name__)

# The hit density the score calibration was fitted at (win_stride 8, scale_step 1.1); see _evidence.
_REF_STRIDE = 8
_REF_SCALE_STEP = 1.1


@dataclass(frozen=True, kw_only=True)
class HogConfig:
    """Settings of the HOG people detector.

    The default SVM sees a 64x128 window in which a person is about 96 pixels tall, so people
    smaller than that are missed unless the frame is enlarged first (``upscale``).

    Attributes:
        upscale: the frame is resized by this factor before detection; 1.5 finds people down to
            about 64 pixels tall.
        win_stride: step of the sliding window in pixels of the enlarged frame.
        padding: pixels added around the frame so people at the border are found.
        scale_step: ratio between pyramid levels; smaller is slower and finds more.
        hit_threshold: SVM margin a window needs to count as a raw hit.
        grayscale: run on the luma channel instead of on colour gradients (faster, slightly weaker).
        nms_iou: IoU above which the weaker of two boxes is suppressed.
        nms_containment: fraction of the smaller box covered by a stronger box above which the
            smaller one is suppressed, and vice versa (HOG fires on windows that hold a person and
            a lot of background); 1.0 disables the rule.
        score_midpoint: evidence (summed SVM margin of the raw hits behind a box) that maps to
            score 0.5.
        score_exponent: steepness of the mapping; the score is a logistic of log-evidence,
            ``e**k / (e**k + midpoint**k)``, so it keeps ranking strong detections instead of
            saturating at 1.
        shrink_x: fraction of the window width removed on each side, because the training
            windows hold a margin of background around the person.
        shrink_y: the same for the top and bottom.
    """

    upscale: float = 1.5
    win_stride: int = 8
    padding: int = 8
    scale_step: float = 1.1
    hit_threshold: float = 0.0
    grayscale: bool = False
    nms_iou: float = 0.4
    nms_containment: float = 0.8
    score_midpoint: float = 3.0
    score_exponent: float = 2.0
    shrink_x: float = 0.12
    shrink_y: float = 0.04

    def __post_init__(self) -> None:
        if not 0.25 <= self.upscale <= 4.0:
            raise ValueError("hog.upscale must be in [0.25, 4]")
        if self.win_stride < 1 or self.win_stride % 8:
            raise ValueError("hog.win_stride must be a positive multiple of 8 (the HOG cell size)")
        if self.padding < 0 or self.padding % 8:
            raise ValueError("hog.padding must be a non-negative multiple of 8")
        if not 1.01 <= self.scale_step <= 2.0:
            raise ValueError("hog.scale_step must be in [1.01, 2]")
        if not (0.0 < self.nms_iou <= 1.0 and 0.0 < self.nms_containment <= 1.0):
            raise ValueError("hog.nms_iou and hog.nms_containment must be in (0, 1]")
        if self.score_midpoint <= 0 or self.score_exponent <= 0:
            raise ValueError("hog.score_midpoint and hog.score_exponent must be positive")
        if not (0.0 <= self.shrink_x < 0.5 and 0.0 <= self.shrink_y < 0.5):
            raise ValueError("hog.shrink_x and hog.shrink_y must be in [0, 0.5)")


class HogDetector:
    """Finds upright people with OpenCV's default HOG people SVM (CPU only).

    Raw window hits are merged here rather than by OpenCV's ``groupRectangles``: each hit collects
    the summed margin of the hits that overlap it (its evidence), the strongest are kept by NMS, each
    kept box becomes the margin-weighted mean of its supporting hits, and a logistic of the
    log-evidence gives a score in [0, 1]. Isolated strong windows (lamp posts, car fronts) gather
    little evidence; real people draw many overlapping hits across positions and scales.

    Args:
        config: detector settings.
        min_score: detections scoring lower are dropped.
        num_threads: OpenCV threads while detecting (restored afterwards); 0 keeps OpenCV's setting.
    """

    name = "hog-people-svm"

    def __init__(self, config: HogConfig, *, min_score: float = 0.1, num_threads: int = 0) -> None:
        self.config = config
        self.min_score = float(min_score)
        self.num_threads = int(num_threads)
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32))
        self._win_w, self._win_h = self._hog.winSize

    def detect(self, frames: Sequence[Frame]) -> list[Detections]:
        """Detect people in each frame.

        Args:
            frames: frames with RGB uint8 images (H, W, 3).

        Returns:
            One :class:`Detections` per frame, in order, sorted by decreasing score.

        Raises:
            ValueError: a frame image is not uint8 (H, W, 3).
        """
        with _opencv_threads(self.num_threads):
            return [self._detect_one(frame) for frame in frames]

    def _detect_one(self, frame: Frame) -> Detections:
        image = frame.image
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"frame {frame.index}: expected a uint8 (H, W, 3) image, got {image.dtype} {image.shape}"
            )
        height, width = image.shape[:2]
        cfg = self.config
        src = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if cfg.grayscale else np.ascontiguousarray(image)
        if cfg.upscale != 1.0:
            size = (max(1, round(width * cfg.upscale)), max(1, round(height * cfg.upscale)))
            interpolation = cv2.INTER_LINEAR if cfg.upscale > 1.0 else cv2.INTER_AREA
            src = cv2.resize(src, size, interpolation=interpolation)
        if src.shape[0] < self._win_h or src.shape[1] < self._win_w:
            return _empty(frame.index)
        rects, weights = self._hog.detectMultiScale(
            src,
            hitThreshold=cfg.hit_threshold,
            winStride=(cfg.win_stride, cfg.win_stride),
            padding=(cfg.padding, cfg.padding),
            scale=cfg.scale_step,
            groupThreshold=0,
        )
        if len(rects) == 0:
            return _empty(frame.index)
        xywh = np.asarray(rects, dtype=np.float64).reshape(-1, 4) / cfg.upscale
        margins = np.asarray(weights, dtype=np.float64).reshape(-1)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
        # OpenCV collects hits from several threads, so their order varies from run to run; a fixed
        # order makes NMS tie-breaking, and hence the output, deterministic.
        order = np.lexsort((margins, boxes[:, 3], boxes[:, 2], boxes[:, 1], boxes[:, 0]))
        boxes, margins = boxes[order], margins[order]
        support = iou_matrix(boxes, boxes) > 0.5
        evidence = self._evidence(support, margins)
        keep = nms(boxes, evidence, iou_threshold=cfg.nms_iou, containment_threshold=cfg.nms_containment)
        fused = np.stack([_weighted_box(boxes, margins, support[i]) for i in keep])
        fused = self._shrink(fused)
        ratio = np.clip(evidence[keep], 0.0, None) / cfg.score_midpoint
        scores = ratio**cfg.score_exponent / (1.0 + ratio**cfg.score_exponent)
        boxes32 = clip_boxes(fused, width, height)
        valid = (
            (scores >= self.min_score)
            & (boxes32[:, 2] - boxes32[:, 0] >= 1.0)
            & (boxes32[:, 3] - boxes32[:, 1] >= 1.0)
        )
        return Detections(
            frame_index=frame.index,
            boxes_xyxy=np.ascontiguousarray(boxes32[valid]),
            scores=scores[valid].astype(np.float32),
        )

    def _evidence(self, support: np.ndarray, margins: np.ndarray) -> np.ndarray:
        # Denser sampling (finer stride or pyramid) yields proportionally more hits per person;
        # normalising to the reference density keeps score_midpoint meaningful for any setting.
        density = (_REF_STRIDE / self.config.win_stride) ** 2 * (
            math.log(_REF_SCALE_STEP) / math.log(self.config.scale_step)
        )
        return np.asarray(support @ margins, dtype=np.float64) / density

    def _shrink(self, boxes: np.ndarray) -> np.ndarray:
        w = boxes[:, 2] - boxes[:, 0]
        h = boxes[:, 3] - boxes[:, 1]
        dx = w * self.config.shrink_x
        dy = h * self.config.shrink_y
        return np.stack([boxes[:, 0] + dx, boxes[:, 1] + dy, boxes[:, 2] - dx, boxes[:, 3] - dy], axis=1)


def _weighted_box(boxes: np.ndarray, margins: np.ndarray, members: np.ndarray) -> np.ndarray:
    w = np.clip(margins[members], 1e-6, None)
    return np.asarray((boxes[members] * w[:, None]).sum(axis=0) / w.sum(), dtype=np.float64)


def _empty(frame_index: int) -> Detections:
    return Detections(
        frame_index=frame_index,
        boxes_xyxy=np.zeros((0, 4), dtype=np.float32),
        scores=np.zeros((0,), dtype=np.float32),
    )


@contextmanager
def _opencv_threads(n: int) -> Iterator[None]:
    # cv2.setNumThreads is process-wide: set it only around our own calls and put it back, so the
    # rest of the process (video decoding, resizing) keeps whatever its owner chose.
    if n <= 0:
        yield
        return
    previous = cv2.getNumThreads()
    cv2.setNumThreads(n)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)
