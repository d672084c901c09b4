"""The training loop of ``reid train``: plain, readable top to bottom.

``train()`` builds data, model and method from a :class:`TrainConfig`, runs ``train_one_epoch`` per
epoch with a checkpoint after each (``last.pt``, resumable), evaluates on the data set's query and
gallery, and writes ``model.pt`` (the inference model) and ``report.json``.
Multi-GPU: launched by ``torchrun``, each process trains on its share of every epoch's batches and
gradients are averaged by DistributedDataParallel.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader
from tqdm import tqdm

from reid_engine.data.base import ImageRecord, ReidDataset, TrackletRecord
from reid_engine.data.registry import load_training_dataset
from reid_engine.data.torch_dataset import ImageReidTorchDataset, RandomIdentitySampler
from reid_engine.eval.extract import extract_features, score_features
from reid_engine.models.reid_net import ReidFeatures, ReidNet, build_model
from reid_engine.train.augment import augment_batch
from reid_engine.train.checkpoint import STATE_FORMAT, atomic_save, load_state, save_model
from reid_engine.train.config import OptimConfig, TrainConfig
from reid_engine.train.methods import TrainingMethod, TrainLabels, build_method

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EpochStats:
    """Means over one epoch: each loss term, the total, identity accuracy on the batches, seconds."""

    losses: dict[str, float]
    total: float
    accuracy: float
    seconds: float
    images: int


@dataclass
class TrainResult:
    """What a run produced: the paths written, per-epoch statistics and the final scores."""

    out_dir: Path
    epochs: list[EpochStats] = field(default_factory=list)
    scores: dict[str, dict[str, float | int]] = field(default_factory=dict)


class TrainStep(nn.Module):
    """Model plus method as one module, so DistributedDataParallel sees every trainable parameter."""

    def __init__(self, model: ReidNet, method: TrainingMethod) -> None:
        super().__init__()
        self.model = model
        self.method = method

    def forward(self, batch: dict[str, torch.Tensor], epoch: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        feats: ReidFeatures = self.model.features(batch["image"])
        losses = self.method.losses(self.model, feats, batch, epoch=epoch)
        correct = (self.method.identity_logits(feats).argmax(1) == batch["pid"]).float().mean()
        return losses, correct.detach()


def resolve_device(name: str) -> torch.device:
    """``auto`` → the first CUDA device when there is one, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda was asked for but no CUDA device is available")
    return device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def training_records(dataset: ReidDataset[ImageRecord] | ReidDataset[TrackletRecord]) -> tuple[ImageRecord, ...]:
    """Image records to train on: the images of an image set, or the frames of a video set's tracklets."""
    out: list[ImageRecord] = []
    for r in dataset.relabelled_train():
        if isinstance(r, TrackletRecord):
            masks = r.mask_paths or (None,) * len(r.paths)
            out += [
                ImageRecord(path=p, pid=r.pid, camid=r.camid, clothes_id=r.clothes_id, attributes=r.attributes,
                            mask_path=m)
                for p, m in zip(r.paths, masks, strict=True)
            ]
        else:
            out.append(r)
    return tuple(out)


def lr_factor(config: OptimConfig, step: int, steps_per_epoch: int) -> float:
    """Learning-rate multiplier at a global step: linear warm-up from 0.1, then step or cosine decay."""
    epoch = step / steps_per_epoch
    if epoch < config.warmup_epochs:
        return 0.1 + 0.9 * epoch / config.warmup_epochs
    if config.schedule == "cosine":
        span = max(config.epochs - config.warmup_epochs, 1e-9)
        return 0.5 * (1 + math.cos(math.pi * min((epoch - config.warmup_epochs) / span, 1.0)))
    return float(config.gamma ** sum(epoch >= m for m in config.milestones))


def _batches(loader: DataLoader[Any], *, rank: int, world: int, limit: int) -> Iterator[dict[str, torch.Tensor]]:
    for i, batch in enumerate(loader):
        if i >= limit * world:
            return
        if i % world == rank:
            yield batch


def train_one_epoch(
    step_module: nn.Module,
    batches: Iterator[dict[str, torch.Tensor]],
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    config: TrainConfig,
    *,
    epoch: int,
    device: torch.device,
    generator: torch.Generator,
    scaler: torch.amp.GradScaler | None,
    bar: tqdm[Any] | None,
) -> EpochStats:
    """One pass over ``batches``: augment, forward, sum the loss terms, backward, step."""
    step_module.train()
    sums: dict[str, float] = {}
    total = accuracy = 0.0
    n = images = 0
    start = time.perf_counter()
    for batch in batches:
        batch = augment_batch(batch, config.augment, generator)
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        with torch.autocast(device_type=device.type, dtype=torch.float16, enabled=scaler is not None):
            losses, correct = step_module(batch, epoch)
        loss = torch.stack(list(losses.values())).sum()
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss is {loss.item()} at epoch {epoch}: lower optim.lr")
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        scheduler.step()
        for k, v in losses.items():
            sums[k] = sums.get(k, 0.0) + float(v.detach())
        total += float(loss.detach())
        accuracy += float(correct)
        n += 1
        images += len(batch["image"])
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{total / n:.3f}", acc=f"{accuracy / n:.2f}")
    n = max(n, 1)
    return EpochStats(
        losses={k: v / n for k, v in sums.items()},
        total=total / n,
        accuracy=accuracy / n,
        seconds=time.perf_counter() - start,
        images=images,
    )


