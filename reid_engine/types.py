"""Small frozen records that the engine's stages exchange; shapes and dtypes are part of the contract."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What probing a video file found, before any frame is decoded.

    Attributes:
        container: demuxer name as FFmpeg reports it (``"mov,mp4,m4a,3gp,3g2,mj2"``, ``"avi"``, …).
        codec: video codec name (``"h264"``, ``"mjpeg"``, …).
        width, height: coded frame size in pixels, before rotation.
        fps: average frame rate (frames per second), > 0.
        duration_s: duration of the video stream in seconds, > 0.
        frame_count: frames the container declares, or an estimate from duration × fps.
        size_bytes: file size on disk.
        rotation: display rotation in degrees (0, 90, 180, 270) from the stream's metadata.
        timestamps: where frame times come from: ``"container"`` (the file's own timestamps),
            ``"stream_rate"`` (a raw elementary stream, which has none: counted at the frame rate its
            bitstream declares) or ``"default_rate"`` (a raw stream that declares no rate either:
            counted at the engine's default rate, so times and durations may be off).
    """

    container: str
    codec: str
    width: int
    height: int
    fps: float
    duration_s: float
    frame_count: int
    size_bytes: int
    rotation: int = 0
    timestamps: str = "container"

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready summary."""
        return {
            "container": self.container,
            "codec": self.codec,
            "width": self.width,
            "height": self.height,
            "fps": round(self.fps, 3),
            "duration_s": round(self.duration_s, 3),
            "frame_count": self.frame_count,
            "size_bytes": self.size_bytes,
            "rotation": self.rotation,
            "timestamps": self.timestamps,
        }


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame.

    Attributes:
        index: 0-based index of the frame in the source stream (not in the sampled sequence).
        pts_s: presentation time in seconds from the start of the stream.
        image: uint8 array (H, W, 3), RGB, C-contiguous, already rotated for display.
    """

    index: int
    pts_s: float
    image: np.ndarray


@dataclass(frozen=True, slots=True)
class Detections:
    """People found in one frame.

    Attributes:
        frame_index: index of the frame the detections belong to.
        boxes_xyxy: float32 (N, 4), pixel coordinates (x1, y1, x2, y2), clipped to the frame.
        scores: float32 (N,), detector confidence in [0, 1].
        keypoints: float32 (N, 17, 3), per person the COCO keypoints (nose, eyes, ears,
            shoulders, elbows, wrists, hips, knees, ankles; left before right) as (x, y, score)
            in frame pixels, or None when the detector finds no keypoints.
    """

    frame_index: int
    boxes_xyxy: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.scores.shape[0])


@dataclass(frozen=True, slots=True)
class Tracks:
    """Confirmed tracks alive in one frame, as the tracker reports them.

    Attributes:
        frame_index: index of the frame.
        track_ids: int64 (N,), stable across frames for the same person.
        boxes_xyxy: float32 (N, 4), pixel coordinates of each track's box in this frame.
        scores: float32 (N,), the score of the detection matched to each track.
        detection_indices: int64 (N,), index of each track's matched detection in the frame's
            ``Detections`` (so keypoints and other per-detection data can follow the track), or
            None when the tracker does not report it.
    """

    frame_index: int
    track_ids: np.ndarray
    boxes_xyxy: np.ndarray
    scores: np.ndarray
    detection_indices: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.track_ids.shape[0])


@dataclass(frozen=True, slots=True)
class Crop:
    """One image of a person cut from a frame.

    Attributes:
        frame_index: source frame index.
        pts_s: time of the source frame in seconds.
        box_xyxy: float32 (4,), the box in frame pixels.
        image: uint8 (h, w, 3) RGB.
        quality: higher is better; used to pick the best crops of a tracklet.
        keypoints: float32 (17, 3) COCO keypoints (x, y, score) in crop pixels, or None when the
            detector gives none.
    """

    frame_index: int
    pts_s: float
    box_xyxy: np.ndarray
    image: np.ndarray
    quality: float
    keypoints: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class Tracklet:
    """One person followed through one video.

    Attributes:
        track_id: id the tracker gave, unique within the video.
        frame_indices: int64 (T,), increasing.
        timestamps_s: float64 (T,), seconds from the start of the video.
        boxes_xyxy: float32 (T, 4).
        scores: float32 (T,).
        best_crops: the K best crops, best first.
    """

    track_id: int
    frame_indices: np.ndarray
    timestamps_s: np.ndarray
    boxes_xyxy: np.ndarray
    scores: np.ndarray
    best_crops: tuple[Crop, ...]

    @property
    def start_s(self) -> float:
        return float(self.timestamps_s[0])

    @property
    def end_s(self) -> float:
        return float(self.timestamps_s[-1])


