"""MBNet: multi-features balanced network for clothes-changing ReID, as training-time branches.

The global branch is the network itself. A clothing-unrelated branch runs the shared backbone on
images with the clothing removed, through a feature attention module (channel then spatial attention,
which learns to suppress the background); a mask branch encodes the body-part layout with its own
small encoder and meets the global branch in a cross fusion module; a knowledge transfer module
distils the clothing-unrelated branch into the global one. Only the global branch ships.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from reid_engine.models.reid_net import ReidFeatures, ReidNet
from reid_engine.synth.painter import ARMS, FACE, GLASSES, HAIR, HAT, LEGS, LOWER, SHOES, UPPER
from reid_engine.train.losses import CosineClassifier, cross_entropy_smooth
from reid_engine.train.modules.common import (
    Batch,
    auxiliary_fmap,
    cosine_distance,
    coverage,
    distill_kl,
    label_pixels,
    mask_clothing,
    person_pixels,
    soft_targets,
    spatial_size,
)

PARTS: tuple[tuple[int, ...], ...] = (
    (HAT, HAIR, GLASSES, FACE),
    (UPPER, ARMS),
    (LOWER, LEGS, SHOES),
)
"""Label classes of the mask branch's three input channels: head, upper body, lower body (bags and
occluders are not the body)."""


@dataclass(frozen=True, kw_only=True)
class MbnetConfig:
    """MBNet settings.

    Attributes:
        unrelated_weight: weight of the clothing-unrelated branch's identity loss.
        background_weight: weight of the term that teaches the feature attention module's spatial map
            the person's silhouette (0 leaves that map to the identity loss alone).
        mask_weight: weight of the identity loss on the cross-fused mask/global feature.
        transfer_weight: weight of the knowledge transfer (feature and logit distillation) from the
            clothing-unrelated branch into the global branch.
        temperature: softening of the logit distillation.
        start_epoch: epoch (from 0) from which the knowledge transfer applies.
        mask_channels: width of the mask encoder and of the cross fusion.
        reduction: squeeze ratio of the channel attention.
        scale: the branches' cosine-classifier logit scale.
    """

    unrelated_weight: float = 1.0
    background_weight: float = 0.1
    mask_weight: float = 1.0
    transfer_weight: float = 1.0
    temperature: float = 4.0
    start_epoch: int = 0
    mask_channels: int = 128
    reduction: int = 16
    scale: float = 16.0

    def __post_init__(self) -> None:
        weights = (self.unrelated_weight, self.background_weight, self.mask_weight, self.transfer_weight)
        if min(weights) < 0:
            raise ValueError("mbnet weights must be non-negative")
        if self.temperature <= 0 or self.scale <= 0:
            raise ValueError("mbnet.temperature and mbnet.scale must be positive")
        if self.start_epoch < 0:
            raise ValueError("mbnet.start_epoch must be non-negative")
        if self.mask_channels < 8 or self.reduction < 1:
            raise ValueError("mbnet.mask_channels must be ≥ 8 and mbnet.reduction ≥ 1")


def part_channels(labels: torch.Tensor) -> torch.Tensor:
    """The mask branch's input: float (N, 3, H, W) binary maps of head, upper and lower body."""
    return torch.stack([label_pixels(labels, p) for p in PARTS], dim=1).float()


class FeatureAttention(nn.Module):
    """Channel attention (squeeze-and-excitation) then spatial attention (CBAM-style), and pooling."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        hidden = max(channels // reduction, 8)
        self.channel = nn.Sequential(
            nn.Linear(channels, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, channels)
        )
        self.spatial = nn.Conv2d(2, 1, 7, padding=3)

    def forward(self, fmap: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Attended pooled feature (N, C) and the spatial attention's logits (N, 1, h, w)."""
        x = fmap.float()
        x = x * torch.sigmoid(self.channel(x.mean((2, 3))))[..., None, None]
        logits = self.spatial(torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)], dim=1))
        w = torch.sigmoid(logits)
        pooled = (x * w).sum((2, 3)) / w.sum((2, 3)).clamp(min=1e-6)
        return pooled, logits


def _conv_bn(inp: int, out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(inp, out, 3, stride, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True)
    )


