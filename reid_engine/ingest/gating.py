"""Deciding, frame by frame, whether the detector has to run: motion gating and a calm-scene stride.

Detection is by far the dearest stage of an ingest. Two cheap signals let it run less often:

- **Motion**: each sampled frame is shrunk to a small grey image and compared with the one of the
  last frame the detector saw. When almost no pixel changed, nobody moved: the last detections
  still hold, and the tracker is fed them again (people standing still stay tracked).
- **Calm**: with ``detect_every = n``, the detector runs on every n-th sampled frame only, while
  few people are tracked and all move slowly; the frames between get no detections and the
  tracker's gaps are filled by interpolation (``tracker.max_gap_s``). Many people, or a fast one,
  send the rate back to every frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import cv2
import numpy as np

from reid_engine.ingest.crops import TrackAccumulator
from reid_engine.types import Frame


@dataclass(frozen=True, kw_only=True)
class GatingConfig:
    """When the detector may skip a sampled frame.

    Attributes:
        motion: skip the detector on frames where nothing moved since the last detected frame,
            reusing its detections.
        motion_width: width in pixels of the grey thumbnail frames are compared at.
        pixel_threshold: grey-level difference (0-255) at which a thumbnail pixel counts as changed.
        motion_fraction: a frame with fewer changed thumbnail pixels than this fraction is static.
        max_static_s: even in a static scene the detector runs at least this often (seconds).
        detect_every: in a calm scene, detect on every this-many-th sampled frame (1: every frame).
        busy_people: with at least this many people tracked, detect on every frame.
        max_shift_widths: a tracked person who would move more than this many of their own box
            widths between two detections at the stride makes the scene not calm (0.25 keeps the
            IoU of their boxes on consecutive detections near 0.6, well inside the tracker's match).
    """

    motion: bool = True
    motion_width: int = 160
    pixel_threshold: int = 18
    motion_fraction: float = 0.0005
    max_static_s: float = 2.0
    detect_every: int = 1
    busy_people: int = 8
    max_shift_widths: float = 0.25

    def __post_init__(self) -> None:
        if self.motion_width < 16 or not 0 < self.pixel_threshold < 256:
            raise ValueError("gating.motion_width must be >= 16 and gating.pixel_threshold in (0, 256)")
        if not 0.0 <= self.motion_fraction < 1.0 or self.max_static_s < 0:
            raise ValueError("gating.motion_fraction must be in [0, 1) and gating.max_static_s >= 0")
        if self.detect_every < 1 or self.busy_people < 1 or self.max_shift_widths <= 0:
            raise ValueError("gating.detect_every and busy_people must be >= 1, max_shift_widths > 0")


class Decision(Enum):
    """What to do with one sampled frame."""

    DETECT = "detect"
    REUSE = "reuse"  # nothing moved: feed the tracker the last detections again
    SKIP = "skip"  # calm scene, off-stride: no detections, the tracker waits


class DetectionGate:
    """Per-run state of the gating decisions, and counts of each decision."""

    def __init__(self, config: GatingConfig) -> None:
        self.config = config
        self._last_grey: np.ndarray | None = None
        self._last_detect_s = -np.inf
        self._since_detect = 0
        self._last_pts: float | None = None
        self._period_s = 0.0
        self.counts = {d.value: 0 for d in Decision}

    def decide(
        self, frame: Frame, tracks: dict[int, TrackAccumulator], live: set[int], detected: int = 0
    ) -> Decision:
        """The decision for ``frame``.

        Args:
            frame: the sampled frame.
            tracks: what each track has gathered so far.
            live: ids of the tracks the tracker holds.
            detected: people the detector reported on the last frame it ran on; more than
                ``live`` means someone new is not confirmed yet, so the scene is not calm.
        """
        cfg = self.config
        if self._last_pts is not None:
            self._period_s = max(self._period_s, frame.pts_s - self._last_pts)
        self._last_pts = frame.pts_s
        grey = self._thumbnail(frame.image) if cfg.motion else None
        decision = Decision.DETECT
        due = frame.pts_s - self._last_detect_s >= cfg.max_static_s
        if not due and grey is not None and self._last_grey is not None:
            changed = np.count_nonzero(cv2.absdiff(grey, self._last_grey) > cfg.pixel_threshold)
            if changed < cfg.motion_fraction * grey.size:
                decision = Decision.REUSE
        if (
            decision is Decision.DETECT
            and cfg.detect_every > 1
            and self._since_detect + 1 < cfg.detect_every
            and detected <= len(live)
            and self._calm(tracks, live)
        ):
            decision = Decision.SKIP
        self.counts[decision.value] += 1
        if decision is Decision.DETECT:
            self._last_grey, self._last_detect_s, self._since_detect = grey, frame.pts_s, 0
        else:
            self._since_detect += 1
        return decision

    def _thumbnail(self, image: np.ndarray) -> np.ndarray:
        height, width = image.shape[:2]
        size = (self.config.motion_width, max(1, round(height * self.config.motion_width / width)))
        small = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        # A light blur keeps sensor noise and compression flicker from counting as motion.
        return cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), (3, 3), 0)

    def _calm(self, tracks: dict[int, TrackAccumulator], live: set[int]) -> bool:
        cfg = self.config
        if len(live) >= cfg.busy_people:
            return False
        for track_id in live:
            acc = tracks.get(track_id)
            if acc is None or len(acc.boxes) < 2:
                return False  # a new person: watch closely until they have a velocity
            (a, b), (ta, tb) = acc.boxes[-2:], acc.timestamps[-2:]
            dt = max(tb - ta, 1e-6)
            speed = float(np.hypot((b[0] + b[2] - a[0] - a[2]) / 2, (b[1] + b[3] - a[1] - a[3]) / 2)) / dt
            stride_s = cfg.detect_every * self._period_s
            if speed * stride_s > cfg.max_shift_widths * max(float(b[2] - b[0]), 1.0):
                return False
        return True
