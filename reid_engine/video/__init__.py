"""Probing and decoding untrusted video files with PyAV; imports only the stdlib, numpy and av."""

from __future__ import annotations

from reid_engine.video._container import ALLOWED_DEMUXERS
from reid_engine.video.decode import DecodeStats, iter_frames
from reid_engine.video.limits import VideoLimits
from reid_engine.video.probe import RAW_DEFAULT_FPS, probe_video, timing_warning

__all__ = [
    "ALLOWED_DEMUXERS",
    "RAW_DEFAULT_FPS",
    "DecodeStats",
    "VideoLimits",
    "iter_frames",
    "probe_video",
    "timing_warning",
]
