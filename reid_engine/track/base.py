"""The ``Tracker`` protocol, its typed configuration and the factory that builds one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from reid_engine.track.bytetrack import ByteTrackConfig, ByteTracker
from reid_engine.track.relink import RelinkConfig
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

    def live_ids(self) -> set[int]:
        """Ids of the confirmed tracks that a later update may still extend.

        A confirmed id missing from this set is finished: no later frame will carry it.
        """
        ...

    def take_backfill(self) -> list[Tracks]:
        """Earlier frames of the tracks the latest update confirmed, each reported once.

        A tracker that confirms a track only after several matches reports those matches here,
        right after the update that confirmed it; one that reports tracks at once returns [].

        Returns:
            One :class:`Tracks` per earlier frame, oldest first.
        """
        ...


@dataclass(frozen=True, kw_only=True)
class TrackerConfig:
    """Which tracker to build and how, and how whole tracks are cleaned up afterwards.

    The clean-up settings apply to the finished tracks of a video whatever the tracker kind (see
    :mod:`reid_engine.track.paths` and :mod:`reid_engine.track.relink`).

    Attributes:
        kind: the implementation; ``"bytetrack"`` is the ByteTrack-style IoU tracker.
        bytetrack: settings used when ``kind == "bytetrack"``.
        complete_at_edges: boxes cut by the frame edge are grown past it to the person's shape seen
            elsewhere in the track, as MOTChallenge ground truth boxes are; box coordinates can
            then lie outside the frame. Crops are always cut from the part inside.
        max_gap_s: a track missing for at most this long between two sampled frames where it was
            seen gets linearly interpolated boxes (score 0) in the frames between; 0 disables.
        relink: joining the tracks of one person broken by a long loss, by appearance.
    """

    kind: Literal["bytetrack"] = "bytetrack"
    bytetrack: ByteTrackConfig = field(default_factory=ByteTrackConfig)
    complete_at_edges: bool = True
    max_gap_s: float = 1.0
    relink: RelinkConfig = field(default_factory=RelinkConfig)

    def __post_init__(self) -> None:
        if self.max_gap_s < 0:
            raise ValueError("tracker.max_gap_s must be >= 0")


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
