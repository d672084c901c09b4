"""Multi-person tracking: the ``Tracker`` protocol and its implementations."""

from __future__ import annotations

from reid_engine.track.base import Tracker, TrackerConfig, build_tracker
from reid_engine.track.bytetrack import ByteTrackConfig, ByteTracker
from reid_engine.track.kalman import KalmanBoxFilter

__all__ = ["ByteTrackConfig", "ByteTracker", "KalmanBoxFilter", "Tracker", "TrackerConfig", "build_tracker"]
