"""Loss functions of ReID training: label-smoothed cross-entropy, batch-hard triplet, CAL's adversarial loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def cross_entropy_smooth(logits: torch.Tensor, targets: torch.Tensor, epsilon: float = 0.1) -> torch.Tensor:
    """Cross-entropy with label smoothing (Szegedy et al., 2016): the target puts ``1 - ε`` on the true
    class and spreads ``ε`` evenly over all classes.

    Args:
        logits: float (N, C).
        targets: int64 (N,) class indices.
        epsilon: smoothing in [0, 1).
    """
    return F.cross_entropy(logits.float(), targets, label_smoothing=epsilon)


def pairwise_euclidean(x: torch.Tensor) -> torch.Tensor:
    """Euclidean distances (N, N) between the rows of ``x`` (N, D), stable at zero."""
    x = x.float()
    sq = x.pow(2).sum(1, keepdim=True)
    d2 = (sq + sq.t() - 2.0 * x @ x.t()).clamp(min=1e-12)
    return d2.sqrt()


def triplet_batch_hard(features: torch.Tensor, pids: torch.Tensor, margin: float = 0.3) -> torch.Tensor:
    """Batch-hard triplet loss (Hermans et al., "In Defense of the Triplet Loss", 2017).

    For each anchor: its farthest positive and its nearest negative in the batch. ``margin`` 0 uses
    the soft margin ``log(1 + exp(d_ap - d_an))``. Anchors without a positive or a negative in the
    batch are left out; a batch with none left gives 0.

    Args:
        features: float (N, D) (not normalised, as in the strong baseline).
        pids: int64 (N,).
        margin: hinge margin, or 0 for the soft margin.
    """
    dist = pairwise_euclidean(features)
    same = pids[:, None] == pids[None, :]
    eye = torch.eye(len(pids), dtype=torch.bool, device=pids.device)
    pos_mask = same & ~eye
    neg_mask = ~same
    valid = pos_mask.any(1) & neg_mask.any(1)
    if not valid.any():
        return features.sum() * 0.0
    d_ap = torch.where(pos_mask, dist, torch.full_like(dist, -1.0)).max(1).values
    d_an = torch.where(neg_mask, dist, torch.full_like(dist, float("inf"))).min(1).values
    d_ap, d_an = d_ap[valid], d_an[valid]
    if margin > 0:
        return F.relu(d_ap - d_an + margin).mean()
    return F.softplus(d_ap - d_an).mean()


class CosineClassifier(nn.Module):
    """Logits ``s · cos(θ)`` between L2-normalised features and class weights (as CAL's classifiers)."""

    def __init__(self, dim: int, num_classes: int, scale: float = 16.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_classes, dim))
        nn.init.normal_(self.weight, std=0.001)
        self.scale = scale

    def forward(self, x: torch.Tensor, *, detach_weight: bool = False) -> torch.Tensor:
        """Logits (N, num_classes) of features (N, dim)."""
        w = self.weight.detach() if detach_weight else self.weight
        return self.scale * F.normalize(x.float(), dim=1) @ F.normalize(w.float(), dim=1).t()


def clothes_adversarial_loss(
    logits: torch.Tensor, clothes: torch.Tensor, same_identity_clothes: torch.Tensor, epsilon: float = 0.1
) -> torch.Tensor:
    """CAL's clothes-based adversarial loss (Gu et al., "Clothes-Changing Person Re-identification with RGB
    Modality Only", CVPR 2022, eq. 4).

    The backbone is pushed to make the clothes classifier *unable to tell apart the outfits of the same
    person*: every outfit of the sample's identity counts as a positive class, each scored only against
    the other identities' outfits (the negatives), so the feature keeps identity but drops which
    clothes are worn. The target puts ``1 - ε`` on the worn outfit and spreads ``ε`` over all the
    identity's outfits.

    Args:
        logits: float (N, C) clothes-classifier logits (computed with the classifier's weights detached,
            so only the backbone learns from this loss).
        clothes: int64 (N,) clothes labels.
        same_identity_clothes: bool (C, C), ``[a, b]`` true when outfits a and b belong to one identity.
        epsilon: share of the target spread over the identity's outfits.
    """
    logits = logits.float()
    positive = same_identity_clothes[clothes].float()
    negatives = logits.masked_fill(positive.bool(), float("-inf"))
    # log p(c) for each class c against the negatives only: c - log(exp(c) + Σ_neg exp), in log space.
    log_prob = logits - torch.logaddexp(logits, torch.logsumexp(negatives, dim=1, keepdim=True))
    worn = F.one_hot(clothes, logits.shape[1]).float()
    target = (1 - epsilon) * worn + epsilon * positive / positive.sum(1, keepdim=True)
    return -(target * log_prob).sum(1).mean()
