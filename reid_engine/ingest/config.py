"""How a video is turned into tracklets: the settings of one ingest pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reid_engine.detect import DetectorConfig
from reid_engine.embed import EmbedderConfig
from reid_engine.ingest.gating import GatingConfig
from reid_engine.track import TrackerConfig
from reid_engine.video import VideoLimits

SHIPPED_REID_MODEL = Path(__file__).resolve().parent.parent / "weights" / "longview-reid.pt"
"""The clothes-invariant ReID model trained by ``reid train`` on SynthCC (docs/training.md)."""


@dataclass(frozen=True, kw_only=True)
class PipelineConfig:
    """How a video is turned into tracklets.

    Attributes:
        sample_fps: frames per second decoded and analysed (people walk slowly; 5 is plenty).
        batch_frames: frames handed to the detector at once.
        min_track_frames: a track seen in fewer sampled frames is dropped as noise.
        best_k: crops kept per tracklet for embedding (the best by quality).
        thumbnail_height: pixel height of the stored thumbnail.
        min_crop_height: boxes smaller than this (pixels) are tracked but never chosen as crops.
        proxy_width: largest width of the review video written when a proxy path is given.
        colour_names: name each tracklet's upper and lower garment colours from its best crops
            (model-free, ``reid_engine.attributes.colour``).
        embedder: the appearance embedder (clothing included): the "same outfit" search lane.
        identity_lane: also embed each tracklet with ``identity_embedder``, the clothes-invariant
            ReID model: the "possible change of clothes" search lane.
        identity_embedder: that model (by default the one shipped with the engine).
        partial_every_s: with a partial-results callback, hand over the tracklets whose tracks
            have ended every this many seconds of video, so they can be searched before the whole
            video is done; 0 hands over nothing until the end.
        gating: when the detector may skip a sampled frame (motion gating, a calm-scene stride).
    """

    sample_fps: float = 5.0
    batch_frames: int = 8
    min_track_frames: int = 3
    best_k: int = 4
    thumbnail_height: int = 160
    min_crop_height: int = 32
    proxy_width: int = 640
    colour_names: bool = True
    # MoveNet finds more people than HOG and gives keypoints; HOG stays available as kind="hog".
    detector: DetectorConfig = field(default_factory=lambda: DetectorConfig(kind="movenet"))
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    embedder: EmbedderConfig = field(default_factory=EmbedderConfig)
    identity_lane: bool = True
    identity_embedder: EmbedderConfig = field(
        default_factory=lambda: EmbedderConfig(kind="reid", checkpoint=str(SHIPPED_REID_MODEL))
    )
    limits: VideoLimits = field(default_factory=VideoLimits)
    partial_every_s: float = 10.0
    gating: GatingConfig = field(default_factory=GatingConfig)

    def __post_init__(self) -> None:
        if self.sample_fps <= 0:
            raise ValueError("sample_fps must be positive")
        if self.partial_every_s < 0:
            raise ValueError("partial_every_s must be >= 0")
        if self.best_k < 1 or self.min_track_frames < 1 or self.batch_frames < 1:
            raise ValueError("best_k, min_track_frames and batch_frames must be at least 1")