class MaskEncoder(nn.Module):
    """A small CNN over the part maps (N, 3, H, W) → (N, width, H / 16, W / 16).

    Label maps are a different modality from photographs: running them through the shared RGB backbone
    would disturb its batch statistics for little gain, so the mask branch has weights of its own.
    """

    def __init__(self, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            _conv_bn(3, width // 4, 2), _conv_bn(width // 4, width // 2, 2),
            _conv_bn(width // 2, width, 2), _conv_bn(width, width, 2),
        )

    def forward(self, parts: torch.Tensor) -> torch.Tensor:
        """Encode the part maps."""
        out: torch.Tensor = self.net(parts)
        return out


class CrossFusion(nn.Module):
    """Cross fusion of the global branch's feature map with the mask branch's.

    The body layout decides *where* the global features count (a spatial gate computed from the mask
    features), and the global context decides *which* shape channels count (a channel gate computed
    from the global features); the two gated features are pooled and concatenated, (N, 2 · width).
    """

    def __init__(self, channels: int, width: int) -> None:
        super().__init__()
        self.project = nn.Sequential(
            nn.Conv2d(channels, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)
        )
        self.where = nn.Conv2d(width, 1, 1)
        self.which = nn.Linear(width, width)

    def forward(self, fmap: torch.Tensor, shape: torch.Tensor) -> torch.Tensor:
        """Fuse ``fmap`` (N, C, h, w) with ``shape`` (N, width, h', w')."""
        rgb = self.project(fmap.float())
        shape = F.interpolate(shape, size=rgb.shape[-2:], mode="bilinear", align_corners=False)
        where = torch.sigmoid(self.where(shape))
        rgb_pooled = (rgb * where).sum((2, 3)) / where.sum((2, 3)).clamp(min=1e-6)
        which = torch.sigmoid(self.which(rgb.mean((2, 3))))
        shape_pooled = shape.mean((2, 3)) * which
        return torch.cat([rgb_pooled, shape_pooled], dim=1)


class MbnetModule(nn.Module):
    """Clothing-unrelated branch with its attention module, mask branch with cross fusion, knowledge transfer."""

    needs: frozenset[str] = frozenset({"mask"})

    def __init__(self, config: MbnetConfig, model: ReidNet, num_pids: int) -> None:
        super().__init__()
        self.config = config
        c = model.channels
        self.attention = FeatureAttention(c, config.reduction)
        self.unrelated_classifier = CosineClassifier(c, num_pids, scale=config.scale)
        self.mask_encoder = MaskEncoder(config.mask_channels)
        self.fusion = CrossFusion(c, config.mask_channels)
        self.mask_classifier = CosineClassifier(2 * config.mask_channels, num_pids, scale=config.scale)

    def losses(self, model: ReidNet, feats: ReidFeatures, batch: Batch, *, epoch: int) -> dict[str, torch.Tensor]:
        """``mbnet_unrelated``, ``mbnet_background`` (when weighted), ``mbnet_mask`` and, from
        ``start_epoch``, ``mbnet_transfer``."""
        cfg = self.config
        images, labels, pids = batch["image"], batch["mask"], batch["pid"]
        unrelated_fmap = auxiliary_fmap(model, mask_clothing(images, labels))
        unrelated, spatial_logits = self.attention(unrelated_fmap)
        unrelated_logits = self.unrelated_classifier(unrelated)
        out = {"mbnet_unrelated": cfg.unrelated_weight * cross_entropy_smooth(unrelated_logits, pids)}
        if cfg.background_weight > 0:
            person = coverage(person_pixels(labels), spatial_size(spatial_logits))
            out["mbnet_background"] = cfg.background_weight * F.binary_cross_entropy_with_logits(
                spatial_logits, person
            )

        fused = self.fusion(feats.fmap, self.mask_encoder(part_channels(labels)))
        out["mbnet_mask"] = cfg.mask_weight * cross_entropy_smooth(self.mask_classifier(fused), pids)

        if epoch >= cfg.start_epoch:
            t = cfg.temperature
            glob = model.pool(feats.fmap).flatten(1)
            teacher = unrelated.detach()
            feature = cosine_distance(glob, teacher).mean()
            teacher_prob = soft_targets(unrelated_logits, t)
            student = self.unrelated_classifier(glob, detach_weight=True)
            out["mbnet_transfer"] = cfg.transfer_weight * (feature + distill_kl(student, teacher_prob, t))
        return out
