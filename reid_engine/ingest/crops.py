"""Scoring person crops and keeping each track's best few while a video is analysed."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import cv2
import numpy as np

from reid_engine.types import Crop, Tracks


@dataclass(order=True, frozen=True, slots=True)
class BestCrop:
    """One kept crop of a track, ordered by quality, then by when it was kept.

    Attributes:
        quality: the crop's :func:`crop_quality`.
        key: unique across the run, in the order crops were kept: it breaks quality ties and keys
            the crop's embedding in the run's vector caches.
        crop: the crop itself (not compared).
    """

    quality: float
    key: int
    crop: Crop = field(compare=False)


@dataclass
class TrackAccumulator:
    """What one track has gathered so far: its rows and a min-heap of its best crops."""

    frame_indices: list[int] = field(default_factory=list)
    timestamps: list[float] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    # Min-heap: the worst kept crop sits on top, ready to be evicted.
    best: list[BestCrop] = field(default_factory=list)

    def add_row(self, frame_index: int, pts_s: float, box: np.ndarray, score: float) -> None:
        """Record where the track was in one frame."""
        self.frame_indices.append(frame_index)
        self.timestamps.append(pts_s)
        self.boxes.append(box.astype(np.float32))
        self.scores.append(float(score))

    def wants(self, quality: float, best_k: int) -> bool:
        """Whether a crop of this quality would be kept."""
        return quality > 0 and (len(self.best) < best_k or quality > self.best[0].quality)

    def keep(self, item: BestCrop, best_k: int) -> None:
        """Keep a crop, evicting the worst one when ``best_k`` are already kept."""
        if len(self.best) < best_k:
            heapq.heappush(self.best, item)
        else:
            heapq.heapreplace(self.best, item)

    def best_first(self) -> tuple[Crop, ...]:
        """The kept crops, best first (ties: the earlier kept first)."""
        return tuple(item.crop for item in sorted(self.best, key=lambda item: (-item.quality, item.key)))


def merge_accumulators(accs: list[TrackAccumulator], best_k: int) -> TrackAccumulator:
    """One accumulator holding the rows of all of ``accs`` and the best ``best_k`` of their crops."""
    if len(accs) == 1:
        return accs[0]
    merged = TrackAccumulator()
    for acc in accs:
        merged.frame_indices += acc.frame_indices
        merged.timestamps += acc.timestamps
        merged.boxes += acc.boxes
        merged.scores += acc.scores
    merged.best = heapq.nlargest(best_k, (item for acc in accs for item in acc.best))
    heapq.heapify(merged.best)
    return merged


def accumulate_boxes(tracks_then: Tracks, pts_s: float, tracks: dict[int, TrackAccumulator]) -> None:
    """Record boxes of a frame no longer in memory: the track gets the rows but no crop."""
    for track_id, box, score in zip(
        tracks_then.track_ids, tracks_then.boxes_xyxy, tracks_then.scores, strict=True
    ):
        tracks.setdefault(int(track_id), TrackAccumulator()).add_row(
            tracks_then.frame_index, pts_s, box, float(score)
        )


def track_embedding(acc: TrackAccumulator, vectors: dict[int, np.ndarray]) -> np.ndarray:
    """The L2-normalised mean of the embeddings of a track's kept crops."""
    mean = np.mean([vectors[item.key] for item in acc.best], axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


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
    x1, y1, x2, y2 = int_box(box, width, height)
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


def cut_crop(
    image: np.ndarray,
    *,
    frame_index: int,
    pts_s: float,
    box: np.ndarray,
    quality: float,
    keypoints: np.ndarray | None,
) -> Crop:
    """Cut a crop out of a frame (a copy), with its keypoints moved into crop pixels."""
    height, width = image.shape[:2]
    x1, y1, x2, y2 = int_box(box, width, height)
    if keypoints is not None:
        keypoints = keypoints.astype(np.float32, copy=True)
        keypoints[:, 0] -= x1
        keypoints[:, 1] -= y1
    return Crop(
        frame_index=frame_index,
        pts_s=pts_s,
        box_xyxy=box.astype(np.float32),
        image=np.ascontiguousarray(image[y1:y2, x1:x2]),
        quality=quality,
        keypoints=keypoints,
    )


def int_box(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """A float box as integer pixel bounds inside a ``width`` x ``height`` image, at least 1x1."""
    x1 = int(np.clip(np.floor(box[0]), 0, width - 1))
    y1 = int(np.clip(np.floor(box[1]), 0, height - 1))
    x2 = int(np.clip(np.ceil(box[2]), x1 + 1, width))
    y2 = int(np.clip(np.ceil(box[3]), y1 + 1, height))
    return x1, y1, x2, y2