@dataclass(frozen=True, slots=True)
class EmbeddedTracklet:
    """A tracklet with its embeddings, ready to be stored and indexed.

    Attributes:
        tracklet: the tracklet.
        embedding: float32 (D,), the appearance embedding (clothing included): the L2-normalised
            mean of the best crops' embeddings by the appearance embedder; stored as
            ``Tracklet.appearance_embedding`` on the web side.
        thumbnail: uint8 (h, w, 3) RGB, the best crop resized for display.
        attributes: ``{attribute: {value name: probability}}`` for the attributes that could be
            estimated (empty when attribute estimation is off).
        identity_embedding: float32 (D',), the identity embedding: L2-normalised, from the
            clothes-invariant model; None when the identity lane is off.
    """

    tracklet: Tracklet
    embedding: np.ndarray
    thumbnail: np.ndarray
    attributes: dict[str, dict[str, float]] = field(default_factory=dict)
    identity_embedding: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class PartialResult:
    """Tracklets of a video still being ingested whose tracks have ended.

    They are final as far as the tracker goes; the end of the video may still re-link one with a
    later track of the same person, so the video's :class:`IngestResult` supersedes them.

    Attributes:
        tracklets: embedded tracklets, ordered by start time.
        embedder: name of the appearance embedding model.
        identity_embedder: name of the clothes-invariant model, or None when that lane is off.
        analysed_s: how far into the video the analysis has got, in seconds.
    """

    tracklets: tuple[EmbeddedTracklet, ...]
    embedder: str
    identity_embedder: str | None
    analysed_s: float


@dataclass(frozen=True, slots=True)
class Progress:
    """A progress report from a long-running engine call.

    Attributes:
        stage: short machine name (``"probe"``, ``"decode"``, ``"detect"``, ``"embed"``, ``"done"``).
        fraction: overall completion in [0, 1].
        eta_s: estimated seconds left, or None while unknown.
        message: one human-readable line.
    """

    stage: str
    fraction: float
    eta_s: float | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class Hit:
    """One search result.

    Attributes:
        item_id: the caller's id of the indexed item (the tracklet's database id in the app).
        score: cosine similarity in [-1, 1]; higher is closer.
        rank: 0-based rank in the result list.
    """

    item_id: int
    score: float
    rank: int


@dataclass(frozen=True, slots=True)
class IngestResult:
    """Everything one ingest of one video produced.

    Attributes:
        video: what probing found.
        tracklets: embedded tracklets, ordered by start time.
        frames_decoded: frames decoded and processed at the sampled rate.
        frames_skipped: frames the decoder could not decode (corrupt data), skipped and counted.
        embedder: name of the appearance embedding model, stored with the embeddings.
        identity_embedder: name of the clothes-invariant model, or None when that lane is off.
        warnings: human-readable notes (e.g. "12 corrupt frames skipped").
        stage_seconds: wall seconds spent in each stage (``decode``, ``detect``, ``track``,
            ``crops``, ``embed``), for benchmarks and logs.
        frame_decisions: how many sampled frames the detector ran on (``detect``), were given the
            last detections again because nothing moved (``reuse``), or were skipped in a calm
            scene (``skip``).
    """

    video: VideoInfo
    tracklets: tuple[EmbeddedTracklet, ...]
    frames_decoded: int
    frames_skipped: int
    embedder: str
    identity_embedder: str | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    frame_decisions: dict[str, int] = field(default_factory=dict)
