"""One analysed frame: whether the detector runs on it, the tracker's update, and the crops it keeps."""

from __future__ import annotations

import dataclasses

import numpy as np

from reid_engine.detect import Detector
from reid_engine.ingest.config import PipelineConfig
from reid_engine.ingest.crops import BestCrop, TrackAccumulator, accumulate_boxes, crop_quality, cut_crop
from reid_engine.ingest.gating import Decision
from reid_engine.ingest.state import RunState
from reid_engine.types import Detections, Frame, Tracks


def frame_detections(frame: Frame, run: RunState, detector: Detector) -> Detections | None:
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
        run.last_detections = detector.detect([frame])[0]
    return run.last_detections


def track_frame(frame: Frame, dets: Detections, run: RunState, config: PipelineConfig) -> None:
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
                _accumulate(old_frame, old, old_dets, run, config)
            else:
                accumulate_boxes(old, run.sampled_pts[old.frame_index], run.tracks)
        _accumulate(frame, tracks_now, dets, run, config)
    run.recent.append((frame, dets))


def _accumulate(frame: Frame, tracks_now: Tracks, dets: Detections, run: RunState, cfg: PipelineConfig) -> None:
    """Add the frame's rows to their tracks and keep the crops better than a track's worst kept one."""
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
