"""Multi-person tracking: the ``Tracker`` protocol and its implementations."""

from __future__ import annotations

from reid_engine.track.base import Tracker, TrackerConfig, build_tracker
from reid_engine.track.bytetrack import ByteTrackConfig, ByteTracker
from reid_engine.track.kalman import KalmanBoxFilter
from reid_engine.track.paths import complete_at_edges, fill_gaps
from reid_engine.track.relink import RelinkConfig, relink_tracks

__all__ = [
    "ByteTrackConfig",
    "ByteTracker",
    "KalmanBoxFilter",
    "RelinkConfig",
    "Tracker",
    "TrackerConfig",
    "build_tracker",
    "complete_at_edges",
    "fill_gaps",
    "relink_tracks",
]
