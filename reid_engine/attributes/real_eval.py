"""Re-find the real labelled people in their footage and run an attribute predictor on them.

The footage goes through the product's pipeline (the default ``PipelineConfig``, as ingest runs it);
each labelled record is matched to a tracklet by its anchor boxes
(:func:`~reid_engine.attributes.real_labelled.match_tracks`) and the predictor sees that tracklet's
best crops, exactly what ingest names attributes from. The crops can be saved and reloaded
(``.npz``, no pickle) so a second predictor does not re-run detection.

Predictors:

- ``colour-namer``: the model-free garment colour namer ingest ships
  (:func:`reid_engine.attributes.tracklet.colour_attributes`); it estimates upper and lower colour.
- ``network``: an attribute network written by ``reid train-attributes``; it estimates every schema
  attribute (mean of the best crops' probabilities, :func:`~reid_engine.attributes.model.predict_tracklet`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reid_engine.attributes.real_labelled import RealLabelledSet, match_tracks, pipeline_fingerprint
from reid_engine.attributes.real_scoring import Predictions
from reid_engine.attributes.schema import SCHEMA
from reid_engine.types import Crop

COLOUR_NAMER = "colour-namer"
NETWORK = "network"
PREDICTORS = (COLOUR_NAMER, NETWORK)
COLOUR_ESTIMATES = frozenset({"upper_colour", "lower_colour"})


@dataclass(frozen=True)
class FoundCrops:
    """The best crops of every labelled record found again (None where it was not found)."""

    crops: tuple[tuple[Crop, ...] | None, ...]
    pipeline: Mapping[str, Any]

    @property
    def found(self) -> int:
        return sum(c is not None for c in self.crops)


def find_crops(
    labelled: RealLabelledSet, videos_dir: Path, *, data_dir: Path, min_iou: float = 0.5,
    say: Callable[[str], None] | None = None,
) -> FoundCrops:
    """Run the product's pipeline over each labelled video under ``videos_dir`` and collect the best
    crops of the tracks that match the records.

    Raises:
        FileNotFoundError: a labelled video is not in ``videos_dir``.
    """
    from reid_engine.config import load_config
    from reid_engine.pipeline import PipelineConfig, build_pipeline

    config = load_config(PipelineConfig, None, ["identity_lane=false"])
    pipeline = build_pipeline(config, data_dir=data_dir)
    crops: list[tuple[Crop, ...] | None] = [None] * len(labelled.tracks)
    for video in sorted({t.video for t in labelled.tracks}):
        path = videos_dir / video
        if not path.is_file():
            raise FileNotFoundError(f"labelled video {video} is not in {videos_dir}")
        if say:
            say(f"finding the labelled people in {path}")
        if video in labelled.stills:
            tracklets = still_people(path, pipeline.detector)
        else:
            tracklets = [e.tracklet for e in pipeline.run(path).tracklets]
        rows = [i for i, t in enumerate(labelled.tracks) if t.video == video]
        found = match_tracks([labelled.tracks[i] for i in rows], tracklets, min_iou=min_iou)
        for k, tracklet in found.items():
            crops[rows[k]] = tuple(tracklet.best_crops)
    return FoundCrops(crops=tuple(crops), pipeline=pipeline_fingerprint(config))


def still_people(path: Path, detector: Any) -> list[Any]:
    """The people the pipeline's detector finds in a still image, each as a one-frame tracklet whose
    best crop is cut as ingest cuts crops (with its keypoints).

    Raises:
        FileNotFoundError: the image cannot be read.
    """
    import cv2

    from reid_engine.ingest.crops import cut_crop
    from reid_engine.types import Frame

    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"cannot read the image {path}")
    rgb = np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    found = detector.detect([Frame(index=0, pts_s=0.0, image=rgb)])[0]
    people = []
    for k in range(len(found.boxes_xyxy)):
        box = found.boxes_xyxy[k]
        keypoints = None if found.keypoints is None else found.keypoints[k]
        crop = cut_crop(rgb, frame_index=0, pts_s=0.0, box=box, quality=float(found.scores[k]), keypoints=keypoints)
        people.append(_Still(frame_indices=np.zeros(1, np.int64), boxes_xyxy=box[None].astype(np.float32),
                             best_crops=(crop,), score=float(found.scores[k])))
    return people


@dataclass(frozen=True)
class _Still:
    """A person of a still image, shaped like the tracklet fields matching and scoring read."""

    frame_indices: np.ndarray
    boxes_xyxy: np.ndarray
    best_crops: tuple[Crop, ...]
    score: float


def save_crops(path: Path, found: FoundCrops) -> None:
    """Write the crops (images, keypoints, frame indices) and the pipeline fingerprint to ``.npz``."""
    arrays: dict[str, np.ndarray] = {}
    for i, crops in enumerate(found.crops):
        for j, c in enumerate(crops or ()):
            arrays[f"r{i}_c{j}_image"] = c.image
            arrays[f"r{i}_c{j}_box"] = np.asarray(c.box_xyxy, np.float32)
            arrays[f"r{i}_c{j}_meta"] = np.asarray([c.frame_index, c.pts_s, c.quality], np.float64)
            if c.keypoints is not None:
                arrays[f"r{i}_c{j}_kp"] = c.keypoints
    header = {"records": len(found.crops), "pipeline": dict(found.pipeline)}
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def load_crops(path: Path, records: int) -> FoundCrops:
    """Read a file of :func:`save_crops`.

    Raises:
        ValueError: the file holds another number of records than the labelled set.
    """
    with np.load(path, allow_pickle=False) as data:
        header = json.loads(bytes(data["header"]).decode())
        if header["records"] != records:
            raise ValueError(f"{path} holds crops of {header['records']} records, the set has {records}")
        out: list[tuple[Crop, ...] | None] = []
        for i in range(records):
            crops = []
            j = 0
            while f"r{i}_c{j}_image" in data:
                frame, pts, quality = data[f"r{i}_c{j}_meta"].tolist()
                crops.append(Crop(frame_index=int(frame), pts_s=float(pts), box_xyxy=data[f"r{i}_c{j}_box"],
                                  image=data[f"r{i}_c{j}_image"], quality=float(quality),
                                  keypoints=data.get(f"r{i}_c{j}_kp", None)))
                j += 1
            out.append(tuple(crops) if crops else None)
    return FoundCrops(crops=tuple(out), pipeline=header["pipeline"])


def colour_namer_predictions(found: FoundCrops) -> list[Predictions | None]:
    """The shipped colour namer's upper/lower colour probabilities per record."""
    from reid_engine.attributes.tracklet import colour_attributes

    return [None if crops is None else colour_attributes(crops) for crops in found.crops]


