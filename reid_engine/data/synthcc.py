"""Loaders for the SynthCC sets written by ``reid synth`` (layouts in docs/synthcc.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reid_engine.data.base import ImageRecord, ImageReidDataset, Keypoints, TrackletRecord, VideoReidDataset
from reid_engine.errors import ReidEngineError

SPLITS = ("train", "query", "gallery")


class DatasetError(ReidEngineError):
    """A data-set folder is missing, incomplete or of the wrong kind."""


def _meta(root: Path, kind: str) -> dict[str, Any]:
    path = root / "meta.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(f"{root} is not a SynthCC set (no meta.json)") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path} is not valid JSON: {exc}") from None
    if meta.get("kind") != kind:
        raise DatasetError(f"{root} holds a {meta.get('kind')!r} set, expected {kind!r}")
    return dict(meta)


def _rows(root: Path, split: str) -> list[dict[str, Any]]:
    path = root / "annotations" / f"{split}.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DatasetError(f"missing annotation file {path}") from None
    try:
        return [json.loads(line) for line in lines if line.strip()]
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path} has a malformed line: {exc}") from None


def _keypoints(raw: list[list[float]] | None) -> Keypoints | None:
    if raw is None:
        return None
    return tuple((float(x), float(y), float(v)) for x, y, v in raw)


def load_synthcc_images(root: str | Path) -> ImageReidDataset:
    """Read a SynthCC image set.

    Raises:
        DatasetError: when the folder is not a complete SynthCC image set.
    """
    root = Path(root)
    meta = _meta(root, "synthcc-images")
    splits: dict[str, tuple[ImageRecord, ...]] = {}
    for split in SPLITS:
        splits[split] = tuple(
            ImageRecord(
                path=root / r["image"],
                pid=int(r["pid"]),
                camid=int(r["camid"]),
                clothes_id=int(r["clothes_id"]),
                attributes=r.get("attributes"),
                mask_path=root / r["mask"] if r.get("mask") else None,
                keypoints=_keypoints(r.get("keypoints")),
            )
            for r in _rows(root, split)
        )
    return ImageReidDataset(
        name="synthcc", train=splits["train"], query=splits["query"], gallery=splits["gallery"], meta=meta
    )


def load_synthcc_tracklets(root: str | Path) -> VideoReidDataset:
    """Read a SynthCC tracklet set.

    Raises:
        DatasetError: when the folder is not a complete SynthCC tracklet set.
    """
    root = Path(root)
    meta = _meta(root, "synthcc-tracklets")
    splits: dict[str, tuple[TrackletRecord, ...]] = {}
    for split in SPLITS:
        splits[split] = tuple(
            TrackletRecord(
                paths=tuple(root / r["dir"] / f for f in r["frames"]),
                pid=int(r["pid"]),
                camid=int(r["camid"]),
                clothes_id=int(r["clothes_id"]),
                attributes=r.get("attributes"),
                mask_paths=tuple(root / r["mask_dir"] / f for f in r["masks"]) if r.get("masks") else None,
            )
            for r in _rows(root, split)
        )
    return VideoReidDataset(
        name="synthcc-video",
        train=splits["train"],
        query=splits["query"],
        gallery=splits["gallery"],
        meta=meta,
    )


@dataclass(frozen=True, slots=True)
class SceneTrack:
    """One ground-truth track of a scene video: who it is and in which outfit."""

    track_id: int
    pid: int
    clothes_id: int
    outfit_template: int
    attributes: dict[str, str | bool]
    first_frame: int
    last_frame: int


@dataclass(frozen=True, slots=True)
class SceneVideo:
    """One camera's scene video with its MOTChallenge ground truth.

    Attributes:
        camid: camera label.
        video: the H.264 mp4 file.
        gt_path: MOTChallenge ``gt.txt`` (frame, id, x, y, w, h, conf, class, visibility), frames from 1.
        fps, width, height, frames: stream facts.
        tracks: the tracks of ``gt.txt``, by track id.
    """

    camid: int
    video: Path
    gt_path: Path
    fps: float
    width: int
    height: int
    frames: int
    tracks: dict[int, SceneTrack]


def load_synthcc_scenes(root: str | Path) -> tuple[SceneVideo, ...]:
    """Read a SynthCC scene set (one entry per camera).

    Raises:
        DatasetError: when the folder is not a complete SynthCC scene set.
    """
    root = Path(root)
    meta = _meta(root, "synthcc-scenes")
    videos = []
    for cam in meta["videos"]:
        cam_dir = root / cam["dir"]
        try:
            tracks_raw = json.loads((cam_dir / "tracks.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError) as exc:
            raise DatasetError(f"{cam_dir}: unreadable tracks.json ({exc})") from None
        tracks = {
            int(t["track_id"]): SceneTrack(
                track_id=int(t["track_id"]),
                pid=int(t["pid"]),
                clothes_id=int(t["clothes_id"]),
                outfit_template=int(t["outfit_template"]),
                attributes=dict(t["attributes"]),
                first_frame=int(t["first_frame"]),
                last_frame=int(t["last_frame"]),
            )
            for t in tracks_raw
        }
        video, gt = cam_dir / "video.mp4", cam_dir / "gt" / "gt.txt"
        for path in (video, gt):
            if not path.is_file():
                raise DatasetError(f"missing {path}")
        videos.append(
            SceneVideo(
                camid=int(cam["camid"]),
                video=video,
                gt_path=gt,
                fps=float(meta["fps"]),
                width=int(meta["width"]),
                height=int(meta["height"]),
                frames=int(cam["frames"]),
                tracks=tracks,
            )
        )
    return tuple(videos)
