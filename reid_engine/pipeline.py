"""Ingest one video: decode → detect → track → pick best crops → embed, reporting progress."""

from __future__ import annotations

import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from reid_engine.attributes.tracklet import colour_attributes
from reid_engine.detect import Detector, DetectorConfig, build_detector
from reid_engine.embed import Embedder, EmbedderConfig, build_embedder
from reid_engine.track import (
    Tracker,
    TrackerConfig,
    build_tracker,
    complete_at_edges,
    fill_gaps,
    relink_tracks,
)
from reid_engine.types import (
    Crop,
    Detections,
    EmbeddedTracklet,
    Frame,
    IngestResult,
    PartialResult,
    Progress,
    Tracklet,
    Tracks,
    VideoInfo,
)
from reid_engine.video import DecodeStats, VideoLimits, iter_frames, probe_video
from reid_engine.video.writer import ProxyWriter

logger = logging.getLogger(__name__)

SHIPPED_REID_MODEL = Path(__file__).resolve().parent / "weights" / "longview-reid.pt"
"""The clothes-invariant ReID model trained by ``reid train`` on SynthCC (docs/training.md)."""

ProgressCallback = Callable[[Progress], None]
PartialCallback = Callable[[PartialResult], None]
# Frames kept in memory for crops of frames a tracker reports late (its backfill): ByteTrack's
# defaults need one.
_BACKFILL_FRAMES = 4


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

    def __post_init__(self) -> None:
        if self.sample_fps <= 0:
            raise ValueError("sample_fps must be positive")
        if self.partial_every_s < 0:
            raise ValueError("partial_every_s must be >= 0")
        if self.best_k < 1 or self.min_track_frames < 1 or self.batch_frames < 1:
            raise ValueError("best_k, min_track_frames and batch_frames must be at least 1")


@dataclass
class _TrackAccumulator:
    frame_indices: list[int] = field(default_factory=list)
    timestamps: list[float] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    # Min-heap of (quality, tie-breaker, crop): the worst kept crop sits on top, ready to be evicted.
    best: list[tuple[float, int, Crop]] = field(default_factory=list)