def network_predictions(checkpoint: Path, found: FoundCrops, *, device: str = "cpu") -> list[Predictions | None]:
    """An attribute network's probabilities per record (every schema attribute)."""
    import cv2
    import torch

    from reid_engine.attributes.model import load_attribute_model, predict_tracklet, split_heads
    from reid_engine.data.torch_dataset import to_tensor

    model, (height, width), _ = load_attribute_model(checkpoint, device=device)
    out: list[Predictions | None] = []
    for crops in found.crops:
        if crops is None:
            out.append(None)
            continue
        batch = torch.stack([to_tensor(cv2.resize(c.image, (width, height), interpolation=cv2.INTER_AREA))
                             for c in crops]).to(device)
        blocks = split_heads(predict_tracklet(model, batch).cpu())
        out.append({a.name: {v: float(x) for v, x in zip(a.values, b.tolist(), strict=True)}
                    for a, b in zip(SCHEMA.attributes, blocks, strict=True)})
    return out


def estimates_of(predictor: str) -> frozenset[str]:
    """The attributes a predictor gives at all."""
    return COLOUR_ESTIMATES if predictor == COLOUR_NAMER else frozenset(SCHEMA.names)


def stale_pipeline(labelled: RealLabelledSet, found: FoundCrops) -> list[str]:
    """The videos whose labels were made with other pipeline settings than the crops were found with."""
    return sorted(v for v, fp in labelled.pipelines.items()
                  if fp and fp.get("settings_sha256") != found.pipeline.get("settings_sha256"))


def predictions_for(predictor: str, found: FoundCrops, *, checkpoint: Path | None) -> Sequence[Predictions | None]:
    """Dispatch to the named predictor.

    Raises:
        ValueError: ``network`` without a checkpoint, or an unknown predictor.
    """
    if predictor == COLOUR_NAMER:
        return colour_namer_predictions(found)
    if predictor == NETWORK:
        if checkpoint is None:
            raise ValueError("the network predictor needs --checkpoint")
        return network_predictions(checkpoint, found)
    raise ValueError(f"unknown predictor {predictor!r}; known: {', '.join(PREDICTORS)}")
