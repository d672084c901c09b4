"""Whole-track clean-up after tracking: boxes cut by the frame edge completed, short gaps filled."""

from __future__ import annotations

import dataclasses

import numpy as np

from reid_engine.types import Tracklet


def complete_at_edges(tracklet: Tracklet, *, width: int, height: int, margin: float = 1.0) -> Tracklet:
    """Extend boxes cut by the frame edge to the person's full size, beyond the frame.

    Detectors see only the part of a person inside the frame, and their boxes stop at the edge.
    Where the track also has boxes that touch no edge, the nearest such box in time gives the
    person's shape (width to height), and a cut box is grown past the edge it touches until it
    has that shape: a box cut at the left or right keeps its height and gets its width back, one
    cut at the top or bottom keeps its width and gets its height back. The box's inner edges stay
    where the detector put them. Boxes cut on two opposite sides, and tracks whose every box is
    cut, are left as they are.

    Args:
        tracklet: one track, with boxes in frame pixels.
        width, height: the frame size.
        margin: a box side within this many pixels of the frame edge counts as cut.

    Returns:
        The tracklet with completed boxes (coordinates may lie outside the frame); the same object
        when nothing changed.
    """
    boxes = tracklet.boxes_xyxy.astype(np.float64)
    left = boxes[:, 0] <= margin
    top = boxes[:, 1] <= margin
    right = boxes[:, 2] >= width - margin
    bottom = boxes[:, 3] >= height - margin
    cut = left | top | right | bottom
    whole = np.flatnonzero(~cut)
    if not cut.any() or whole.size == 0:
        return tracklet
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    aspect = w[whole] / np.maximum(h[whole], 1e-6)
    frames = tracklet.frame_indices
    out = boxes.copy()
    for i in np.flatnonzero(cut):
        shape = float(aspect[np.argmin(np.abs(frames[whole] - frames[i]))])
        if left[i] != right[i]:
            full_w = shape * h[i]
            if full_w > w[i]:
                if left[i]:
                    out[i, 0] = boxes[i, 2] - full_w
                else:
                    out[i, 2] = boxes[i, 0] + full_w
        if top[i] != bottom[i]:
            # A box cut at the side as well has lost width too: its height is as good as it gets.
            if left[i] or right[i]:
                continue
            full_h = w[i] / max(shape, 1e-6)
            if full_h > h[i]:
                if top[i]:
                    out[i, 1] = boxes[i, 3] - full_h
                else:
                    out[i, 3] = boxes[i, 1] + full_h
    return dataclasses.replace(tracklet, boxes_xyxy=out.astype(np.float32))


def fill_gaps(
    tracklet: Tracklet, *, sampled_frames: np.ndarray, sampled_times: np.ndarray, max_gap_s: float
) -> Tracklet:
    """Add linearly interpolated boxes where a track misses a few sampled frames in a row.

    Args:
        tracklet: one track; its frames must be among ``sampled_frames``.
        sampled_frames: int (F,), increasing, every frame index the tracker was given.
        sampled_times: float (F,), their timestamps in seconds.
        max_gap_s: sampled frames between two where the track was seen at most this many
            seconds apart are filled; 0 fills nothing.

    Returns:
        The tracklet with the filled frames inserted in order; their score is 0, marking a box no
        detector produced. The same object when nothing was filled.

    Raises:
        ValueError: a frame of the tracklet is not among ``sampled_frames``.
    """
    sampled_frames = np.asarray(sampled_frames, dtype=np.int64)
    sampled_times = np.asarray(sampled_times, dtype=np.float64)
    frames = tracklet.frame_indices
    pos = np.searchsorted(sampled_frames, frames)
    inside = pos < sampled_frames.size
    if not inside.all() or (sampled_frames[pos] != frames).any():
        raise ValueError(f"track {tracklet.track_id}: frames outside the sampled frames")
    steps = np.diff(pos)
    # A millisecond of slack: timestamps of frames sampled at a fixed rate are rounded.
    gaps = np.diff(sampled_times[pos]) <= max_gap_s + 1e-3
    fill = np.flatnonzero((steps > 1) & gaps)
    if max_gap_s <= 0 or fill.size == 0:
        return tracklet
    new_pos, new_boxes = [], []
    for i in fill:
        a, b = tracklet.boxes_xyxy[i].astype(np.float64), tracklet.boxes_xyxy[i + 1].astype(np.float64)
        for k in range(1, int(steps[i])):
            new_pos.append(pos[i] + k)
            new_boxes.append(a + (b - a) * (k / steps[i]))
    all_pos = np.concatenate([pos, np.asarray(new_pos, dtype=np.int64)])
    order = np.argsort(all_pos, kind="stable")
    boxes = np.concatenate([tracklet.boxes_xyxy, np.asarray(new_boxes, dtype=np.float32)])[order]
    scores = np.concatenate([tracklet.scores, np.zeros(len(new_pos), dtype=np.float32)])[order]
    return dataclasses.replace(
        tracklet,
        frame_indices=sampled_frames[all_pos[order]],
        timestamps_s=sampled_times[all_pos[order]],
        boxes_xyxy=np.ascontiguousarray(boxes, dtype=np.float32),
        scores=np.ascontiguousarray(scores, dtype=np.float32),
    )