class Pipeline:
    """A loaded detector and embedder, reusable across videos (load once per worker process).

    Args:
        config: the pipeline configuration.
        detector: a built detector.
        embedder: a built embedder.
    """

    def __init__(
        self,
        config: PipelineConfig,
        detector: Detector,
        embedder: Embedder,
        identity_embedder: Embedder | None = None,
    ) -> None:
        self.config = config
        self.detector = detector
        self.embedder = embedder
        self.identity_embedder = identity_embedder

    def run(
        self,
        path: str | Path,
        *,
        progress: ProgressCallback | None = None,
        proxy_path: str | Path | None = None,
        on_partial: PartialCallback | None = None,
    ) -> IngestResult:
        """Ingest one video file.

        Args:
            path: the video file.
            progress: called with :class:`Progress` reports, at most a few times per second.
            proxy_path: when given, the analysed frames are also written there as a small H.264 mp4
                with the source's timestamps, for review in a browser.
            on_partial: called during the analysis (every ``partial_every_s`` seconds of video)
                with the tracklets whose tracks have ended since the last call. Their crops are
                embedded once: the final result reuses those vectors, so a tracklet that the end of
                the video leaves alone comes back identical.

        Returns:
            The embedded tracklets and decode statistics.

        Raises:
            VideoError: the file is not a usable video.
        """
        cfg = self.config
        report = _ProgressReporter(progress)
        report.emit(Progress(stage="probe", fraction=0.0, message="checking the video"))
        info = probe_video(path, limits=cfg.limits)
        stats = DecodeStats()
        tracker = build_tracker(cfg.tracker)
        tracks: dict[int, _TrackAccumulator] = {}
        clock = _StageClock()
        frames = iter_frames(path, info=info, sample_fps=cfg.sample_fps, limits=cfg.limits, stats=stats)
        proxy = (
            ProxyWriter(
                proxy_path,
                source_width=frames_width(info),
                source_height=frames_height(info),
                max_width=cfg.proxy_width,
                fps_hint=cfg.sample_fps,
            )
            if proxy_path is not None
            else None
        )
        sampled: list[tuple[int, float]] = []
        # Crop vectors by the crop's tie-breaker, shared by the partial hand-overs and the end.
        vectors: dict[int, np.ndarray] = {}
        identity: dict[int, np.ndarray] = {}
        partial = (
            _Partials(on_partial, cfg.partial_every_s, vectors, identity)
            if on_partial is not None and cfg.partial_every_s > 0
            else None
        )
        try:
            self._detect_and_track(frames, clock, tracker, tracks, report, info, proxy, sampled, partial)
        finally:
            if proxy is not None:
                proxy.close()
        candidates = [(track_id, acc) for track_id, acc in sorted(tracks.items()) if acc.best]
        report.emit(Progress(stage="embed", fraction=0.9, message=f"embedding {len(candidates)} tracks"))
        with clock("embed"):
            self._embed_crops((acc for _, acc in candidates), cache=vectors)
        with clock("track"):
            merged = self._relink(candidates, vectors)
        with clock("embed"):
            if self.identity_embedder:
                self._embed_crops((acc for _, acc in merged), self.identity_embedder, cache=identity)
        with clock("track"):
            embedded = self._finish_all(
                merged,
                vectors,
                identity if self.identity_embedder else None,
                sampled,
                frames_width(info),
                frames_height(info),
            )
        warnings = []
        if stats.frames_skipped:
            warnings.append(f"{stats.frames_skipped} corrupt frames skipped")
        if stats.truncated:
            warnings.append(f"the video ends early, at {stats.end_s:.1f}s of {info.duration_s:.1f}s")
        report.emit(Progress(stage="done", fraction=1.0, eta_s=0.0, message=f"{len(embedded)} people found"))
        return IngestResult(
            video=info,
            tracklets=tuple(embedded),
            frames_decoded=stats.frames_decoded,
            frames_skipped=stats.frames_skipped,
            embedder=self.embedder.name,
            identity_embedder=self.identity_embedder.name if self.identity_embedder else None,
            warnings=tuple(warnings),
            stage_seconds=clock.seconds(),
        )

    def _detect_and_track(
        self,
        frames: Iterable[Frame],
        clock: _StageClock,
        tracker: Tracker,
        tracks: dict[int, _TrackAccumulator],
        report: _ProgressReporter,
        info: VideoInfo,
        proxy: ProxyWriter | None,
        sampled: list[tuple[int, float]],
        partial: _Partials | None = None,
    ) -> None:
        counter = 0
        # The last few frames and their detections, for the crops of frames a track is confirmed
        # in retroactively (the tracker's backfill).
        recent: deque[tuple[Frame, Detections]] = deque(maxlen=_BACKFILL_FRAMES)
        for batch in clock.timed_batches(frames, self.config.batch_frames):
            if proxy is not None:
                with clock("proxy"):
                    for frame in batch:
                        proxy.write(frame)
            with clock("detect"):
                detections = self.detector.detect(batch)
            for frame, dets in zip(batch, detections, strict=True):
                sampled.append((frame.index, frame.pts_s))
                with clock("track"):
                    tracks_now = tracker.update(dets)
                    earlier = tracker.take_backfill()
                with clock("crops"):
                    kept = {f.index: (f, d) for f, d in recent}
                    for old in earlier:
                        if old.frame_index in kept:
                            old_frame, old_dets = kept[old.frame_index]
                            counter = self._accumulate(old_frame, old, old_dets, tracks, counter)
                        else:
                            _accumulate_boxes(old, dict(sampled)[old.frame_index], tracks)
                    counter = self._accumulate(frame, tracks_now, dets, tracks, counter)
                recent.append((frame, dets))
            last = batch[-1]
            report.emit(
                Progress(
                    stage="detect",
                    fraction=0.9 * min(1.0, last.pts_s / info.duration_s),
                    message=f"{last.pts_s:.0f}s of {info.duration_s:.0f}s analysed, {len(tracks)} tracks",
                ),
                weight_done=min(1.0, last.pts_s / info.duration_s),
            )
            if partial is not None and last.pts_s - partial.last_s >= partial.every_s:
                partial.last_s = last.pts_s
                with clock("embed"):
                    self._hand_over(partial, tracker, tracks, sampled, info, last.pts_s)

    def _hand_over(
        self,
        partial: _Partials,
        tracker: Tracker,
        tracks: dict[int, _TrackAccumulator],
        sampled: list[tuple[int, float]],
        info: VideoInfo,
        analysed_s: float,
    ) -> None:
        """Finish, embed and hand over the tracks the tracker has let go of since the last time."""
        live = tracker.live_ids()
        ended = [
            (track_id, acc)
            for track_id, acc in sorted(tracks.items())
            if track_id not in live and track_id not in partial.done and acc.best
        ]
        if not ended:
            return
        partial.done.update(track_id for track_id, _ in ended)
        self._embed_crops((acc for _, acc in ended), cache=partial.vectors)
        if self.identity_embedder:
            self._embed_crops((acc for _, acc in ended), self.identity_embedder, cache=partial.identity)
        out = self._finish_all(
            ended,
            partial.vectors,
            partial.identity if self.identity_embedder else None,
            sampled,
            frames_width(info),
            frames_height(info),
        )
        if out:
            partial.callback(
                PartialResult(
                    tracklets=tuple(out),
                    embedder=self.embedder.name,
                    identity_embedder=self.identity_embedder.name if self.identity_embedder else None,
                    analysed_s=analysed_s,
                )
            )

    def _accumulate(
        self,
        frame: Frame,
        tracks_now: Tracks,
        dets: Detections,
        tracks: dict[int, _TrackAccumulator],
        counter: int,
    ) -> int:
        height, width = frame.image.shape[:2]
        det_indices = (
            tracks_now.detection_indices
            if tracks_now.detection_indices is not None
            else np.full(len(tracks_now), -1, dtype=np.int64)
        )
        for track_id, box, score, det_index in zip(
            tracks_now.track_ids, tracks_now.boxes_xyxy, tracks_now.scores, det_indices, strict=True
        ):
            acc = tracks.setdefault(int(track_id), _TrackAccumulator())
            acc.frame_indices.append(frame.index)
            acc.timestamps.append(frame.pts_s)
            acc.boxes.append(box.astype(np.float32))
            acc.scores.append(float(score))
            keypoints = None
            if dets.keypoints is not None and 0 <= det_index < len(dets):
                keypoints = dets.keypoints[det_index]
            quality = crop_quality(
                frame.image, box, float(score), min_height=self.config.min_crop_height, keypoints=keypoints
            )
            if quality <= 0:
                continue
            if len(acc.best) >= self.config.best_k and quality <= acc.best[0][0]:
                continue
            x1, y1, x2, y2 = _int_box(box, width, height)
            if keypoints is not None:
                keypoints = keypoints.astype(np.float32, copy=True)
                keypoints[:, 0] -= x1
                keypoints[:, 1] -= y1
            crop = Crop(
                frame_index=frame.index,
                pts_s=frame.pts_s,
                box_xyxy=box.astype(np.float32),
                image=np.ascontiguousarray(frame.image[y1:y2, x1:x2]),
                quality=quality,
                keypoints=keypoints,
            )
            counter += 1
            if len(acc.best) < self.config.best_k:
                heapq.heappush(acc.best, (quality, counter, crop))
            else:
                heapq.heapreplace(acc.best, (quality, counter, crop))
        return counter

    def _embed_crops(
        self,
        accs: Iterable[_TrackAccumulator],
        embedder: Embedder | None = None,
        *,
        cache: dict[int, np.ndarray],
    ) -> None:
        """Embed every kept crop not in ``cache`` yet, into it, keyed by the crop's unique
        tie-breaker in the ``best`` heaps."""
        items = [item for acc in accs for item in acc.best if item[1] not in cache]
        if not items:
            return
        vectors = (embedder or self.embedder).embed([item[2].image for item in items])
        cache.update({item[1]: vector for item, vector in zip(items, vectors, strict=True)})

    def _relink(
        self, candidates: list[tuple[int, _TrackAccumulator]], vectors: dict[int, np.ndarray]
    ) -> list[tuple[int, _TrackAccumulator]]:
        """Merge the tracks that re-linking chains together into one, under the first one's id."""
        cfg = self.config.tracker.relink
        if not cfg.enabled or len(candidates) < 2:
            return candidates
        paths = [self._finish(track_id, acc) for track_id, acc in candidates]
        embeddings = [_track_embedding(acc, vectors) for _, acc in candidates]
        out = []
        for chain in relink_tracks(paths, embeddings, cfg):
            if len(chain) > 1:
                logger.debug("re-linked tracks %s", [candidates[i][0] for i in chain])
            out.append((candidates[chain[0]][0], self._merge([candidates[i][1] for i in chain])))
        return out

    def _merge(self, accs: list[_TrackAccumulator]) -> _TrackAccumulator:
        if len(accs) == 1:
            return accs[0]
        merged = _TrackAccumulator()
        for acc in accs:
            merged.frame_indices += acc.frame_indices
            merged.timestamps += acc.timestamps
            merged.boxes += acc.boxes
            merged.scores += acc.scores
        merged.best = heapq.nlargest(self.config.best_k, (item for acc in accs for item in acc.best))
        heapq.heapify(merged.best)
        return merged

    def _finish_all(
        self,
        tracks: list[tuple[int, _TrackAccumulator]],
        vectors: dict[int, np.ndarray],
        identity: dict[int, np.ndarray] | None,
        sampled: list[tuple[int, float]],
        width: int,
        height: int,
    ) -> list[EmbeddedTracklet]:
        cfg = self.config
        sampled_frames = np.asarray([f for f, _ in sampled], dtype=np.int64)
        sampled_times = np.asarray([t for _, t in sampled], dtype=np.float64)
        out = []
        for track_id, acc in tracks:
            if len(acc.frame_indices) < cfg.min_track_frames:
                continue
            tracklet = self._finish(track_id, acc)
            if cfg.tracker.complete_at_edges:
                tracklet = complete_at_edges(tracklet, width=width, height=height)
            if cfg.tracker.max_gap_s > 0:
                tracklet = fill_gaps(
                    tracklet,
                    sampled_frames=sampled_frames,
                    sampled_times=sampled_times,
                    max_gap_s=cfg.tracker.max_gap_s,
                )
            out.append(
                EmbeddedTracklet(
                    tracklet=tracklet,
                    embedding=_track_embedding(acc, vectors),
                    thumbnail=make_thumbnail(tracklet.best_crops[0].image, cfg.thumbnail_height),
                    attributes=colour_attributes(tracklet.best_crops) if cfg.colour_names else {},
                    identity_embedding=_track_embedding(acc, identity) if identity is not None else None,
                )
            )
        out.sort(key=lambda e: (e.tracklet.start_s, e.tracklet.track_id))
        return out

    def _finish(self, track_id: int, acc: _TrackAccumulator) -> Tracklet:
        best = tuple(item[2] for item in sorted(acc.best, key=lambda item: (-item[0], item[1])))
        order = np.argsort(np.asarray(acc.frame_indices, dtype=np.int64), kind="stable")
        return Tracklet(
            track_id=track_id,
            frame_indices=np.asarray(acc.frame_indices, dtype=np.int64)[order],
            timestamps_s=np.asarray(acc.timestamps, dtype=np.float64)[order],
            boxes_xyxy=np.stack(acc.boxes).astype(np.float32)[order],
            scores=np.asarray(acc.scores, dtype=np.float32)[order],
            best_crops=best,
        )


