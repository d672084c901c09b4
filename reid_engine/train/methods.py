"""Training methods: the identity and metric losses every run has, plus optional modules (CAL, …).

A method is a set of training-only heads and losses around one :class:`ReidNet`; the inference
embedding never depends on which method trained it. Modules combine: ``modules = ["cal"]`` adds the
clothes-adversarial loss to the strong baseline, and the seed methods plug in the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol, cast

import torch
import torch.nn.functional as F
from torch import nn

from reid_engine.models.reid_net import ReidFeatures, ReidNet
from reid_engine.train.losses import (
    CosineClassifier,
    clothes_adversarial_loss,
    cross_entropy_smooth,
    triplet_batch_hard,
)
from reid_engine.train.modules.ifd import IfdConfig, IfdModule
from reid_engine.train.modules.mbnet import MbnetConfig, MbnetModule
from reid_engine.train.modules.mtdf import MtdfConfig, MtdfModule, Teacher
from reid_engine.train.modules.pgfl_kd import PgflKdConfig, PgflKdModule

Batch = Mapping[str, torch.Tensor]
MODULES: tuple[str, ...] = ("cal", "ifd", "mbnet", "pgfl_kd", "mtdf")
"""Every optional module :func:`build_module` knows."""


class MethodModule(Protocol):
    """An optional training module: heads and loss terms added to the strong baseline.

    Attributes:
        needs: batch entries the module reads beyond ``image``, ``pid``, ``camid``, ``clothes_id``:
            ``"mask"`` (int64 (N, H, W) label map of the SynthCC parsing classes) and/or
            ``"keypoints"`` (float32 (N, 17, 3) COCO keypoints in input pixels, ``v`` 0 = unlabelled)
            and/or ``"attributes"`` (``attr_labels`` / ``attr_mask``, always loaded).
    """

    needs: frozenset[str]

    def losses(self, model: ReidNet, feats: ReidFeatures, batch: Batch, *, epoch: int) -> dict[str, torch.Tensor]:
        """Named loss terms (already weighted) for one batch."""
        ...


@dataclass(frozen=True, kw_only=True)
class CalConfig:
    """CAL (Gu et al., CVPR 2022) settings.

    Attributes:
        weight: weight of the adversarial loss in the backbone's objective.
        start_epoch: epoch (from 0) from which the adversarial loss applies; before it the clothes
            classifier learns alone (the paper starts it once that classifier is trained).
        epsilon: target smoothing over the identity's outfits.
        scale: the cosine classifiers' logit scale.
    """

    weight: float = 1.0
    start_epoch: int = 5
    epsilon: float = 0.1
    scale: float = 16.0


@dataclass(frozen=True, kw_only=True)
class MethodConfig:
    """Which losses train the network.

    Attributes:
        modules: optional modules on top of the strong baseline, any of :data:`MODULES`.
        classifier: identity classifier on the neck feature: ``linear`` (strong baseline) or
            ``cosine`` (CAL's normalised classifier).
        label_smoothing: ε of the identity cross-entropy.
        triplet_weight: weight of the batch-hard triplet loss on the pooled feature (0 turns it off).
        triplet_margin: its margin; 0 for the soft margin.
        cal: settings of the ``cal`` module.
        ifd, mbnet, pgfl_kd, mtdf: settings of those modules (see ``docs/methods.md``).
    """

    modules: tuple[str, ...] = ()
    classifier: Literal["linear", "cosine"] = "linear"
    label_smoothing: float = 0.1
    triplet_weight: float = 1.0
    triplet_margin: float = 0.3
    cal: CalConfig = field(default_factory=CalConfig)
    ifd: IfdConfig = field(default_factory=IfdConfig)
    mbnet: MbnetConfig = field(default_factory=MbnetConfig)
    pgfl_kd: PgflKdConfig = field(default_factory=PgflKdConfig)
    mtdf: MtdfConfig = field(default_factory=MtdfConfig)

    def __post_init__(self) -> None:
        unknown = [m for m in self.modules if m not in MODULES]
        if unknown:
            raise ValueError(f"unknown method module {unknown[0]!r} (known: {', '.join(MODULES)})")
        if len(set(self.modules)) != len(self.modules):
            raise ValueError("a method module is listed twice")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError("label_smoothing must be in [0, 1)")
        if self.triplet_weight < 0 or self.triplet_margin < 0:
            raise ValueError("triplet_weight and triplet_margin must be non-negative")


@dataclass(frozen=True, slots=True)
class TrainLabels:
    """What the training split tells the method's heads.

    Attributes:
        num_pids: identities in the training split (labels 0..num_pids-1).
        clothes_pid: int64 (num_clothes,), the identity of each outfit label.
    """

    num_pids: int
    clothes_pid: torch.Tensor

    @property
    def num_clothes(self) -> int:
        return int(self.clothes_pid.numel())


class TrainingMethod(nn.Module):
    """Heads and losses of one training run; ``losses`` returns named loss terms to be summed."""

    def __init__(self, config: MethodConfig, model: ReidNet, labels: TrainLabels) -> None:
        super().__init__()
        self.config = config
        dim = model.embed_dim
        self.identity: nn.Module
        if config.classifier == "cosine":
            self.identity = CosineClassifier(dim, labels.num_pids, scale=config.cal.scale)
        else:
            self.identity = nn.Linear(dim, labels.num_pids, bias=False)
            nn.init.normal_(self.identity.weight, std=0.001)
        self.extra = nn.ModuleDict({name: build_module(name, config, model, labels) for name in config.modules})

    @property
    def needs(self) -> frozenset[str]:
        """Batch entries the modules need (see :class:`MethodModule`)."""
        out: frozenset[str] = frozenset()
        for module in self.extra.values():
            out |= cast(MethodModule, module).needs
        return out

    def losses(self, model: ReidNet, feats: ReidFeatures, batch: Batch, *, epoch: int) -> dict[str, torch.Tensor]:
        """Loss terms for one batch.

        Args:
            model: the network (modules with auxiliary streams run it again on other inputs).
            feats: the network's features of ``batch["image"]``.
            batch: ``image``, ``pid``, ``clothes_id`` and whatever modules need (masks, keypoints…).
            epoch: current epoch, from 0.
        """
        pids = batch["pid"]
        out = {"id": cross_entropy_smooth(self.identity(feats.neck), pids, self.config.label_smoothing)}
        if self.config.triplet_weight > 0:
            out["triplet"] = self.config.triplet_weight * triplet_batch_hard(
                feats.pooled, pids, self.config.triplet_margin
            )
        for name, module in self.extra.items():
            terms = cast(MethodModule, module).losses(model, feats, batch, epoch=epoch)
            clash = set(terms) & set(out)
            if clash:
                raise RuntimeError(f"module {name} reuses loss name {sorted(clash)[0]}")
            out.update(terms)
        return out

    def identity_logits(self, feats: ReidFeatures) -> torch.Tensor:
        """Identity-classifier logits (N, num_pids), for training accuracy."""
        logits: torch.Tensor = self.identity(feats.neck)
        return logits


class CalModule(nn.Module):
    """Clothes classifier plus the clothes-based adversarial loss (CAL)."""

    needs: frozenset[str] = frozenset()

    def __init__(self, config: CalConfig, dim: int, clothes_pid: torch.Tensor) -> None:
        super().__init__()
        self.config = config
        self.classifier = CosineClassifier(dim, int(clothes_pid.numel()), scale=config.scale)
        self.register_buffer("same_identity", clothes_pid[:, None] == clothes_pid[None, :], persistent=False)

    def losses(self, model: ReidNet, feats: ReidFeatures, batch: Batch, *, epoch: int) -> dict[str, torch.Tensor]:
        """The clothes classifier's loss, and from ``start_epoch`` the adversarial loss."""
        clothes = batch["clothes_id"]
        # The clothes classifier learns from detached features: it must not shape the backbone...
        out = {"clothes": cross_entropy_smooth(self.classifier(feats.neck.detach()), clothes, 0.0)}
        if epoch >= self.config.start_epoch:
            # ...while the backbone learns against it, through frozen classifier weights.
            logits = self.classifier(feats.neck, detach_weight=True)
            same: torch.Tensor = self.same_identity  # type: ignore[assignment]
            out["cal"] = self.config.weight * clothes_adversarial_loss(
                logits, clothes, same, self.config.epsilon
            )
        return out


def build_module(name: str, config: MethodConfig, model: ReidNet, labels: TrainLabels) -> nn.Module:
    """The optional module ``name`` (one of :data:`MODULES`), configured from ``config``."""
    match name:
        case "cal":
            return CalModule(config.cal, model.embed_dim, labels.clothes_pid)
        case "ifd":
            return IfdModule(config.ifd, model, labels.num_pids)
        case "mbnet":
            return MbnetModule(config.mbnet, model, labels.num_pids)
        case "pgfl_kd":
            return PgflKdModule(config.pgfl_kd, model, labels.num_pids)
        case "mtdf":
            teacher = attribute_teacher(config.mtdf.teacher) if config.mtdf.teacher else None
            return MtdfModule(config.mtdf, model, labels.num_clothes, teacher=teacher)
        case _:
            raise ValueError(f"unknown method module {name!r} (known: {', '.join(MODULES)})")


def attribute_teacher(path: str) -> Teacher:
    """A frozen MDFF-PAttr model (``reid train-attributes``) as MTDF-PAttr's teacher: images at the ReID
    input size are resized to the teacher's own before it predicts.

    Raises:
        CheckpointError: the file is not a usable attribute model.
    """
    from reid_engine.attributes.model import load_attribute_model

    net, size_hw, _ = load_attribute_model(path)
    net.requires_grad_(False)

    def predict(images: torch.Tensor) -> torch.Tensor:
        if net.training or next(net.parameters()).device != images.device:
            net.to(images.device).eval()
        if tuple(images.shape[-2:]) != size_hw:
            images = F.interpolate(images, size=size_hw, mode="bilinear", align_corners=False)
        with torch.no_grad():
            out: torch.Tensor = net(images.float())
        return out

    return predict


def build_method(config: MethodConfig, model: ReidNet, labels: TrainLabels) -> TrainingMethod:
    """The training heads for ``config`` around ``model``."""
    return TrainingMethod(config, model, labels)
