"""Run an attribute network over data-set records and score it with the PAR metrics and ECE."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from reid_engine.attributes.calibration import expected_calibration_error
from reid_engine.attributes.metrics import (
    ParMetrics,
    heads_to_multi_hot,
    multi_hot_labels,
    multi_hot_names,
    par_metrics,
    predict_multi_hot,
    save_predictions,
)
from reid_engine.attributes.model import AttributeNet, predict_tracklet
from reid_engine.attributes.schema import SCHEMA
from reid_engine.data.base import ImageRecord, TrackletRecord
from reid_engine.data.torch_dataset import ImageReidTorchDataset, TrackletTorchDataset

Records = Sequence[ImageRecord] | Sequence[TrackletRecord]


@dataclass(frozen=True)
class AttributePredictions:
    """Per-head predictions of a set of records with their ground truth, row-aligned.

    Attributes:
        probabilities: float32 (N, sum(SCHEMA.head_sizes)), the model's calibrated output.
        labels: int64 (N, A) class indices (0 where unlabelled); mask: bool (N, A).
        attributes: each record's attribute dictionary (None when it has none), for the multi-hot view.
    """

    probabilities: np.ndarray
    labels: np.ndarray
    mask: np.ndarray
    attributes: tuple[dict[str, str | bool] | None, ...]

    def multi_hot(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(probabilities float32 (N, L), labels bool (N, L), mask bool (N, L))`` in the metrics' layout."""
        labels, mask = multi_hot_labels(self.attributes)
        return heads_to_multi_hot(self.probabilities), labels, mask

    def save(self, path: Path) -> None:
        """Write the multi-hot view with :func:`metrics.save_predictions`, for re-scoring without the model."""
        probs, labels, mask = self.multi_hot()
        save_predictions(path, probs, labels, mask, multi_hot_names())


@dataclass(frozen=True)
class AttributeScores:
    """Scores of one evaluation.

    Attributes:
        metrics: label-based mA and instance-based accuracy, precision, recall, F1 (multi-hot view).
        per_attribute_mA: per schema attribute, the mean of its multi-hot labels' mA (NaN when none
            was scored).
        ece: top-label expected calibration error over the labelled (record, attribute) entries.
    """

    metrics: ParMetrics
    per_attribute_mA: dict[str, float]
    ece: float


@torch.no_grad()
def predict_logits(
    model: AttributeNet, records: Sequence[ImageRecord], *, size_hw: tuple[int, int], device: torch.device,
    batch_size: int = 64,
) -> list[torch.Tensor]:
    """Raw logits of every attribute head for image records, per attribute on the CPU.

    Raises:
        ValueError: when ``records`` is empty.
    """
    if not records:
        raise ValueError("no records to predict")
    model.eval()
    loader = DataLoader(ImageReidTorchDataset(records, size_hw=size_hw), batch_size=batch_size, shuffle=False)
    chunks: list[list[torch.Tensor]] = []
    for batch in loader:
        chunks.append([z.float().cpu() for z in model.logits(batch["image"].to(device))])
    return [torch.cat(parts) for parts in zip(*chunks, strict=True)]


@torch.no_grad()
def predict_records(
    model: AttributeNet, records: Records, *, size_hw: tuple[int, int], device: torch.device,
    batch_size: int = 64, frames: int = 8,
) -> AttributePredictions:
    """Predict the attributes of image records, or of tracklet records (``frames`` evenly spaced crops
    averaged by :func:`predict_tracklet`).

    Raises:
        ValueError: when ``records`` is empty.
    """
    if not records:
        raise ValueError("no records to predict")
    model.eval()
    rows: list[np.ndarray] = []
    if records and isinstance(records[0], TrackletRecord):
        clips = TrackletTorchDataset(records, seq_len=frames, size_hw=size_hw)  # type: ignore[arg-type]
        rows = [predict_tracklet(model, clips[i]["clip"], batch_size=batch_size).cpu().numpy()[None]
                for i in range(len(clips))]
    else:
        loader = DataLoader(ImageReidTorchDataset(records, size_hw=size_hw),  # type: ignore[arg-type]
                            batch_size=batch_size, shuffle=False)
        rows = [model(batch["image"].to(device)).float().cpu().numpy() for batch in loader]
    encoded = [SCHEMA.encode(r.attributes) for r in records]
    return AttributePredictions(
        probabilities=np.concatenate(rows).astype(np.float32),
        labels=np.stack([e.labels for e in encoded]),
        mask=np.stack([e.mask for e in encoded]),
        attributes=tuple(None if r.attributes is None else dict(r.attributes) for r in records),
    )


def score_predictions(predictions: AttributePredictions) -> AttributeScores:
    """PAR metrics (arg-max per multi-class attribute, 0.5 threshold per binary one), per-attribute mA
    and ECE of ``predictions``."""
    probs, labels, mask = predictions.multi_hot()
    names = multi_hot_names()
    metrics = par_metrics(predict_multi_hot(probs), labels, mask, names=names)
    per_attribute: dict[str, float] = {}
    for a in SCHEMA.attributes:
        cols = [i for i, n in enumerate(names) if n == a.name or n.startswith(f"{a.name}=")]
        values = metrics.label_mA[cols]
        per_attribute[a.name] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
    ece = expected_calibration_error(predictions.probabilities, predictions.labels, predictions.mask)
    return AttributeScores(metrics=metrics, per_attribute_mA=per_attribute, ece=ece)


def json_safe(obj: Any) -> Any:
    """``obj`` with every non-finite float (a metric with nothing to average) as None, for strict JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    return obj
