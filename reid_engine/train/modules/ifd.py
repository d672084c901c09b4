"""IFD: identity-aware feature decoupling for clothes-changing ReID (Xu, Li and Niu, 2025), training only.

An attention stream runs the shared backbone on clothing-masked images and learns where identity
lives (identity attention weights); an ID-based knowledge transfer moves that spatial knowledge into
the main stream; a clothing-bias-diminishing term pulls the main stream's clothing-region features
towards what the masked stream sees there; a clothing contrastive loss pulls one person's different
outfits together and pushes apart different people dressed alike. Inference is the main stream alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reid_engine.models.reid_net import ReidFeatures, ReidNet
from reid_engine.synth.painter import LOWER, UPPER
from reid_engine.train.losses import CosineClassifier, cross_entropy_smooth
from reid_engine.train.modules.common import (
    Batch,
    auxiliary_fmap,
    clothing_pixels,
    cosine_distance,
    coverage,
    label_pixels,
    mask_clothing,
    spatial_size,
    weighted_pool,
    zero_loss,
)


@dataclass(frozen=True, kw_only=True)
class IfdConfig:
    """IFD settings.

    Attributes:
        attention_weight: weight of the attention stream's identity loss (what trains the attention).
        transfer_weight: weight of the ID-based knowledge transfer (spatial KL + identity of the
            attention-pooled main features).
        bias_weight: weight of the clothing-bias-diminishing term.
        contrast_weight: weight of the clothing contrastive loss.
        contrast_margin: its margin, in cosine distance.
        start_epoch: epoch (from 0) from which the transfer and bias terms apply; before it the
            attention stream learns alone.
        scale: the attention stream's cosine-classifier logit scale.
    """

    attention_weight: float = 1.0
    transfer_weight: float = 1.0
    bias_weight: float = 0.5
    contrast_weight: float = 1.0
    contrast_margin: float = 0.3
    start_epoch: int = 0
    scale: float = 16.0

    def __post_init__(self) -> None:
        weights = (self.attention_weight, self.transfer_weight, self.bias_weight, self.contrast_weight)
        if min(weights) < 0 or self.contrast_margin < 0:
            raise ValueError("ifd weights and contrast_margin must be non-negative")
        if self.start_epoch < 0:
            raise ValueError("ifd.start_epoch must be non-negative")
        if self.scale <= 0:
            raise ValueError("ifd.scale must be positive")


class IdentityAttention(nn.Module):
    """Identity attention weights (N, 1, h, w) in (0, 1) from a feature map (N, C, h, w)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        hidden = max(channels // 8, 8)
        self.net = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, 1, 1),
        )

    def forward(self, fmap: torch.Tensor) -> torch.Tensor:
        """Attention weights of ``fmap``."""
        return torch.sigmoid(self.net(fmap).float())


