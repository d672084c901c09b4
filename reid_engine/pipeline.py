"""Ingest one video: decode → detect → track → pick best crops → embed, reporting progress.

This module runs the loop; its parts live in :mod:`reid_engine.ingest`: the settings
(:mod:`~reid_engine.ingest.config`), the work on one frame (:mod:`~reid_engine.ingest.frames`),
and turning tracks into embedded tracklets (:mod:`~reid_engine.ingest.finish`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from reid_engine.detect import Detector, build_detector
from reid_engine.embed import Embedder, build_embedder
from reid_engine.ingest.config import SHIPPED_REID_MODEL, PipelineConfig
from reid_engine.ingest.crops import TrackAccumulator, crop_quality
from reid_engine.ingest.finish import embed_crops, finish_tracks, relink
from reid_engine.ingest.frames import frame_detections, track_frame
from reid_engine.ingest.gating import DetectionGate
from reid_engine.ingest.progress import ProgressCallback, ProgressReporter, StageClock
from reid_engine.ingest.state import PartialCallback, Partials, RunState, frames_height, frames_width
from reid_engine.ingest.thumbnails import make_thumbnail
from reid_engine.track import build_tracker
from reid_engine.types import EmbeddedTracklet, Frame, IngestResult, PartialResult, Progress
from reid_engine.video import DecodeStats, iter_frames, probe_video
from reid_engine.video.writer import ProxyWriter

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
            embed_crops((acc for _, acc in candidates), self.embedder, cache=run.vectors)
        with clock("track"):
            merged = relink(candidates, run.vectors, cfg)
        with clock("embed"):
            if self.identity_embedder:
                embed_crops((acc for _, acc in merged), self.identity_embedder, cache=run.identity)
        with clock("track"):
            embedded = self._finish(merged, run)
        warnings = []
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
                dets = frame_detections(frame, run, self.detector)
                if dets is None:
                    run.add_sampled(frame)  # no detections: the gap is interpolated at the end
                else:
                    track_frame(frame, dets, run, self.config)
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
        embed_crops((acc for _, acc in ended), self.embedder, cache=run.vectors)
        if self.identity_embedder:
            embed_crops((acc for _, acc in ended), self.identity_embedder, cache=run.identity)
        out = self._finish(ended, run)
        if out:
            partial.callback(
                PartialResult(
                    tracklets=tuple(out),
                    embedder=self.embedder.name,
                    identity_embedder=self.identity_embedder.name if self.identity_embedder else None,
                    analysed_s=analysed_s,
                )
            )

    def _finish(self, tracks: list[tuple[int, TrackAccumulator]], run: RunState) -> list[EmbeddedTracklet]:
        """The embedded tracklets of ``tracks``, with identity vectors when that lane is on."""
        identity = run.identity if self.identity_embedder else None
        return finish_tracks(tracks, run, self.config, identity=identity)


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