@dataclass
class _Partials:
    """State of the partial hand-overs during one run."""

    callback: PartialCallback
    every_s: float
    vectors: dict[int, np.ndarray]
    identity: dict[int, np.ndarray]
    last_s: float = 0.0
    done: set[int] = field(default_factory=set)


def build_pipeline(config: PipelineConfig, *, device: str = "cpu", data_dir: str | Path) -> Pipeline:
    """Load the detector and embedder named by ``config``.

    Args:
        config: the pipeline configuration.
        device: torch device string for the models ("cpu", "cuda", "cuda:1").
        data_dir: folder holding downloaded model weights (``<data_dir>/models/…``).

    Raises:
        ResourceMissingError: a weight file set-up should have provided is missing.
    """
    import torch

    torch_device = torch.device(device)
    detector = build_detector(config.detector, device=torch_device, data_dir=Path(data_dir))
    embedder = build_embedder(config.embedder, device=torch_device, data_dir=Path(data_dir))
    identity = (
        build_embedder(config.identity_embedder, device=torch_device, data_dir=Path(data_dir))
        if config.identity_lane
        else None
    )
    return Pipeline(config, detector, embedder, identity)


def crop_quality(
    image: np.ndarray,
    box: np.ndarray,
    score: float,
    *,
    min_height: int,
    keypoints: np.ndarray | None = None,
    min_keypoint_score: float = 0.3,
) -> float:
    """Score how useful a crop is for recognition: larger, sharper, untruncated, confident is better.

    With keypoints (17, 3), a crop whose body joints are not all visible (occluded, cut off) scores
    lower, down to half for a crop with no confident joint.

    Returns 0 for crops that must never be chosen (too small, mostly outside the frame).
    """
    height, width = image.shape[:2]
    x1, y1, x2, y2 = _int_box(box, width, height)
    h, w = y2 - y1, x2 - x1
    if h < min_height or w < 8:
        return 0.0
    patch = image[y1:y2, x1:x2]
    gray = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY)
    sharpness = float(cv2.Laplacian(gray, cv2.CV_32F).var())
    # A box cut by the frame edge shows part of a person: penalise, but keep as a last resort.
    truncated = (box[0] <= 1) or (box[1] <= 1) or (box[2] >= width - 1) or (box[3] >= height - 1)
    size_term = min(1.0, h / 256.0)
    sharp_term = sharpness / (sharpness + 100.0)
    quality = (0.5 * size_term + 0.3 * sharp_term + 0.2 * score) * (0.5 if truncated else 1.0)
    if keypoints is not None:
        completeness = float(np.mean(keypoints[:, 2] >= min_keypoint_score))
        quality *= 0.5 + 0.5 * completeness
    return float(quality)


