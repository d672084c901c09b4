"""MTDF-PAttr: pedestrian attributes guide the split of identity and clothing features (training only).

The identity embedding (the network's neck) must predict the *stable* attributes (gender, age, build,
hair…) and a separate clothing feature, pooled from the same feature map, must predict the *mutable*
ones (garments, colours, bags) and the outfit. A decorrelation term keeps the two features apart, so
clothing evidence is pushed out of the identity embedding into a branch that is dropped at
inference. Attribute targets come from a data set's labels or, for data sets without attribute
labels (as in the paper, which distils them from a video PAR teacher), from an attribute teacher's
soft predictions.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from reid_engine.attributes.schema import SCHEMA
from reid_engine.models.reid_net import ReidFeatures, ReidNet
from reid_engine.train.losses import CosineClassifier, cross_entropy_smooth

Batch = Mapping[str, torch.Tensor]
Teacher = Callable[[torch.Tensor], torch.Tensor]
"""Images (N, 3, H, W) → per-attribute class probabilities (N, sum(SCHEMA.head_sizes)) in schema order."""


@dataclass(frozen=True, kw_only=True)
class MtdfConfig:
    """MTDF-PAttr settings.

    Attributes:
        clothes_dim: size of the clothing feature.
        attribute_weight: weight of the attribute losses (stable on the identity feature, mutable on the
            clothing feature).
        clothes_weight: weight of the outfit classification on the clothing feature.
        decorrelation_weight: weight of the identity/clothing cross-correlation penalty.
        teacher: an attribute-model checkpoint (``reid train-attributes``) whose soft predictions are
            the targets; empty uses the data set's own attribute labels (masked where unlabelled).
        temperature: softening of teacher predictions (Hinton et al., 2015).
    """

    clothes_dim: int = 256
    attribute_weight: float = 1.0
    clothes_weight: float = 0.5
    decorrelation_weight: float = 0.1
    teacher: str = ""
    temperature: float = 2.0

    def __post_init__(self) -> None:
        if self.clothes_dim < 1:
            raise ValueError("mtdf.clothes_dim must be positive")
        if min(self.attribute_weight, self.clothes_weight, self.decorrelation_weight) < 0:
            raise ValueError("mtdf weights must be non-negative")
        if self.temperature <= 0:
            raise ValueError("mtdf.temperature must be positive")


def cross_correlation_penalty(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared cross-correlation between the batch-standardised columns of ``a`` (N, Da) and ``b``
    (N, Db): 0 when no identity dimension linearly predicts any clothing dimension."""
    a = (a - a.mean(0)) / (a.std(0) + 1e-5)
    b = (b - b.mean(0)) / (b.std(0) + 1e-5)
    corr = a.t() @ b / max(a.shape[0] - 1, 1)
    return corr.pow(2).mean()


class MtdfModule(nn.Module):
    """Attribute heads on the identity and clothing features, outfit classifier, decorrelation."""

    needs: frozenset[str] = frozenset({"attributes"})

    def __init__(self, config: MtdfConfig, model: ReidNet, num_clothes: int, teacher: Teacher | None = None) -> None:
        super().__init__()
        self.config = config
        self.clothing = nn.Sequential(
            nn.Linear(model.channels, config.clothes_dim, bias=False), nn.BatchNorm1d(config.clothes_dim)
        )
        self.stable = [i for i, a in enumerate(SCHEMA.attributes) if a.stable]
        self.mutable = [i for i, a in enumerate(SCHEMA.attributes) if not a.stable]
        sizes = SCHEMA.head_sizes
        self.stable_heads = nn.ModuleList(nn.Linear(model.embed_dim, sizes[i]) for i in self.stable)
        self.mutable_heads = nn.ModuleList(nn.Linear(config.clothes_dim, sizes[i]) for i in self.mutable)
        self.outfit = CosineClassifier(config.clothes_dim, num_clothes)
        self.offsets = [0]
        for s in sizes:
            self.offsets.append(self.offsets[-1] + s)
        self.teacher = teacher

    def _attribute_loss(
        self, heads: nn.ModuleList, which: list[int], feature: torch.Tensor, batch: Batch,
        soft: torch.Tensor | None,
    ) -> torch.Tensor:
        terms = []
        labels, mask = batch["attr_labels"], batch["attr_mask"]
        for head, i in zip(heads, which, strict=True):
            logits = head(feature).float()
            if soft is not None:
                target = soft[:, self.offsets[i] : self.offsets[i + 1]]
                t = self.config.temperature
                # KL to the teacher's softened distribution, scaled by t² to keep gradient size.
                terms.append(F.kl_div(F.log_softmax(logits / t, 1), target, reduction="batchmean") * t * t)
            elif mask[:, i].any():
                rows = mask[:, i]
                terms.append(F.cross_entropy(logits[rows], labels[rows, i]))
        if not terms:
            return feature.sum() * 0.0
        return torch.stack(terms).mean()

    def losses(self, model: ReidNet, feats: ReidFeatures, batch: Batch, *, epoch: int) -> dict[str, torch.Tensor]:
        """Attribute, outfit and decorrelation terms for one batch."""
        clothing = self.clothing(model.pool(feats.fmap).flatten(1))
        soft = None
        if self.teacher is not None:
            with torch.no_grad():
                soft = _soften(self.teacher(batch["image"]), self.offsets, self.config.temperature)
        w = self.config.attribute_weight
        return {
            "mtdf_stable": w * self._attribute_loss(self.stable_heads, self.stable, feats.neck, batch, soft),
            "mtdf_mutable": w * self._attribute_loss(self.mutable_heads, self.mutable, clothing, batch, soft),
            "mtdf_outfit": self.config.clothes_weight
            * cross_entropy_smooth(self.outfit(clothing), batch["clothes_id"], 0.1),
            "mtdf_decorrelation": self.config.decorrelation_weight
            * cross_correlation_penalty(feats.neck.float(), clothing.float()),
        }


def _soften(probs: torch.Tensor, offsets: list[int], t: float) -> torch.Tensor:
    """Raise each head's probabilities to 1/t and renormalise (a temperature applied to probabilities)."""
    out = torch.empty_like(probs)
    for a, b in itertools.pairwise(offsets):
        p = probs[:, a:b].clamp(min=1e-8).pow(1.0 / t)
        out[:, a:b] = p / p.sum(1, keepdim=True)
    return out
