"""PGFL-KD: pose-guided feature learning with knowledge distillation (Zheng et al., 2021), training only.

Two pose-guided branches pool the network's own feature map with keypoint heatmaps: the
foreground-enhanced branch (FEB) over the visible body, the semantics-aligned branch (SAB) with one
channel group per body part, each pooled over that part. Both are distilled into the main branch
(feature and logit level), and all three share one identity classifier (interaction-based training),
so the main branch learns pose-aligned features that need no pose at inference.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from reid_engine.models.reid_net import ReidFeatures, ReidNet
from reid_engine.train.losses import CosineClassifier, cross_entropy_smooth
from reid_engine.train.modules.common import (
    Batch,
    cosine_distance,
    distill_kl,
    keypoint_heatmaps,
    soft_targets,
    spatial_size,
    weighted_pool,
)

BODY_PARTS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4),  # head: nose, eyes, ears
    (5, 6, 11, 12),  # torso: shoulders, hips
    (7, 8, 9, 10),  # arms: elbows, wrists
    (13, 14, 15, 16),  # legs: knees, ankles
)
"""COCO keypoints of each body part; the SAB splits the channels into one group per part."""


@dataclass(frozen=True, kw_only=True)
class PgflKdConfig:
    """PGFL-KD settings.

    Attributes:
        id_weight: weight of the identity losses of the FEB, the SAB and the main branch through the
            shared classifier.
        feature_weight: weight of the feature-level distillation (FEB and per-part SAB features into the
            main branch's pooled feature).
        logit_weight: weight of the logit-level distillation (the two branches' averaged soft identity
            predictions into the main branch's).
        temperature: softening of the logit distillation.
        sigma: keypoint heatmap spread, in feature-map cells.
        min_visibility: keypoints with ``v`` (or a pose estimator's score) below this are not visible:
            2 keeps SynthCC's visible points (1 marks occluded ones); about 0.3 suits detector scores.
        start_epoch: epoch (from 0) from which the distillation terms apply.
        scale: the shared cosine classifier's logit scale.
    """

    id_weight: float = 1.0
    feature_weight: float = 1.0
    logit_weight: float = 1.0
    temperature: float = 4.0
    sigma: float = 1.0
    min_visibility: float = 2.0
    start_epoch: int = 0
    scale: float = 16.0

    def __post_init__(self) -> None:
        if min(self.id_weight, self.feature_weight, self.logit_weight) < 0:
            raise ValueError("pgfl_kd weights must be non-negative")
        if self.temperature <= 0 or self.sigma <= 0 or self.scale <= 0:
            raise ValueError("pgfl_kd.temperature, sigma and scale must be positive")
        if self.min_visibility < 0 or self.start_epoch < 0:
            raise ValueError("pgfl_kd.min_visibility and start_epoch must be non-negative")


class PgflKdModule(nn.Module):
    """The two pose-guided branches, the shared identity classifier and the distillation terms."""

    needs: frozenset[str] = frozenset({"keypoints"})

    def __init__(self, config: PgflKdConfig, model: ReidNet, num_pids: int) -> None:
        super().__init__()
        if model.channels % len(BODY_PARTS):
            raise ValueError(f"pgfl_kd needs a channel count divisible by {len(BODY_PARTS)}, got {model.channels}")
        self.config = config
        self.classifier = CosineClassifier(model.channels, num_pids, scale=config.scale)

    def branches(self, fmap: torch.Tensor, keypoints: torch.Tensor, image_hw: tuple[int, int]) -> tuple[
        torch.Tensor, torch.Tensor, torch.Tensor
    ]:
        """The two pose-guided features of a feature map.

        Args:
            fmap: float (N, C, h, w).
            keypoints: float (N, 17, 3) in input pixels.
            image_hw: input size (H, W).

        Returns:
            ``feb`` float (N, C) pooled over the visible body (the whole map for a sample without
            visible keypoints); ``sab`` float (N, P, C / P), group p pooled over part p (zero where the
            part is not visible); ``part_seen`` bool (N, P).
        """
        cfg = self.config
        n, c = fmap.shape[:2]
        heat = keypoint_heatmaps(keypoints, image_hw, spatial_size(fmap), sigma=cfg.sigma,
                                 min_visibility=cfg.min_visibility)
        foreground = heat.amax(1, keepdim=True)
        # Without any visible keypoint the sample still trains, as plain average pooling.
        blind = foreground.flatten(1).amax(1) <= 0
        foreground = torch.where(blind[:, None, None, None], torch.ones_like(foreground), foreground)
        feb = weighted_pool(fmap, foreground)[:, 0]
        parts = torch.stack([heat[:, list(p)].amax(1) for p in BODY_PARTS], dim=1)  # (N, P, h, w)
        groups = fmap.reshape(n, len(BODY_PARTS), c // len(BODY_PARTS), *fmap.shape[-2:])
        sab = torch.stack(
            [weighted_pool(groups[:, p], parts[:, p : p + 1])[:, 0] for p in range(len(BODY_PARTS))], dim=1
        )
        return feb, sab, parts.flatten(2).amax(2) > 0

    def losses(self, model: ReidNet, feats: ReidFeatures, batch: Batch, *, epoch: int) -> dict[str, torch.Tensor]:
        """``pgfl_id`` always; ``pgfl_feature_kd`` and ``pgfl_logit_kd`` from ``start_epoch``."""
        cfg = self.config
        pids = batch["pid"]
        image_hw = spatial_size(batch["image"])
        feb, sab, part_seen = self.branches(feats.fmap, batch["keypoints"], image_hw)
        main = model.pool(feats.fmap).flatten(1).float()
        n = main.shape[0]
        feb_logits = self.classifier(feb)
        sab_logits = self.classifier(sab.flatten(1))
        # Interaction: one classifier for the three features keeps them in one identity space, which is
        # what makes distilling the branches' features into the main one meaningful.
        main_logits = self.classifier(main)
        out = {
            "pgfl_id": cfg.id_weight
            * (cross_entropy_smooth(feb_logits, pids) + cross_entropy_smooth(sab_logits, pids)
               + cross_entropy_smooth(main_logits, pids)) / 3
        }
        if epoch >= cfg.start_epoch:
            groups = main.reshape(n, len(BODY_PARTS), -1)
            part_terms = cosine_distance(groups, sab.detach())[part_seen]
            part = part_terms.mean() if part_terms.numel() else main.sum() * 0.0
            out["pgfl_feature_kd"] = cfg.feature_weight * (cosine_distance(main, feb.detach()).mean() + part)
            t = cfg.temperature
            teacher = 0.5 * (soft_targets(feb_logits, t) + soft_targets(sab_logits, t))
            student = self.classifier(main, detach_weight=True)
            out["pgfl_logit_kd"] = cfg.logit_weight * distill_kl(student, teacher, t)
        return out