def clothing_colours(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean colour of the upper and of the lower garment of each image, float (N, 6).

    Images are ImageNet-normalised, so a garment that is not in view reads as the mean colour, 0.
    """
    parts = []
    for cls in (UPPER, LOWER):
        m = label_pixels(labels, (cls,))[:, None].float()
        parts.append((images.float() * m).sum((2, 3)) / m.sum((2, 3)).clamp(min=1.0))
    return torch.cat(parts, dim=1)


def clothing_contrastive_loss(
    features: torch.Tensor,
    pids: torch.Tensor,
    clothes: torch.Tensor,
    colours: torch.Tensor,
    margin: float,
) -> torch.Tensor:
    """Hard clothes-changing triplets of a P×K batch, in cosine distance.

    For each anchor the positive is its farthest (in feature space) sample of the same identity in a
    *different* outfit, and the negative is the sample of another identity whose garments look most
    like the anchor's (nearest in :func:`clothing_colours`), whatever the features say: the pair a
    clothes-driven embedding confuses. Anchors without a differently dressed positive are left out; a
    batch with none gives 0.

    Args:
        features: float (N, D).
        pids, clothes: int64 (N,) identity and outfit labels.
        colours: float (N, E) clothing descriptors.
        margin: hinge margin.
    """
    # Distances near the margin need more than half precision.
    with torch.autocast(device_type=features.device.type, enabled=False):
        f = nn.functional.normalize(features.float(), dim=1)
        dist = 1.0 - f @ f.t()
    same_id = pids[:, None] == pids[None, :]
    pos_mask = same_id & (clothes[:, None] != clothes[None, :])
    neg_mask = ~same_id
    valid = pos_mask.any(1) & neg_mask.any(1)
    if not valid.any():
        return zero_loss(features)
    d_ap = torch.where(pos_mask, dist, torch.full_like(dist, -2.0)).max(1).values
    look = torch.cdist(colours.float(), colours.float())
    look = torch.where(neg_mask, look, torch.full_like(look, float("inf")))
    d_an = dist.gather(1, look.argmin(1, keepdim=True)).squeeze(1)
    return torch.relu(d_ap - d_an + margin)[valid].mean()


class IfdModule(nn.Module):
    """Attention stream (shared backbone, own attention head and classifier) and IFD's four loss terms."""

    needs: frozenset[str] = frozenset({"mask"})

    def __init__(self, config: IfdConfig, model: ReidNet, num_pids: int) -> None:
        super().__init__()
        self.config = config
        self.attention = IdentityAttention(model.channels)
        self.classifier = CosineClassifier(model.channels, num_pids, scale=config.scale)

    def losses(self, model: ReidNet, feats: ReidFeatures, batch: Batch, *, epoch: int) -> dict[str, torch.Tensor]:
        """``ifd_attention`` and ``ifd_contrast`` always; ``ifd_transfer`` and ``ifd_bias`` from ``start_epoch``."""
        cfg = self.config
        images, labels, pids = batch["image"], batch["mask"], batch["pid"]
        masked_fmap = auxiliary_fmap(model, mask_clothing(images, labels))
        attn = self.attention(masked_fmap)
        attended = weighted_pool(masked_fmap, attn)[:, 0]
        out = {"ifd_attention": cfg.attention_weight * cross_entropy_smooth(self.classifier(attended), pids)}

        if epoch >= cfg.start_epoch:
            fmap = feats.fmap
            teacher = attn.detach()
            # Spatial transfer: the main stream's activation energy, as a distribution over cells, should
            # follow the identity attention (attention transfer, Zagoruyko & Komodakis 2017).
            energy = fmap.float().pow(2).mean(1, keepdim=True).flatten(1)
            log_main = torch.log(energy / energy.sum(1, keepdim=True).clamp(min=1e-12) + 1e-8)
            target = teacher.flatten(1) / teacher.flatten(1).sum(1, keepdim=True)
            spatial = (target * (torch.log(target + 1e-8) - log_main)).sum(1).mean()
            # ID-based: main features pooled with the attention must be the person for the attention
            # stream's classifier (frozen here, so only the main stream moves).
            main_attended = weighted_pool(fmap, teacher)[:, 0]
            identity = cross_entropy_smooth(self.classifier(main_attended, detach_weight=True), pids)
            out["ifd_transfer"] = cfg.transfer_weight * (spatial + identity)

            cover = coverage(clothing_pixels(labels), spatial_size(fmap))
            worn = cover.flatten(1).sum(1) > 0
            if worn.any():
                main_cloth = weighted_pool(fmap, cover)[:, 0]
                masked_cloth = weighted_pool(masked_fmap, cover)[:, 0].detach()
                out["ifd_bias"] = cfg.bias_weight * cosine_distance(main_cloth, masked_cloth)[worn].mean()
            else:
                out["ifd_bias"] = zero_loss(fmap)

        colours = clothing_colours(images, labels)
        out["ifd_contrast"] = cfg.contrast_weight * clothing_contrastive_loss(
            feats.pooled, pids, batch["clothes_id"], colours, cfg.contrast_margin
        )
        return out
