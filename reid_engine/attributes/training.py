"""The training loop of ``reid train-attributes``: MDFF-PAttr on several data sets, top to bottom.

``train_attributes()`` loads every configured data set under its schema view, holds out a share of
each one's training identities for calibration, trains the network with the losses of
:mod:`reid_engine.attributes.mdff`, fits the per-attribute temperatures on the held-out images and
writes ``model.pt`` (the student, calibrated) and ``report.json``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, RandomSampler
from tqdm import tqdm

from reid_engine.attributes.calibration import CalibrationReport, calibrate
from reid_engine.attributes.evaluation import (
    AttributePredictions,
    json_safe,
    predict_logits,
    score_predictions,
)
from reid_engine.attributes.mdff import DistillConfig, MdffStep, positive_ratios
from reid_engine.attributes.model import build_attribute_net, head_probabilities, save_attribute_model
from reid_engine.attributes.schema import SCHEMA
from reid_engine.attributes.views import ViewName, view_dataset
from reid_engine.data.base import ImageRecord
from reid_engine.data.registry import load_training_dataset
from reid_engine.data.torch_dataset import ImageReidTorchDataset
from reid_engine.models.reid_net import ModelConfig
from reid_engine.train.augment import AugmentConfig, augment_batch
from reid_engine.train.config import OptimConfig
from reid_engine.train.loop import lr_factor, resolve_device, seed_everything, training_records

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class AttributeDatasetConfig:
    """One training data set (a ``[[datasets]]`` table).

    Attributes:
        name: short label, unique in the run (reports, teacher heads).
        root: the data set's folder.
        dataset: the loader's name (``synthcc``, or any data set the engine loads with attributes).
        view: the schema view its labels are read through (``full``, ``pa100k-like``, ``rap-like``).
    """

    name: str
    root: str
    dataset: str = "synthcc"
    view: ViewName = "full"

    def __post_init__(self) -> None:
        if not self.name or not self.root:
            raise ValueError("every [[datasets]] entry needs a name and a root")


@dataclass(frozen=True, kw_only=True)
class AttributeTrainConfig:
    """One attribute training run.

    Attributes:
        datasets: the training data sets; one teacher head set each when distillation is on.
        model: the backbone (its pooled, BNNeck feature feeds every head).
        optim: optimiser and schedule (``steps_per_epoch`` 0: one pass over the training images).
        augment: batch augmentation (flip and pad-crop; no attribute in the schema is left/right).
        distill: multi-teacher collaborative self-distillation.
        height, width: network input size.
        batch_size: images per batch, drawn at random from all data sets together.
        calibration_fraction: share of each data set's training identities held out to fit the
            temperatures (0: no calibration, temperatures stay 1).
        seed: seeds weights, sampling, augmentation and the held-out identities.
        device: ``auto``, ``cpu`` or ``cuda``/``cuda:N``.
        threads: CPU threads for torch (0 keeps torch's default).
        workers: data-loading processes.
    """

    datasets: tuple[AttributeDatasetConfig, ...]
    model: ModelConfig = field(default_factory=ModelConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    height: int = 128
    width: int = 64
    batch_size: int = 32
    calibration_fraction: float = 0.15
    seed: int = 0
    device: str = "auto"
    threads: int = 0
    workers: int = 0

    def __post_init__(self) -> None:
        if not self.datasets:
            raise ValueError("at least one [[datasets]] entry is required")
        names = [d.name for d in self.datasets]
        if len(set(names)) != len(names):
            raise ValueError(f"data-set names must be unique, got {names}")
        if self.height < 16 or self.width < 16:
            raise ValueError("height and width must be at least 16")
        if self.batch_size < 2:
            raise ValueError("batch_size must be at least 2")
        if not 0 <= self.calibration_fraction < 1:
            raise ValueError("calibration_fraction must be in [0, 1)")
        if self.threads < 0 or self.workers < 0:
            raise ValueError("threads and workers must be non-negative")

    @property
    def size_hw(self) -> tuple[int, int]:
        return (self.height, self.width)


@dataclass(frozen=True)
class TrainingData:
    """The images of a run, with the data set each comes from.

    Attributes:
        fit: records to train on; fit_source: int64 (N,) index of each one's data set.
        held_out: records of the held-out identities (calibration); held_out_source likewise.
        coverage: per data set, the attributes its training labels cover.
    """

    fit: tuple[ImageRecord, ...]
    fit_source: np.ndarray
    held_out: tuple[ImageRecord, ...]
    held_out_source: np.ndarray
    coverage: tuple[frozenset[str], ...]


@dataclass(frozen=True, slots=True)
class AttributeEpochStats:
    """Means over one epoch of each loss term and their total; seconds and images seen."""

    losses: dict[str, float]
    total: float
    seconds: float
    images: int


@dataclass
class AttributeTrainResult:
    """What a run produced."""

    out_dir: Path
    epochs: list[AttributeEpochStats] = field(default_factory=list)
    calibration: CalibrationReport | None = None
    held_out: dict[str, dict[str, Any]] = field(default_factory=dict)


def load_training_data(config: AttributeTrainConfig) -> TrainingData:
    """Load every data set under its view and hold out ``calibration_fraction`` of its identities.

    Raises:
        DatasetError: a data set cannot be read.
        ValueError: a data set has no attribute labels under its view.
    """
    fit: list[ImageRecord] = []
    held: list[ImageRecord] = []
    fit_source: list[int] = []
    held_source: list[int] = []
    coverage: list[frozenset[str]] = []
    for k, entry in enumerate(config.datasets):
        records = training_records(view_dataset(load_training_dataset(entry.dataset, entry.root), entry.view))
        pids = sorted({r.pid for r in records})
        rng = np.random.default_rng([config.seed, k])
        n_held = round(config.calibration_fraction * len(pids))
        held_pids = set(rng.choice(pids, size=n_held, replace=False).tolist()) if n_held else set()
        own = [r for r in records if r.pid not in held_pids]
        covered = frozenset(name for r in own for name in (r.attributes or {}))
        if not covered:
            raise ValueError(f"data set {entry.name} has no attribute labels under view {entry.view}")
        fit += own
        fit_source += [k] * len(own)
        extra = [r for r in records if r.pid in held_pids]
        held += extra
        held_source += [k] * len(extra)
        coverage.append(covered)
        logger.info("%s: %d training images, %d held out, %d attributes labelled", entry.name, len(own),
                    len(extra), len(covered))
    return TrainingData(
        fit=tuple(fit), fit_source=np.asarray(fit_source, np.int64), held_out=tuple(held),
        held_out_source=np.asarray(held_source, np.int64), coverage=tuple(coverage),
    )


def _encoded(records: tuple[ImageRecord, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    enc = [SCHEMA.encode(r.attributes) for r in records]
    return (torch.from_numpy(np.stack([e.labels for e in enc])), torch.from_numpy(np.stack([e.mask for e in enc])))


def _batches(loader: DataLoader[Any], steps: int) -> Iterator[dict[str, torch.Tensor]]:
    """``steps`` batches, starting the loader over when it runs out."""
    done = 0
    while done < steps:
        for batch in loader:
            yield batch
            done += 1
            if done == steps:
                return


def train_one_epoch(
    step: MdffStep,
    batches: Iterator[dict[str, torch.Tensor]],
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    augment: AugmentConfig,
    *,
    source_of: torch.Tensor,
    epoch: int,
    device: torch.device,
    generator: torch.Generator,
    bar: tqdm[Any] | None,
) -> AttributeEpochStats:
    """One pass over ``batches``: augment, forward, sum the loss terms, backward, step."""
    step.train()
    sums: dict[str, float] = {}
    total = 0.0
    n = images = 0
    start = time.perf_counter()
    for batch in batches:
        batch = augment_batch(batch, augment, generator)
        batch["source"] = source_of[batch["index"]]
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        losses = step(batch, epoch)
        loss = torch.stack(list(losses.values())).sum()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss is {loss.item()} at epoch {epoch}: lower optim.lr")
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        for k, v in losses.items():
            sums[k] = sums.get(k, 0.0) + float(v.detach())
        total += float(loss.detach())
        n += 1
        images += len(batch["image"])
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{total / n:.3f}")
    n = max(n, 1)
    return AttributeEpochStats(losses={k: v / n for k, v in sums.items()}, total=total / n,
                               seconds=time.perf_counter() - start, images=images)


def train_attributes(
    config: AttributeTrainConfig, out_dir: Path, *, data_dir: Path | None = None, show_progress: bool = True
) -> AttributeTrainResult:
    """Run one MDFF-PAttr training; write ``model.pt`` and ``report.json`` to ``out_dir``.

    Raises:
        DatasetError: a data set cannot be read.
        ValueError: the configuration does not fit the data (e.g. fewer images than a batch).
        FloatingPointError: the loss diverged.
    """
    device = resolve_device(config.device)
    if config.threads:
        torch.set_num_threads(config.threads)
    seed_everything(config.seed)
    out_dir.mkdir(parents=True, exist_ok=True)

    data = load_training_data(config)
    if len(data.fit) < config.batch_size:
        raise ValueError(f"{len(data.fit)} training images, fewer than batch_size {config.batch_size}")
    fit_labels, fit_mask = _encoded(data.fit)
    ratios = positive_ratios(fit_labels, fit_mask)

    model = build_attribute_net(config.model, data_dir=data_dir).to(device)
    step = MdffStep(model, data.coverage, ratios, config.distill).to(device)
    params = [p for p in step.parameters() if p.requires_grad]
    if config.optim.optimizer == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(
            params, lr=config.optim.lr, momentum=0.9, weight_decay=config.optim.weight_decay
        )
    else:
        optimizer = torch.optim.Adam(params, lr=config.optim.lr, weight_decay=config.optim.weight_decay)
    per_epoch = config.optim.steps_per_epoch or max(len(data.fit) // config.batch_size, 1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(config.optim, s, per_epoch))

    loader = DataLoader(
        ImageReidTorchDataset(data.fit, size_hw=config.size_hw),
        batch_size=config.batch_size,
        sampler=RandomSampler(data.fit, generator=torch.Generator().manual_seed(config.seed)),
        drop_last=True,
        num_workers=config.workers,
        persistent_workers=config.workers > 0,
    )
    source_of = torch.from_numpy(data.fit_source)
    generator = torch.Generator().manual_seed(config.seed * 1000 + 1)

    result = AttributeTrainResult(out_dir=out_dir)
    for epoch in range(config.optim.epochs):
        bar = tqdm(total=per_epoch, desc=f"epoch {epoch + 1}/{config.optim.epochs}", unit="batch",
                   disable=not show_progress, leave=False)
        stats = train_one_epoch(step, _batches(loader, per_epoch), optimizer, scheduler, config.augment,
                                source_of=source_of, epoch=epoch, device=device, generator=generator, bar=bar)
        bar.close()
        result.epochs.append(stats)
        logger.info("epoch %d: loss %.4f %s (%.1fs)", epoch + 1, stats.total,
                    " ".join(f"{k} {v:.4f}" for k, v in stats.losses.items()), stats.seconds)

    if data.held_out:
        logits = predict_logits(model, data.held_out, size_hw=config.size_hw, device=device,
                                batch_size=2 * config.batch_size)
        labels, mask = _encoded(data.held_out)
        result.calibration = calibrate(model, logits, labels, mask)
        logger.info("calibration: ECE %.4f → %.4f", result.calibration.ece_before, result.calibration.ece_after)
        probs = head_probabilities(logits, model.temperatures.cpu()).numpy()
        for k, entry in enumerate(config.datasets):
            rows = np.flatnonzero(data.held_out_source == k)
            if len(rows):
                held = AttributePredictions(
                    probabilities=probs[rows], labels=labels.numpy()[rows], mask=mask.numpy()[rows],
                    attributes=tuple(dict(data.held_out[i].attributes or {}) for i in rows),
                )
                scores = score_predictions(held)
                result.held_out[entry.name] = {**scores.metrics.summary(), "ece": scores.ece, "images": len(rows)}

    meta = {
        "datasets": [dataclasses.asdict(d) for d in config.datasets],
        "epochs": config.optim.epochs,
        "seed": config.seed,
        "distill": dataclasses.asdict(config.distill),
        "calibration": result.calibration.summary() if result.calibration else None,
        "held_out": json_safe(result.held_out),
    }
    save_attribute_model(out_dir / "model.pt", model.cpu(), size_hw=config.size_hw, meta=meta)
    report = {
        "config": dataclasses.asdict(config),
        "epochs": [dataclasses.asdict(e) for e in result.epochs],
        "calibration": meta["calibration"],
        "held_out": result.held_out,
        "train_images": len(data.fit),
        "held_out_images": len(data.held_out),
        "coverage": {d.name: sorted(c) for d, c in zip(config.datasets, data.coverage, strict=True)},
        "positive_ratios": {n: round(float(r), 4) for n, r in zip(SCHEMA.names, ratios, strict=True)
                            if SCHEMA[n].kind == "binary"},
        "device": str(device),
    }
    (out_dir / "report.json").write_text(json.dumps(json_safe(report), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return result
