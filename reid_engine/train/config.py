"""The typed configuration of a training run (``reid train --config FILE.toml --set key=value``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reid_engine.models.reid_net import ModelConfig
from reid_engine.train.augment import AugmentConfig
from reid_engine.train.methods import MethodConfig


@dataclass(frozen=True, kw_only=True)
class DataConfig:
    """Training and evaluation data.

    Attributes:
        dataset: a data-set name the engine can load (``synthcc``, …).
        root: the data set's folder.
        height, width: network input size.
        ids_per_batch: P of the P×K identity sampler.
        instances: K, images per identity in a batch.
        workers: data-loading processes (0 loads in the training process).
    """

    dataset: str = "synthcc"
    root: str = ""
    height: int = 256
    width: int = 128
    ids_per_batch: int = 16
    instances: int = 4
    workers: int = 0

    def __post_init__(self) -> None:
        if not self.root:
            raise ValueError("data.root is required (the data set's folder)")
        if self.height < 16 or self.width < 16:
            raise ValueError("data.height and data.width must be at least 16")
        if self.ids_per_batch < 2 or self.instances < 1:
            raise ValueError("data.ids_per_batch must be ≥ 2 and data.instances ≥ 1")
        if self.workers < 0:
            raise ValueError("data.workers must be non-negative")

    @property
    def size_hw(self) -> tuple[int, int]:
        return (self.height, self.width)


@dataclass(frozen=True, kw_only=True)
class OptimConfig:
    """Optimiser and schedule.

    Attributes:
        optimizer: ``adam`` or ``sgd`` (momentum 0.9).
        lr: base learning rate (reached after the warm-up).
        weight_decay: L2 penalty.
        epochs: training epochs.
        warmup_epochs: linear warm-up from lr / 10 (strong-baseline recipe).
        schedule: ``step`` (×gamma at each milestone epoch) or ``cosine``.
        milestones: epochs of the step decay.
        gamma: step-decay factor.
        steps_per_epoch: batches per epoch; 0 for one pass of the identity sampler.
    """

    optimizer: Literal["adam", "sgd"] = "adam"
    lr: float = 3.5e-4
    weight_decay: float = 5e-4
    epochs: int = 60
    warmup_epochs: int = 10
    schedule: Literal["step", "cosine"] = "step"
    milestones: tuple[int, ...] = (40, 55)
    gamma: float = 0.1
    steps_per_epoch: int = 0

    def __post_init__(self) -> None:
        if self.lr <= 0 or self.weight_decay < 0:
            raise ValueError("optim.lr must be positive and optim.weight_decay non-negative")
        if self.epochs < 1 or self.warmup_epochs < 0 or self.steps_per_epoch < 0:
            raise ValueError("optim.epochs must be ≥ 1; warmup_epochs and steps_per_epoch ≥ 0")


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    """One training run.

    Attributes:
        seed: seeds weights, sampling and augmentation.
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``/``cuda:N``.
        amp: mixed precision on CUDA (ignored on CPU).
        threads: CPU threads for torch (0 keeps torch's default).
        eval_every: evaluate every this many epochs (0: only at the end).
        eval_flip: average each test embedding with that of the mirrored image.
    """

    data: DataConfig
    model: ModelConfig = field(default_factory=ModelConfig)
    method: MethodConfig = field(default_factory=MethodConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    seed: int = 0
    device: str = "auto"
    amp: bool = True
    threads: int = 0
    eval_every: int = 0
    eval_flip: bool = False
