"""Everything one ingest run carries from frame to frame, in one object."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from reid_engine.ingest.crops import TrackAccumulator
from reid_engine.ingest.gating import DetectionGate
from reid_engine.ingest.progress import ProgressReporter, StageClock
from reid_engine.track import Tracker
from reid_engine.types import Detections, Frame, PartialResult, VideoInfo
from reid_engine.video.writer import ProxyWriter

PartialCallback = Callable[[PartialResult], None]
# Frames kept in memory for crops of frames a tracker reports late (its backfill): ByteTrack's
# defaults need one.
BACKFILL_FRAMES = 4


@dataclass
class Partials:
    """State of the partial hand-overs during one run."""

    callback: PartialCallback
    every_s: float
    last_s: float = 0.0
    done: set[int] = field(default_factory=set)


@dataclass
class RunState:
    """The state of one :meth:`Pipeline.run`.

    Attributes:
        info: the probed video.
        width: width of the decoded frames (display rotation applied).
        height: their height.
        tracker: this run's tracker.
        clock: per-stage wall time.
        report: the progress reporter.
        proxy: the review-video writer, when one was asked for.
        partial: the partial hand-over state, when a callback was given.
        tracks: what each track has gathered, by track id.
        sampled: (frame index, time) of every analysed frame, in order.
        sampled_pts: the same as a mapping, for the tracker's late reports.
        vectors: appearance vectors of kept crops, by :attr:`BestCrop.key`, shared by the partial
            hand-overs and the end.
        identity: clothes-invariant vectors, the same way.
        recent: the last few frames and their detections, for the crops of frames a track is
            confirmed in retroactively (the tracker's backfill).
        crops_kept: crops kept so far; the next one's key.
        gate: decides which frames the detector runs on.
        last_detections: the detector's output on the last frame it ran on.
    """

    info: VideoInfo
    width: int
    height: int
    tracker: Tracker
    clock: StageClock
    report: ProgressReporter
    proxy: ProxyWriter | None = None
    partial: Partials | None = None
    tracks: dict[int, TrackAccumulator] = field(default_factory=dict)
    sampled: list[tuple[int, float]] = field(default_factory=list)
    sampled_pts: dict[int, float] = field(default_factory=dict)
    vectors: dict[int, np.ndarray] = field(default_factory=dict)
    identity: dict[int, np.ndarray] = field(default_factory=dict)
    recent: deque[tuple[Frame, Detections]] = field(default_factory=lambda: deque(maxlen=BACKFILL_FRAMES))
    crops_kept: int = 0
    gate: DetectionGate | None = None
    last_detections: Detections | None = None

    def add_sampled(self, frame: Frame) -> None:
        """Record an analysed frame."""
        self.sampled.append((frame.index, frame.pts_s))
        self.sampled_pts[frame.index] = frame.pts_s

    def next_key(self) -> int:
        """A fresh crop key."""
        self.crops_kept += 1
        return self.crops_kept


def frames_width(info: VideoInfo) -> int:
    """Width of the decoded frames, after the display rotation is applied."""
    return info.height if info.rotation in (90, 270) else info.width


def frames_height(info: VideoInfo) -> int:
    """Height of the decoded frames, after the display rotation is applied."""
    return info.width if info.rotation in (90, 270) else info.height