def _track_embedding(acc: _TrackAccumulator, vectors: dict[int, np.ndarray]) -> np.ndarray:
    """The L2-normalised mean of the embeddings of a track's kept crops."""
    mean = np.mean([vectors[item[1]] for item in acc.best], axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


def _accumulate_boxes(tracks_then: Tracks, pts_s: float, tracks: dict[int, _TrackAccumulator]) -> None:
    """Record boxes of a frame no longer in memory: the track gets the rows but no crop."""
    for track_id, box, score in zip(
        tracks_then.track_ids, tracks_then.boxes_xyxy, tracks_then.scores, strict=True
    ):
        acc = tracks.setdefault(int(track_id), _TrackAccumulator())
        acc.frame_indices.append(tracks_then.frame_index)
        acc.timestamps.append(pts_s)
        acc.boxes.append(box.astype(np.float32))
        acc.scores.append(float(score))


def make_thumbnail(crop: np.ndarray, height: int) -> np.ndarray:
    """Resize an RGB crop to ``height`` pixels high, keeping its aspect ratio."""
    h, w = crop.shape[:2]
    new_w = max(1, round(w * height / max(h, 1)))
    interp = cv2.INTER_AREA if h > height else cv2.INTER_LINEAR
    return cv2.resize(crop, (new_w, height), interpolation=interp)


def _int_box(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    x1 = int(np.clip(np.floor(box[0]), 0, width - 1))
    y1 = int(np.clip(np.floor(box[1]), 0, height - 1))
    x2 = int(np.clip(np.ceil(box[2]), x1 + 1, width))
    y2 = int(np.clip(np.ceil(box[3]), y1 + 1, height))
    return x1, y1, x2, y2


class _StageClock:
    """Accumulates wall time per stage; decoding is timed inside the frame iterator."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {
            "decode": 0.0,
            "detect": 0.0,
            "track": 0.0,
            "crops": 0.0,
            "embed": 0.0,
            "proxy": 0.0,
        }

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self._seconds[stage] = self._seconds.get(stage, 0.0) + time.perf_counter() - start

    def timed_batches(self, frames: Iterable[Frame], size: int) -> Iterator[list[Frame]]:
        iterator = iter(frames)
        while True:
            with self("decode"):
                batch = list(itertools.islice(iterator, size))
            if not batch:
                return
            yield batch

    def seconds(self) -> dict[str, float]:
        return dict(self._seconds)


class _ProgressReporter:
    """Rate-limits progress callbacks and estimates the time left from the pace so far."""

    def __init__(self, callback: ProgressCallback | None, min_interval_s: float = 0.5) -> None:
        self.callback = callback
        self.min_interval_s = min_interval_s
        self.started = time.monotonic()
        self.last_sent = 0.0

    def emit(self, progress: Progress, *, weight_done: float | None = None) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if progress.stage == "detect" and now - self.last_sent < self.min_interval_s:
            return
        self.last_sent = now
        eta = progress.eta_s
        if eta is None and weight_done is not None and weight_done > 0.02:
            elapsed = now - self.started
            eta = elapsed * (1.0 - weight_done) / weight_done
        self.callback(
            Progress(stage=progress.stage, fraction=progress.fraction, eta_s=eta, message=progress.message)
        )


def frames_width(info: VideoInfo) -> int:
    """Width of the decoded frames, after the display rotation is applied."""
    return info.height if info.rotation in (90, 270) else info.width


def frames_height(info: VideoInfo) -> int:
    return info.width if info.rotation in (90, 270) else info.height
