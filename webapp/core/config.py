"""The product's own settings as typed data: read from the environment (and an optional TOML file)
through the engine's config loader, so an unknown key or a bad value stops the start with a reason.

Imported by ``webapp/settings.py``: nothing here may import Django models.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from reid_engine.config import load_config
from reid_engine.errors import ConfigError

# The names video files go by, recorder exports included. A name only turns away what is plainly not
# footage before any byte is sent; whether a file is accepted is decided by probing its content
# (``reid_engine.video.probe_video``: the demuxer FFmpeg recognises must be on the engine's whitelist),
# so a file under any of these names is read as whatever it really is.
VIDEO_EXTENSIONS = (
    ".mp4", ".m4v", ".mov", ".3gp",  # ISO media (H.264, H.265)
    ".mkv", ".webm",  # Matroska
    ".avi",
    ".ts", ".mts", ".m2ts",  # MPEG transport stream
    ".mpg", ".mpeg", ".ps", ".vob",  # MPEG program stream
    ".flv",
    ".asf", ".wmv",
    ".dav",  # Dahua
    ".264", ".h264", ".265", ".h265", ".hevc",  # raw elementary streams
)


@dataclass(frozen=True, kw_only=True, slots=True)
class LongviewConfig:
    """Limits and engine settings of the web side and its workers.

    Attributes:
        max_upload_bytes: the largest video accepted.
        upload_chunk_bytes: the size of one chunk the browser sends.
        upload_expiry_hours: an upload no chunk has reached for this long is abandoned: its bytes
            and its row are deleted (hourly, and by ``manage.py expire_uploads``).
        allowed_video_extensions: file name endings an upload may have (lower case); the content
            still has to probe as a supported video.
        engine_device: where the workers' models run (``"cpu"``, ``"cuda:0"``).
        engine_threads: torch threads per worker process.
        pipeline_config: a pipeline TOML file, or None for the shipped defaults.
        search_batch: result cards per websocket message.
        search_k: results per lane when a request does not say.
        colour_min_probability: the probability a garment colour filter asks for.
        search_refine: the keys of the engine's ``RefineConfig`` for a search's second pass, checked
            by that class when the first search is refined (importing it here would load FAISS
            into every process at start-up).
        walking_speed_mps: the speed a walking time between two cameras is derived at from their
            distance, when an admin has not entered one for the pair.
        export_clip_padding_s: an evidence clip starts this many seconds before its sighting and
            ends this many after it (within the footage).
        subject_query: the keys of the engine's ``SubjectQueryConfig`` for searches with a
            subject's sightings, checked by that class at the first such search (same reason).
        attribute_gate: the file saying which attributes are estimated (stored, shown, filtered and
            searched), written by ``reid eval-attributes --dataset real-labelled --write-gate``; None
            for the one shipped next to the engine's weights.
    """

    max_upload_bytes: int = 8 * 1024**3
    upload_chunk_bytes: int = 8 * 1024**2
    upload_expiry_hours: float = 24.0
    allowed_video_extensions: tuple[str, ...] = VIDEO_EXTENSIONS
    engine_device: str = "cpu"
    # Half the cores: the ingest and search workers share the machine, and oversubscribed torch
    # threads slow a forward pass several times over.
    engine_threads: int = field(default_factory=lambda: max(1, (os.cpu_count() or 2) // 2))
    pipeline_config: str | None = None
    search_batch: int = 8
    search_k: int = 48
    colour_min_probability: float = 0.5
    search_refine: dict[str, Any] = field(default_factory=dict)
    walking_speed_mps: float = 1.4
    export_clip_padding_s: float = 3.0
    subject_query: dict[str, Any] = field(default_factory=dict)
    attribute_gate: str | None = None

    def __post_init__(self) -> None:
        for name in ("max_upload_bytes", "upload_chunk_bytes", "engine_threads", "search_batch", "search_k"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not (math.isfinite(self.upload_expiry_hours) and self.upload_expiry_hours > 0):
            raise ValueError(f"upload_expiry_hours must be a positive number, got {self.upload_expiry_hours}")
        if not 0.0 <= self.colour_min_probability <= 1.0:
            raise ValueError(f"colour_min_probability must be within 0..1, got {self.colour_min_probability}")
        if not (math.isfinite(self.walking_speed_mps) and self.walking_speed_mps > 0):
            raise ValueError(f"walking_speed_mps must be a positive number, got {self.walking_speed_mps}")
        if not 0.0 <= self.export_clip_padding_s <= 60.0:
            raise ValueError(f"export_clip_padding_s must be within 0..60, got {self.export_clip_padding_s}")

    def as_settings(self) -> dict[str, Any]:
        """The ``LONGVIEW`` settings dict (upper-case keys) that the apps read."""
        return {
            "MAX_UPLOAD_BYTES": self.max_upload_bytes,
            "UPLOAD_CHUNK_BYTES": self.upload_chunk_bytes,
            "UPLOAD_EXPIRY_HOURS": self.upload_expiry_hours,
            "ALLOWED_VIDEO_EXTENSIONS": self.allowed_video_extensions,
            "ENGINE_DEVICE": self.engine_device,
            "ENGINE_THREADS": self.engine_threads,
            "PIPELINE_CONFIG": self.pipeline_config,
            "SEARCH_BATCH": self.search_batch,
            "SEARCH_K": self.search_k,
            "COLOUR_MIN_PROBABILITY": self.colour_min_probability,
            "SEARCH_REFINE": dict(self.search_refine),
            "WALKING_SPEED_MPS": self.walking_speed_mps,
            "EXPORT_CLIP_PADDING_S": self.export_clip_padding_s,
            "SUBJECT_QUERY": dict(self.subject_query),
            "ATTRIBUTE_GATE": self.attribute_gate,
        }


# Environment variable -> (config key, parser). Numbers are parsed here so a bad one names its variable.
_INT_VARIABLES = {
    "MAX_UPLOAD_BYTES": "max_upload_bytes",
    "UPLOAD_CHUNK_BYTES": "upload_chunk_bytes",
    "ENGINE_THREADS": "engine_threads",
}
_FLOAT_VARIABLES = {"UPLOAD_EXPIRY_HOURS": "upload_expiry_hours"}
_STR_VARIABLES = {
    "ENGINE_DEVICE": "engine_device",
    "PIPELINE_CONFIG": "pipeline_config",
    "ATTRIBUTE_GATE": "attribute_gate",
}


def env_int(environ: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    """The integer in environment variable ``name``, ``default`` when unset or empty.

    Raises:
        ImproperlyConfigured: naming the variable, when it holds anything but a whole number.
    """
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


def longview_config(environ: Mapping[str, str]) -> LongviewConfig:
    """The settings from ``LONGVIEW_CONFIG`` (a TOML file of :class:`LongviewConfig` keys), then the
    environment variables that override single keys.

    Raises:
        ImproperlyConfigured: a bad number in a variable, an unknown key or a bad value in the file.
    """
    path = environ.get("LONGVIEW_CONFIG") or None
    try:
        base = load_config(LongviewConfig, path)
    except ConfigError as exc:
        raise ImproperlyConfigured(f"LONGVIEW_CONFIG: {exc}") from None
    overrides: dict[str, Any] = {}
    for variable, key in _INT_VARIABLES.items():
        value = env_int(environ, variable)
        if value is not None:
            overrides[key] = value
    for variable, key in _FLOAT_VARIABLES.items():
        raw = environ.get(variable, "").strip()
        if raw:
            try:
                overrides[key] = float(raw)
            except ValueError:
                raise ImproperlyConfigured(f"{variable} must be a number, got {raw!r}") from None
    for variable, key in _STR_VARIABLES.items():
        if environ.get(variable):
            overrides[key] = environ[variable]
    if not overrides:
        return base
    try:
        return dataclasses.replace(base, **overrides)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{', '.join(sorted(overrides))}: {exc}") from None
