"""The ``Tracker`` protocol, its typed configuration and the factory that builds one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from reid_engine.track.bytetrack import ByteTrackConfig, ByteTracker
from reid_engine.types import Detections, Tracks


class Tracker(Protocol):
    """Links the detections of successive sampled frames of one video into tracks."""

    def update(self, dets: Detections) -> Tracks:
        """Advance by one frame.

        Args:
            dets: the detections of the next sampled frame.

        Returns:
            The confirmed tracks seen in this frame; ids are stable across frames for one person.
        """
        ...

    def reset(self) -> None:
        """Forget all tracks, e.g. before the next video."""
        ...


@dataclass(frozen=True, kw_only=True)
class TrackerConfig:
    """Which tracker to build and how.

    Attributes:
        kind: the implementation; ``"bytetrack"`` is the ByteTrack-style IoU tracker.
        bytetrack: settings used when ``kind == "bytetrack"``.
    """

    kind: Literal["bytetrack"] = "bytetrack"
    bytetrack: ByteTrackConfig = field(default_factory=ByteTrackConfig)


def build_tracker(config: TrackerConfig) -> Tracker:
    """Build a fresh tracker, one per video.

    Args:
        config: tracker configuration.

    Returns:
        A tracker with no tracks.
    """
    match config.kind:
        case "bytetrack":
            return ByteTracker(config.bytetrack)
        case _:
            raise ValueError(f"unknown tracker kind {config.kind!r}")
