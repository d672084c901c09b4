"""Tracks of real footage with crops sampled along them: cut once by the pipeline, saved, reused.

The pipeline keeps only each track's best few crops; the real-footage protocol and site adaptation
need crops spread over a track's whole life. So the video is ingested once (detection and tracking
through the pipeline's public entry point), then decoded again and each track's box cut at evenly
spaced times. The result is saved as one ``.npz`` so another model can be scored or adapted
without detecting again.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from reid_engine.errors import ReidEngineError
from reid_engine.eval.real import FootageTrack

if TYPE_CHECKING:
    from reid_engine.embed import Embedder
    from reid_engine.pipeline import Pipeline

logger = logging.getLogger(__name__)

TRACKS_FORMAT = "longview-footage-tracks/1"


class TracksFileError(ReidEngineError):
    """A saved tracks file is missing, damaged or of another format."""


@dataclasses.dataclass(frozen=True, slots=True)
class Footage:
    """The tracks of several videos and each video's duration (seconds), by footage name."""

    tracks: list[FootageTrack]
    durations: dict[str, float]


def collect_tracks(
    video: Path,
    pipeline: Pipeline,
    *,
    crops_per_track: int = 24,
    min_crop_height: int = 48,
    name: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> Footage:
    """Run the pipeline on one video and cut up to ``crops_per_track`` crops along each track.

    Args:
        video: the video file.
        pipeline: a built :class:`reid_engine.pipeline.Pipeline`.
        crops_per_track: crops per track, evenly spaced in time over the frames whose box is tall enough.
        min_crop_height: boxes shorter than this (pixels) are not cut.
        name: the footage's name (default: the file's name).
        progress: called with one line per stage.

    Returns:
        The tracks with at least one crop, and the video's duration.
    """
    from reid_engine.video import iter_frames

    footage = name or video.name
    if progress:
        progress(f"{footage}: detecting and tracking")
    result = pipeline.run(video)
    wanted: dict[int, list[tuple[int, np.ndarray]]] = {}
    for pos, et in enumerate(result.tracklets):
        t = et.tracklet
        heights = t.boxes_xyxy[:, 3] - t.boxes_xyxy[:, 1]
        ok = np.flatnonzero(heights >= min_crop_height)
        if len(ok) == 0:
            continue
        pick = ok[np.round(np.linspace(0, len(ok) - 1, min(crops_per_track, len(ok)))).astype(int)]
        for k in np.unique(pick):
            wanted.setdefault(int(t.frame_indices[k]), []).append((pos, t.boxes_xyxy[k]))
    crops: dict[int, list[tuple[float, np.ndarray]]] = {}
    if progress:
        progress(f"{footage}: cutting crops of {len(result.tracklets)} tracks")
    last = max(wanted) if wanted else -1
    frames = iter_frames(video, info=result.video, limits=pipeline.config.limits)
    try:
        for frame in frames:
            if frame.index > last:
                break
            for pos, box in wanted.get(frame.index, []):
                crop = _cut(frame.image, box)
                if crop is not None:
                    crops.setdefault(pos, []).append((frame.pts_s, crop))
    finally:
        frames.close()
    tracks = []
    for pos, et in enumerate(result.tracklets):
        if pos not in crops:
            continue
        items = sorted(crops[pos], key=lambda tc: tc[0])
        tracks.append(FootageTrack(
            footage=footage, track_id=et.tracklet.track_id,
            start_s=et.tracklet.start_s, end_s=et.tracklet.end_s,
            crop_times_s=np.array([tc[0] for tc in items], dtype=np.float64),
            crops=tuple(tc[1] for tc in items),
        ))
    return Footage(tracks, {footage: float(result.video.duration_s)})


def _cut(image: np.ndarray, box: np.ndarray) -> np.ndarray | None:
    h, w = image.shape[:2]
    x1, y1 = max(int(np.floor(box[0])), 0), max(int(np.floor(box[1])), 0)
    x2, y2 = min(int(np.ceil(box[2])), w), min(int(np.ceil(box[3])), h)
    if x2 - x1 < 4 or y2 - y1 < 8:
        return None
    return np.ascontiguousarray(image[y1:y2, x1:x2])


def merge(parts: list[Footage]) -> Footage:
    """Several footages as one set (names must differ)."""
    tracks: list[FootageTrack] = []
    durations: dict[str, float] = {}
    for part in parts:
        clash = set(part.durations) & set(durations)
        if clash:
            raise TracksFileError(f"two footages are named {sorted(clash)[0]!r}")
        tracks.extend(part.tracks)
        durations.update(part.durations)
    return Footage(tracks, durations)


def save_tracks(path: Path, footage: Footage) -> None:
    """Write tracks and crops (PNG-encoded, lossless) to one ``.npz``."""
    blobs, offsets = [], [0]
    crop_track, crop_time = [], []
    for k, t in enumerate(footage.tracks):
        for time_s, crop in zip(t.crop_times_s, t.crops, strict=True):
            ok, png = cv2.imencode(".png", crop[:, :, ::-1])
            if not ok:
                raise TracksFileError("could not encode a crop")
            blobs.append(png.ravel())
            offsets.append(offsets[-1] + len(png))
            crop_track.append(k)
            crop_time.append(time_s)
    names = sorted(footage.durations)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.npz")
    np.savez(
        tmp,
        format=np.array(TRACKS_FORMAT),
        footage_names=np.array(names),
        footage_durations=np.array([footage.durations[n] for n in names], dtype=np.float64),
        track_footage=np.array([names.index(t.footage) for t in footage.tracks], dtype=np.int64),
        track_ids=np.array([t.track_id for t in footage.tracks], dtype=np.int64),
        track_spans=np.array([[t.start_s, t.end_s] for t in footage.tracks], dtype=np.float64).reshape(-1, 2),
        crop_track=np.array(crop_track, dtype=np.int64),
        crop_time=np.array(crop_time, dtype=np.float64),
        crop_offsets=np.array(offsets, dtype=np.int64),
        crop_bytes=np.concatenate(blobs) if blobs else np.zeros(0, np.uint8),
    )
    tmp.replace(path)


def load_tracks(path: Path) -> Footage:
    """Read a file written by :func:`save_tracks`.

    Raises:
        TracksFileError: missing, damaged or foreign file.
    """
    if not path.is_file():
        raise TracksFileError(f"tracks file not found: {path}")
    try:
        z = np.load(path, allow_pickle=False)
        if str(z["format"]) != TRACKS_FORMAT:
            raise TracksFileError(f"{path} is not a tracks file (format {z['format']!s})")
        names = [str(n) for n in z["footage_names"]]
        durations = dict(zip(names, (float(d) for d in z["footage_durations"]), strict=True))
        offsets, raw = z["crop_offsets"], z["crop_bytes"]
        crop_track, crop_time = z["crop_track"], z["crop_time"]
        track_footage, track_ids, spans = z["track_footage"], z["track_ids"], z["track_spans"]
    except (OSError, KeyError, ValueError) as exc:
        raise TracksFileError(f"{path} is not a readable tracks file: {exc}") from None
    tracks = []
    for k in range(len(track_ids)):
        sel = np.flatnonzero(crop_track == k)
        crops = []
        for c in sel:
            image = cv2.imdecode(raw[offsets[c] : offsets[c + 1]], cv2.IMREAD_COLOR)
            if image is None:
                raise TracksFileError(f"{path}: crop {c} is damaged")
            crops.append(np.ascontiguousarray(image[:, :, ::-1]))
        tracks.append(FootageTrack(
            footage=names[int(track_footage[k])], track_id=int(track_ids[k]),
            start_s=float(spans[k, 0]), end_s=float(spans[k, 1]),
            crop_times_s=crop_time[sel].astype(np.float64), crops=tuple(crops),
        ))
    return Footage(tracks, durations)


def embed_tracks(tracks: list[FootageTrack], embedder: Embedder) -> list[np.ndarray]:
    """Per track, float32 (C, D) unit vectors of its crops, embedded in one pass."""
    flat = [c for t in tracks for c in t.crops]
    vectors = embedder.embed(flat) if flat else np.zeros((0, embedder.dim), np.float32)
    out, start = [], 0
    for t in tracks:
        out.append(vectors[start : start + len(t.crops)])
        start += len(t.crops)
    return out
