"""Bounds on what one video may cost to probe and decode; every check in this package reads them."""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, kw_only=True)
class VideoLimits:
    """Hard limits applied to an untrusted video before and while it is decoded.

    Attributes:
        max_bytes: largest accepted file size.
        max_width, max_height: largest accepted frame size; a portrait video may swap the two.
        max_duration_s: longest accepted duration of the video stream.
        max_frames: most frames the decoder may produce in one pass (sampled or not).
        max_decoded_bytes: most RGB bytes (H × W × 3 per frame) one decode pass may hand out.
        probe_timeout_s: wall-clock budget for probing; FFmpeg reads are interrupted past it.
    """

    max_bytes: int = 8 * 1024**3
    max_width: int = 7680
    max_height: int = 4320
    max_duration_s: float = 24 * 3600
    max_frames: int = 5_000_000
    max_decoded_bytes: int = 2 * 1024**4
    probe_timeout_s: float = 20.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
                raise ValueError(f"VideoLimits.{f.name} must be a positive number, got {value!r}")


# Shared default for keyword arguments; VideoLimits is frozen, so sharing one instance is safe.
DEFAULT_LIMITS = VideoLimits()


def format_bytes(n: int) -> str:
    """A byte count for a user-facing message, e.g. ``"8.0 GiB"``."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def format_duration(seconds: float) -> str:
    """A duration for a user-facing message, e.g. ``"25.0 h"`` or ``"90 s"``."""
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:g} s"
