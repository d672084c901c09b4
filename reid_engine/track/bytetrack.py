"""ByteTrack-style multi-person tracker: Kalman motion, two-stage IoU association, lost-track buffer.

After Zhang et al., "ByteTrack: Multi-Object Tracking by Associating Every Detection Box" (ECCV 2022).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from scipy.optimize import linear_sum_assignment

from reid_engine.detect.boxes import iou_matrix
from reid_engine.track.kalman import KalmanBoxFilter, xyah_to_xyxy, xyxy_to_xyah
from reid_engine.types import Detections, Tracks

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ByteTrackConfig:
    """Settings of the ByteTrack tracker. Counts are in tracker updates (sampled frames).

    The defaults suit about 5 sampled frames per second, where a walker moves a third of a body
    width between updates: looser IoU gates and a livelier velocity model than ByteTrack's 30 fps
    defaults.

    Attributes:
        high_score: detections at or above this take part in the first association stage.
        low_score: detections below this are ignored; those in [low_score, high_score) can only
            extend a track that was matched in the previous update (the second stage).
        new_track_score: an unmatched detection needs this score to start a track.
        match_iou_high: minimum IoU between a track's predicted box and a high-score detection.
        match_iou_low: minimum IoU for the second stage (low-score detections).
        match_iou_tentative: minimum IoU to extend a not yet confirmed track.
        min_hits: consecutive matches before a track is confirmed, reported and given an id; the
            matches before confirmation are reported then (see ``take_backfill``).
        confirm_with_low: a new track may also be extended by a low-score detection. At a few
            frames per second a walker's score swings with the stride, and a new track that needs
            two confident detections in a row starts late or never.
        track_buffer: updates a confirmed track survives without a match before it is dropped; a
            match within that time brings it back under the same id.
        std_weight_position: Kalman position noise as a fraction of box height.
        std_weight_velocity: Kalman velocity noise per update as a fraction of box height.
    """

    high_score: float = 0.5
    low_score: float = 0.1
    new_track_score: float = 0.6
    match_iou_high: float = 0.2
    match_iou_low: float = 0.4
    match_iou_tentative: float = 0.3
    min_hits: int = 2
    confirm_with_low: bool = True
    track_buffer: int = 10
    std_weight_position: float = 1.0 / 20
    std_weight_velocity: float = 1.0 / 20

    def __post_init__(self) -> None:
        if not 0.0 <= self.low_score <= self.high_score <= 1.0:
            raise ValueError("tracker: need 0 <= low_score <= high_score <= 1")
        if not 0.0 <= self.new_track_score <= 1.0:
            raise ValueError("tracker.new_track_score must be in [0, 1]")
        for name in ("match_iou_high", "match_iou_low", "match_iou_tentative"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ValueError(f"tracker.{name} must be in (0, 1]")
        if self.min_hits < 1 or self.track_buffer < 0:
            raise ValueError("tracker: min_hits must be >= 1 and track_buffer >= 0")
        if self.std_weight_position <= 0 or self.std_weight_velocity <= 0:
            raise ValueError("tracker: Kalman noise weights must be positive")


class _State(Enum):
    TENTATIVE = "tentative"
    TRACKED = "tracked"
    LOST = "lost"


@dataclass(eq=False)
class _Track:
    mean: np.ndarray
    covariance: np.ndarray
    box: np.ndarray
    score: float
    state: _State = _State.TENTATIVE
    track_id: int = 0
    hits: int = 1
    misses: int = 0
    detection: int = -1  # index of the detection matched in the current frame
    # (frame index, box, score, detection index) of each match while tentative, reported once the
    # track is confirmed.
    history: list[tuple[int, np.ndarray, float, int]] = field(default_factory=list)


class ByteTracker:
    """Tracks people across the frames of one video from their detections.

    Each update predicts every track with a Kalman filter, then associates by Hungarian matching on
    IoU in stages: confirmed tracks (tracked or lost) with high-score detections, then the tracks
    still unmatched that were seen in the previous update with low-score detections (ByteTrack's
    key idea: occluded people often score low, clutter rarely moves like a track), then tentative
    tracks with the remaining high-score detections (and, with ``confirm_with_low``, the remaining
    low-score ones). Only unmatched high-score detections start new tracks. Ids are handed out on
    confirmation, start at 1 and are never reused by this tracker; the frames a track was seen in
    before it was confirmed come from :meth:`take_backfill` right after the confirming update.

    Args:
        config: tracker settings.
    """

    def __init__(self, config: ByteTrackConfig) -> None:
        self.config = config
        self._kalman = KalmanBoxFilter(
            std_weight_position=config.std_weight_position,
            std_weight_velocity=config.std_weight_velocity,
        )
        self._tracks: list[_Track] = []
        self._next_id = 1
        self._frame_index = -1
        self._backfill: list[_Track] = []

    def reset(self) -> None:
        """Forget every track, e.g. before the next video. Ids keep counting up, never reused."""
        self._tracks = []
        self._backfill = []

    def live_ids(self) -> set[int]:
        """Ids of the confirmed tracks still held (tracked, or lost within ``track_buffer``)."""
        return {t.track_id for t in self._tracks if t.state is not _State.TENTATIVE}

    def take_backfill(self) -> list[Tracks]:
        """The earlier frames of the tracks the latest update confirmed, each reported once.

        A track is confirmed only after ``min_hits`` matches; the frames it was matched in before
        that would otherwise never be reported, and every person would lose the first frames of
        every track.

        Returns:
            One :class:`Tracks` per earlier frame, oldest first, with the boxes, scores and
            detection indices of the matches in that frame; empty when nothing was confirmed.
        """
        rows: dict[int, list[tuple[int, np.ndarray, float, int]]] = {}
        for track in self._backfill:
            for frame_index, box, score, det in track.history:
                rows.setdefault(frame_index, []).append((track.track_id, box, score, det))
            track.history = []
        self._backfill = []
        return [
            _tracks(frame_index, sorted(rows[frame_index], key=lambda r: r[0]))
            for frame_index in sorted(rows)
        ]

    def update(self, dets: Detections) -> Tracks:
        """Advance by one sampled frame.

        Args:
            dets: the detections of the frame.

        Returns:
            The confirmed tracks matched to a detection in this frame, ordered by id; each box and
            score is the matched detection's.

        Raises:
            ValueError: the detections' arrays have inconsistent shapes or non-finite values.
        """
        cfg = self.config
        boxes, scores = _checked(dets)
        self._frame_index = dets.frame_index
        self._backfill = []
        self._predict()

        high = np.flatnonzero(scores >= cfg.high_score)
        low = np.flatnonzero((scores >= cfg.low_score) & (scores < cfg.high_score))
        confirmed = [t for t in self._tracks if t.state is not _State.TENTATIVE]
        tentative = [t for t in self._tracks if t.state is _State.TENTATIVE]
        was_tracked = {id(t) for t in confirmed if t.state is _State.TRACKED}
        matched: set[int] = set()

        pairs, free_tracks, free_high = _associate(confirmed, boxes, high, cfg.match_iou_high)
        for track, det in pairs:
            self._apply(track, boxes[det], float(scores[det]), det)
            matched.add(id(track))

        second = [t for t in free_tracks if id(t) in was_tracked]
        pairs, _, free_low = _associate(second, boxes, low, cfg.match_iou_low)
        for track, det in pairs:
            self._apply(track, boxes[det], float(scores[det]), det)
            matched.add(id(track))

        pairs, free_tentative, free_high = _associate(tentative, boxes, free_high, cfg.match_iou_tentative)
        if cfg.confirm_with_low:
            pairs += _associate(free_tentative, boxes, free_low, cfg.match_iou_low)[0]
        for track, det in pairs:
            self._apply(track, boxes[det], float(scores[det]), det)
            matched.add(id(track))

        survivors: list[_Track] = []
        for track in self._tracks:
            if id(track) in matched:
                survivors.append(track)
            elif track.state is _State.TENTATIVE:
                continue  # a new track that misses its next frame was most likely clutter
            else:
                track.state = _State.LOST
                track.misses += 1
                if track.misses <= cfg.track_buffer:
                    survivors.append(track)
        for det in free_high:
            if scores[det] >= cfg.new_track_score:
                survivors.append(self._start(boxes[det], float(scores[det]), int(det)))
        self._tracks = survivors
        return self._report(dets.frame_index)

    def _predict(self) -> None:
        if not self._tracks:
            return
        means = np.stack([t.mean for t in self._tracks])
        covs = np.stack([t.covariance for t in self._tracks])
        # As in ByteTrack: a track that is not being observed keeps moving but stops changing size,
        # otherwise a shrinking box can collapse to nothing within a few missed updates.
        for i, t in enumerate(self._tracks):
            if t.state is _State.LOST:
                means[i, 7] = 0.0
        means, covs = self._kalman.predict(means, covs)
        for t, m, c in zip(self._tracks, means, covs, strict=True):
            t.mean, t.covariance = m, c

    def _apply(self, track: _Track, box: np.ndarray, score: float, detection: int) -> None:
        track.mean, track.covariance = self._kalman.update(track.mean, track.covariance, xyxy_to_xyah(box)[0])
        track.box = box
        track.score = score
        track.detection = detection
        track.misses = 0
        if track.state is _State.TENTATIVE:
            track.hits += 1
            if track.hits >= self.config.min_hits:
                self._confirm(track)
            else:
                track.history.append((self._frame_index, box, score, detection))
        else:
            track.state = _State.TRACKED

    def _start(self, box: np.ndarray, score: float, detection: int) -> _Track:
        mean, cov = self._kalman.initiate(xyxy_to_xyah(box)[0])
        track = _Track(mean=mean, covariance=cov, box=box, score=score, detection=detection)
        if self.config.min_hits <= 1:
            self._confirm(track)
        else:
            track.history.append((self._frame_index, box, score, detection))
        return track

    def _confirm(self, track: _Track) -> None:
        track.state = _State.TRACKED
        track.track_id = self._next_id
        self._next_id += 1
        if track.history:
            self._backfill.append(track)
        logger.debug("track %s confirmed", track.track_id)

    def _report(self, frame_index: int) -> Tracks:
        live = sorted(
            (t for t in self._tracks if t.state is _State.TRACKED and t.misses == 0),
            key=lambda t: t.track_id,
        )
        return _tracks(frame_index, [(t.track_id, t.box, t.score, t.detection) for t in live])


def _tracks(frame_index: int, rows: list[tuple[int, np.ndarray, float, int]]) -> Tracks:
    return Tracks(
        frame_index=frame_index,
        track_ids=np.asarray([r[0] for r in rows], dtype=np.int64),
        boxes_xyxy=np.asarray([r[1] for r in rows], dtype=np.float32).reshape(-1, 4),
        scores=np.asarray([r[2] for r in rows], dtype=np.float32),
        detection_indices=np.asarray([r[3] for r in rows], dtype=np.int64),
    )


def _associate(
    tracks: list[_Track], boxes: np.ndarray, candidates: np.ndarray, min_iou: float
) -> tuple[list[tuple[_Track, int]], list[_Track], np.ndarray]:
    """Hungarian matching of tracks (at their predicted boxes) to detections ``boxes[candidates]``.

    Returns:
        The matched (track, detection index) pairs, the unmatched tracks and the unmatched
        detection indices.
    """
    if not tracks or candidates.size == 0:
        return [], list(tracks), candidates
    predicted = xyah_to_xyxy(np.stack([t.mean for t in tracks]))
    iou = iou_matrix(predicted, boxes[candidates])
    # Pairs under the gate get a prohibitive cost instead of being removed, so the solver still
    # sees a full matrix; they are filtered out of its answer below.
    cost = np.where(iou >= min_iou, 1.0 - iou, 1e6)
    rows, cols = linear_sum_assignment(cost)
    pairs = [(tracks[r], int(candidates[c])) for r, c in zip(rows, cols, strict=True) if iou[r, c] >= min_iou]
    used_tracks = {id(t) for t, _ in pairs}
    used_dets = {d for _, d in pairs}
    free_tracks = [t for t in tracks if id(t) not in used_tracks]
    free_dets = np.asarray([d for d in candidates if int(d) not in used_dets], dtype=np.int64)
    return pairs, free_tracks, free_dets


def _checked(dets: Detections) -> tuple[np.ndarray, np.ndarray]:
    boxes = np.asarray(dets.boxes_xyxy, dtype=np.float32)
    scores = np.asarray(dets.scores, dtype=np.float32)
    if boxes.ndim != 2 or boxes.shape[1] != 4 or scores.shape != (boxes.shape[0],):
        raise ValueError(
            f"frame {dets.frame_index}: detections need boxes (N, 4) and scores (N,), "
            f"got {boxes.shape} and {scores.shape}"
        )
    if not (np.isfinite(boxes).all() and np.isfinite(scores).all()):
        raise ValueError(f"frame {dets.frame_index}: detections contain NaN or infinite values")
    return boxes, scores
