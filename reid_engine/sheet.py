"""A contact sheet of one ingest: annotated frames over time, then every person with their regions."""

from __future__ import annotations

import os

import cv2
import numpy as np

from reid_engine.pose import body_regions
from reid_engine.types import IngestResult
from reid_engine.video import iter_frames
from reid_engine.viz import draw_tracks, grid, labelled_tile, overlay_regions, title_bar


def ingest_contact_sheet(
    video_path: str | os.PathLike[str], result: IngestResult, *, frames: int = 4, width: int = 1600
) -> np.ndarray:
    """Render the sheet as an RGB image.

    Args:
        video_path: the ingested video (re-read to fetch the annotated frames).
        result: what ingesting it produced.
        frames: how many annotated frames, spread over the video where most people are visible.
        width: sheet width in pixels.
    """
    boxes_at: dict[int, list[tuple[int, np.ndarray]]] = {}
    for e in result.tracklets:
        t = e.tracklet
        for frame_index, box in zip(t.frame_indices, t.boxes_xyxy, strict=True):
            boxes_at.setdefault(int(frame_index), []).append((t.track_id, box))
    chosen = _busiest_frames(boxes_at, frames)
    images = {}
    if chosen:
        last = max(chosen)
        for frame in iter_frames(video_path, info=result.video):
            if frame.index in chosen:
                images[frame.index] = frame.image
            if frame.index >= last:
                break
    parts = [title_bar(f"{len(result.tracklets)} people tracked; frames where most are visible", width)]
    annotated = []
    for index in sorted(images):
        entries = boxes_at[index]
        image = draw_tracks(
            images[index], np.stack([b for _, b in entries]), np.asarray([tid for tid, _ in entries])
        )
        pts = index / max(result.video.fps, 1e-6)
        annotated.append(labelled_tile(image, f"frame {index} ({pts:.1f} s)", 280))
    if annotated:
        parts.append(grid(annotated, width=width))
    parts.append(
        title_bar(
            "each person's best crop, head (blue) / upper (red) / lower (green) regions, "
            "and the garment colours named from them",
            width,
        )
    )
    tiles = []
    for e in result.tracklets:
        crop = e.tracklet.best_crops[0]
        h, w = crop.image.shape[:2]
        regions = body_regions(h, w, crop.keypoints)
        pair = np.concatenate([crop.image, overlay_regions(crop.image, regions)], axis=1)
        label = f"#{e.tracklet.track_id} {e.tracklet.start_s:.0f}-{e.tracklet.end_s:.0f}s"
        colours = [
            f"{short} {max(e.attributes[key].items(), key=lambda kv: kv[1])[0]}"
            for key, short in (("upper_colour", "up"), ("lower_colour", "lo"))
            if key in e.attributes
        ]
        if colours:
            label += " " + ", ".join(colours)
        tiles.append(labelled_tile(pair, label, 150))
    parts.append(grid(tiles, width=width))
    return np.concatenate(parts)


def save_image(image: np.ndarray, path: str | os.PathLike[str]) -> None:
    """Write an RGB image; the suffix picks the format (``.jpg`` keeps photographic sheets small)."""
    params = [cv2.IMWRITE_JPEG_QUALITY, 88] if os.fspath(path).lower().endswith((".jpg", ".jpeg")) else []
    if not cv2.imwrite(os.fspath(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params):
        raise ValueError(f"cannot write an image to {path} (use .png or .jpg)")


def _busiest_frames(boxes_at: dict[int, list[tuple[int, np.ndarray]]], count: int) -> list[int]:
    if not boxes_at:
        return []
    ordered = sorted(boxes_at)
    chunks = np.array_split(np.asarray(ordered), min(count, len(ordered)))
    return [int(max(chunk, key=lambda i: (len(boxes_at[int(i)]), -int(i)))) for chunk in chunks if len(chunk)]