def train(
    config: TrainConfig, out_dir: Path, *, data_dir: Path | None = None, resume: bool = False,
    show_progress: bool = True,
) -> TrainResult:
    """Run one training as configured; write ``last.pt``, ``model.pt`` and ``report.json`` to ``out_dir``.

    Raises:
        DatasetError: the data set cannot be read.
        CheckpointError: ``resume`` was asked for and the saved state is unusable.
        ValueError: the configuration does not fit the data (e.g. fewer identities than P).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    device = resolve_device(config.device)
    if world > 1:
        torch.distributed.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
    if config.threads:
        torch.set_num_threads(config.threads)
    seed_everything(config.seed)
    out_dir.mkdir(parents=True, exist_ok=True)

    dataset = load_training_dataset(config.data.dataset, config.data.root)
    records = training_records(dataset)
    pids = [r.pid for r in records]
    num_pids = len(set(pids))
    if num_pids < config.data.ids_per_batch:
        raise ValueError(f"the training split has {num_pids} identities, fewer than data.ids_per_batch")
    clothes_pid = torch.zeros(len({r.clothes_id for r in records}), dtype=torch.int64)
    for r in records:
        clothes_pid[r.clothes_id] = r.pid
    labels = TrainLabels(num_pids=num_pids, clothes_pid=clothes_pid)

    model = build_model(config.model, data_dir=data_dir).to(device)
    method = build_method(config.method, model, labels).to(device)
    step_module: nn.Module = TrainStep(model, method)
    if world > 1:
        # Modules with a start epoch leave their heads out of early graphs; DDP must be told to look.
        step_module = nn.parallel.DistributedDataParallel(
            step_module, find_unused_parameters=bool(config.method.modules)
        )
    params = [p for p in step_module.parameters() if p.requires_grad]
    if config.optim.optimizer == "sgd":
        optimizer: torch.optim.Optimizer = torch.optim.SGD(
            params, lr=config.optim.lr, momentum=0.9, weight_decay=config.optim.weight_decay
        )
    else:
        optimizer = torch.optim.Adam(params, lr=config.optim.lr, weight_decay=config.optim.weight_decay)

    batch_size = config.data.ids_per_batch * config.data.instances
    sampler = RandomIdentitySampler(pids, num_instances=config.data.instances, seed=config.seed)
    loader = DataLoader(
        ImageReidTorchDataset(records, size_hw=config.data.size_hw, load_masks="mask" in method.needs,
                              load_keypoints="keypoints" in method.needs),
        batch_sampler=BatchSampler(sampler, batch_size, drop_last=True),
        num_workers=config.data.workers,
        persistent_workers=config.data.workers > 0,
    )
    per_epoch = config.optim.steps_per_epoch or max(len(sampler) // batch_size // world, 1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_factor(config.optim, step, per_epoch)
    )
    scaler = torch.amp.GradScaler("cuda") if config.amp and device.type == "cuda" else None
    generator = torch.Generator().manual_seed(config.seed * 1000 + rank)

    result = TrainResult(out_dir=out_dir)
    start_epoch = 0
    state_path = out_dir / "last.pt"
    if resume and state_path.is_file():
        state = load_state(state_path)
        model.load_state_dict(state["state_dict"])
        method.load_state_dict(state["method"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        start_epoch = int(state["epoch"]) + 1
        result.epochs = [EpochStats(**e) for e in state.get("history", [])]
        logger.info("resumed from %s at epoch %d", state_path, start_epoch)

    main = rank == 0
    for epoch in range(start_epoch, config.optim.epochs):
        sampler.set_epoch(epoch)
        bar = tqdm(total=per_epoch, desc=f"epoch {epoch + 1}/{config.optim.epochs}", unit="batch",
                   disable=not (main and show_progress), leave=False)
        stats = train_one_epoch(
            step_module, _batches(loader, rank=rank, world=world, limit=per_epoch), optimizer, scheduler, config,
            epoch=epoch, device=device, generator=generator, scaler=scaler, bar=bar,
        )
        bar.close()
        result.epochs.append(stats)
        logger.info("epoch %d: loss %.4f acc %.3f (%.1fs)", epoch + 1, stats.total, stats.accuracy, stats.seconds)
        if main:
            atomic_save(
                {
                    "format": STATE_FORMAT,
                    "model_config": dataclasses.asdict(config.model),
                    "size_hw": list(config.data.size_hw),
                    "state_dict": model.state_dict(),
                    "method": method.state_dict(),
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "generator": generator.get_state(),
                    "epoch": epoch,
                    "history": [dataclasses.asdict(e) for e in result.epochs],
                },
                state_path,
            )
        last = epoch + 1 == config.optim.epochs
        if main and (last or (config.eval_every and (epoch + 1) % config.eval_every == 0)):
            feats = extract_features(model, dataset, size_hw=config.data.size_hw, device=device,
                                     flip=config.eval_flip)
            result.scores = score_features(feats, ("general", "sc", "cc"))
            logger.info("epoch %d scores: %s", epoch + 1, json.dumps(result.scores))

    if main:
        meta = {"dataset": config.data.dataset, "epochs": config.optim.epochs, "seed": config.seed,
                "scores": result.scores}
        save_model(out_dir / "model.pt", model, size_hw=config.data.size_hw, meta=meta)
        report = {
            "config": dataclasses.asdict(config),
            "epochs": [dataclasses.asdict(e) for e in result.epochs],
            "scores": result.scores,
            "train_images": len(records),
            "train_ids": num_pids,
            "train_clothes": labels.num_clothes,
            "device": str(device),
        }
        (out_dir / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if world > 1:
        torch.distributed.destroy_process_group()
    return result
