"""Ingest one video: decode → detect → track → pick best crops → embed, reporting progress."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reid_engine.attributes.tracklet import colour_attributes
from reid_engine.detect import Detector, DetectorConfig, build_detector
from reid_engine.embed import Embedder, EmbedderConfig, build_embedder
from reid_engine.ingest.crops import (
    BestCrop,
    TrackAccumulator,
    accumulate_boxes,
    crop_quality,
    cut_crop,
    merge_accumulators,
    track_embedding,
)
from reid_engine.ingest.gating import Decision, DetectionGate, GatingConfig
from reid_engine.ingest.progress import ProgressCallback, ProgressReporter, StageClock
from reid_engine.ingest.state import PartialCallback, Partials, RunState, frames_height, frames_width
from reid_engine.ingest.thumbnails import make_thumbnail
from reid_engine.track import (
    TrackerConfig,
    build_tracker,
    complete_at_edges,
    fill_gaps,
    relink_tracks,
)
from reid_engine.types import (
    Detections,
    EmbeddedTracklet,
    Frame,
    IngestResult,
    PartialResult,
    Progress,
    Tracklet,
    Tracks,
)
from reid_engine.video import DecodeStats, VideoLimits, iter_frames, probe_video, timing_warning
from reid_engine.video.writer import ProxyWriter

logger = logging.getLogger(__name__)

SHIPPED_REID_MODEL = Path(__file__).resolve().parent / "weights" / "longview-reid.pt"
"""The clothes-invariant ReID model trained by ``reid train`` on SynthCC (docs/training.md)."""

__all__ = [
    "SHIPPED_REID_MODEL",
    "PartialCallback",
    "Pipeline",
    "PipelineConfig",
    "ProgressCallback",
    "build_pipeline",
    "crop_quality",
    "frames_height",
    "frames_width",
    "make_thumbnail",
]


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


class Pipeline:
    """A loaded detector and embedder, reusable across videos (load once per worker process).

    Args:
        config: the pipeline configuration.
        detector: a built detector.
        embedder: a built embedder.
        identity_embedder: the clothes-invariant embedder, or None when that lane is off.
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
        report = ProgressReporter(progress)
        report.emit(Progress(stage="probe", fraction=0.0, message="checking the video"))
        info = probe_video(path, limits=cfg.limits)
        decode = DecodeStats()
        frames = iter_frames(path, info=info, sample_fps=cfg.sample_fps, limits=cfg.limits, stats=decode)
        run = RunState(
            info=info,
            width=frames_width(info),
            height=frames_height(info),
            tracker=build_tracker(cfg.tracker),
            clock=StageClock(),
            report=report,
            gate=DetectionGate(cfg.gating),
            partial=(
                Partials(on_partial, cfg.partial_every_s)
                if on_partial is not None and cfg.partial_every_s > 0
                else None
            ),
        )
        if proxy_path is not None:
            run.proxy = ProxyWriter(
                proxy_path,
                source_width=run.width,
                source_height=run.height,
                max_width=cfg.proxy_width,
                fps_hint=cfg.sample_fps,
            )
        try:
            self._detect_and_track(frames, run)
        finally:
            if run.proxy is not None:
                run.proxy.close()
        clock = run.clock
        candidates = [(track_id, acc) for track_id, acc in sorted(run.tracks.items()) if acc.best]
        report.emit(Progress(stage="embed", fraction=0.9, message=f"embedding {len(candidates)} tracks"))
        with clock("embed"):
            self._embed_crops((acc for _, acc in candidates), cache=run.vectors)
        with clock("track"):
            merged = self._relink(candidates, run.vectors)
        with clock("embed"):
            if self.identity_embedder:
                self._embed_crops((acc for _, acc in merged), self.identity_embedder, cache=run.identity)
        with clock("track"):
            embedded = self._finish_all(merged, run)
        warnings = [note] if (note := timing_warning(info)) else []
        if decode.frames_skipped:
            warnings.append(f"{decode.frames_skipped} corrupt frames skipped")
        if decode.truncated:
            warnings.append(f"the video ends early, at {decode.end_s:.1f}s of {info.duration_s:.1f}s")
        report.emit(Progress(stage="done", fraction=1.0, eta_s=0.0, message=f"{len(embedded)} people found"))
        return IngestResult(
            video=info,
            tracklets=tuple(embedded),
            frames_decoded=decode.frames_decoded,
            frames_skipped=decode.frames_skipped,
            embedder=self.embedder.name,
            identity_embedder=self.identity_embedder.name if self.identity_embedder else None,
            warnings=tuple(warnings),
            stage_seconds=clock.seconds(),
            frame_decisions=dict(run.gate.counts) if run.gate is not None else {},
        )

    def _detect_and_track(self, frames: Iterable[Frame], run: RunState) -> None:
        clock, info = run.clock, run.info
        for batch in clock.timed_batches(frames, self.config.batch_frames):
            if run.proxy is not None:
                with clock("proxy"):
                    for frame in batch:
                        run.proxy.write(frame)
            for frame in batch:
                dets = self._detections(frame, run)
                if dets is None:
                    run.add_sampled(frame)  # no detections: the gap is interpolated at the end
                else:
                    self._track_frame(frame, dets, run)
            last = batch[-1]
            run.report.emit(
                Progress(
                    stage="detect",
                    fraction=0.9 * min(1.0, last.pts_s / info.duration_s),
                    message=f"{last.pts_s:.0f}s of {info.duration_s:.0f}s analysed, {len(run.tracks)} tracks",
                ),
                weight_done=min(1.0, last.pts_s / info.duration_s),
            )
            partial = run.partial
            if partial is not None and last.pts_s - partial.last_s >= partial.every_s:
                partial.last_s = last.pts_s
                with clock("embed"):
                    self._hand_over(partial, run, last.pts_s)

    def _detections(self, frame: Frame, run: RunState) -> Detections | None:
        """The frame's detections: the detector's, the last ones again, or None (skipped)."""
        with run.clock("gate"):
            decision = (
                run.gate.decide(
                    frame,
                    run.tracks,
                    run.tracker.live_ids(),
                    len(run.last_detections) if run.last_detections is not None else 0,
                )
                if run.gate is not None
                else Decision.DETECT
            )
        if decision is Decision.SKIP:
            return None
        if decision is Decision.REUSE and run.last_detections is not None:
            return dataclasses.replace(run.last_detections, frame_index=frame.index)
        with run.clock("detect"):
            run.last_detections = self.detector.detect([frame])[0]
        return run.last_detections

    def _track_frame(self, frame: Frame, dets: Detections, run: RunState) -> None:
        """Update the tracker with one frame's detections and gather the crops it confirms."""
        run.add_sampled(frame)
        with run.clock("track"):
            tracks_now = run.tracker.update(dets)
            earlier = run.tracker.take_backfill()
        with run.clock("crops"):
            kept = {f.index: (f, d) for f, d in run.recent}
            for old in earlier:
                if old.frame_index in kept:
                    old_frame, old_dets = kept[old.frame_index]
                    self._accumulate(old_frame, old, old_dets, run)
                else:
                    accumulate_boxes(old, run.sampled_pts[old.frame_index], run.tracks)
            self._accumulate(frame, tracks_now, dets, run)
        run.recent.append((frame, dets))

    def _hand_over(self, partial: Partials, run: RunState, analysed_s: float) -> None:
        """Finish, embed and hand over the tracks the tracker has let go of since the last time."""
        live = run.tracker.live_ids()
        ended = [
            (track_id, acc)
            for track_id, acc in sorted(run.tracks.items())
            if track_id not in live and track_id not in partial.done and acc.best
        ]
        if not ended:
            return
        partial.done.update(track_id for track_id, _ in ended)
        self._embed_crops((acc for _, acc in ended), cache=run.vectors)
        if self.identity_embedder:
            self._embed_crops((acc for _, acc in ended), self.identity_embedder, cache=run.identity)
        out = self._finish_all(ended, run)
        if out:
            partial.callback(
                PartialResult(
                    tracklets=tuple(out),
                    embedder=self.embedder.name,
                    identity_embedder=self.identity_embedder.name if self.identity_embedder else None,
                    analysed_s=analysed_s,
                )
            )

    def _accumulate(self, frame: Frame, tracks_now: Tracks, dets: Detections, run: RunState) -> None:
        cfg = self.config
        det_indices = (
            tracks_now.detection_indices
            if tracks_now.detection_indices is not None
            else np.full(len(tracks_now), -1, dtype=np.int64)
        )
        for track_id, box, score, det_index in zip(
            tracks_now.track_ids, tracks_now.boxes_xyxy, tracks_now.scores, det_indices, strict=True
        ):
            acc = run.tracks.setdefault(int(track_id), TrackAccumulator())
            acc.add_row(frame.index, frame.pts_s, box, float(score))
            keypoints = None
            if dets.keypoints is not None and 0 <= det_index < len(dets):
                keypoints = dets.keypoints[det_index]
            quality = crop_quality(
                frame.image, box, float(score), min_height=cfg.min_crop_height, keypoints=keypoints
            )
            if not acc.wants(quality, cfg.best_k):
                continue
            crop = cut_crop(
                frame.image,
                frame_index=frame.index,
                pts_s=frame.pts_s,
                box=box,
                quality=quality,
                keypoints=keypoints,
            )
            acc.keep(BestCrop(quality, run.next_key(), crop), cfg.best_k)

    def _embed_crops(
        self,
        accs: Iterable[TrackAccumulator],
        embedder: Embedder | None = None,
        *,
        cache: dict[int, np.ndarray],
    ) -> None:
        """Embed every kept crop not in ``cache`` yet, into it, keyed by :attr:`BestCrop.key`."""
        items = [item for acc in accs for item in acc.best if item.key not in cache]
        if not items:
            return
        vectors = (embedder or self.embedder).embed([item.crop.image for item in items])
        cache.update({item.key: vector for item, vector in zip(items, vectors, strict=True)})

    def _relink(
        self, candidates: list[tuple[int, TrackAccumulator]], vectors: dict[int, np.ndarray]
    ) -> list[tuple[int, TrackAccumulator]]:
        """Merge the tracks that re-linking chains together into one, under the first one's id."""
        cfg = self.config.tracker.relink
        if not cfg.enabled or len(candidates) < 2:
            return candidates
        paths = [_tracklet(track_id, acc) for track_id, acc in candidates]
        embeddings = [track_embedding(acc, vectors) for _, acc in candidates]
        out = []
        for chain in relink_tracks(paths, embeddings, cfg):
            if len(chain) > 1:
                logger.debug("re-linked tracks %s", [candidates[i][0] for i in chain])
            merged = merge_accumulators([candidates[i][1] for i in chain], self.config.best_k)
            out.append((candidates[chain[0]][0], merged))
        return out

    def _finish_all(
        self, tracks: list[tuple[int, TrackAccumulator]], run: RunState
    ) -> list[EmbeddedTracklet]:
        cfg = self.config
        identity = run.identity if self.identity_embedder else None
        sampled_frames = np.asarray([f for f, _ in run.sampled], dtype=np.int64)
        sampled_times = np.asarray([t for _, t in run.sampled], dtype=np.float64)
        out = []
        for track_id, acc in tracks:
            if len(acc.frame_indices) < cfg.min_track_frames:
                continue
            tracklet = _tracklet(track_id, acc)
            if cfg.tracker.complete_at_edges:
                tracklet = complete_at_edges(tracklet, width=run.width, height=run.height)
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
                    embedding=track_embedding(acc, run.vectors),
                    thumbnail=make_thumbnail(tracklet.best_crops[0].image, cfg.thumbnail_height),
                    attributes=colour_attributes(tracklet.best_crops) if cfg.colour_names else {},
                    identity_embedding=track_embedding(acc, identity) if identity is not None else None,
                )
            )
        out.sort(key=lambda e: (e.tracklet.start_s, e.tracklet.track_id))
        return out


def _tracklet(track_id: int, acc: TrackAccumulator) -> Tracklet:
    order = np.argsort(np.asarray(acc.frame_indices, dtype=np.int64), kind="stable")
    return Tracklet(
        track_id=track_id,
        frame_indices=np.asarray(acc.frame_indices, dtype=np.int64)[order],
        timestamps_s=np.asarray(acc.timestamps, dtype=np.float64)[order],
        boxes_xyxy=np.stack(acc.boxes).astype(np.float32)[order],
        scores=np.asarray(acc.scores, dtype=np.float32)[order],
        best_crops=acc.best_first(),
    )


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
