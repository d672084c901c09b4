"""MDFF-PAttr losses: masked attribute losses and multi-teacher collaborative self-distillation.

One network learns from several data sets that label different attributes. All heads share one
backbone. Each data set ``k`` has a *teacher* head set over the attributes it labels, trained only on
its own images; the *student* head set (the one that ships) covers the whole schema and is trained on
every image's labels. From ``DistillConfig.start_epoch`` the student also matches every teacher's
softened prediction on every image of the batch, whichever data set the image comes from: that is how
an attribute data set A never labels is learned on A's images from B's teacher. From
``mutual_start_epoch`` the teachers learn back from the student (a lower weight), which carries what
the other data sets taught the student into each teacher.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from reid_engine.attributes.model import AttributeHeads, AttributeNet, class_logits
from reid_engine.attributes.schema import SCHEMA

Batch = Mapping[str, torch.Tensor]


@dataclass(frozen=True, kw_only=True)
class DistillConfig:
    """Multi-teacher collaborative self-distillation.

    Attributes:
        student_weight: weight λ_s of the teachers → student term; 0 with ``teacher_weight`` 0 turns
            the teachers off (plain masked multi-data-set training).
        teacher_weight: weight λ_t of the student → teachers (mutual) term, lower than λ_s because the
            student is the model that ships.
        temperature: τ softening both distributions; terms are multiplied by τ² so their gradients keep
            the scale of the supervised losses (Hinton et al., 2015).
        start_epoch: first epoch (from 0) with the teachers → student term; the epochs before it are
            the warm-up in which teachers learn their own labels only.
        mutual_start_epoch: first epoch with the student → teachers term (≥ ``start_epoch``).
    """

    student_weight: float = 1.0
    teacher_weight: float = 0.25
    temperature: float = 2.0
    start_epoch: int = 1
    mutual_start_epoch: int = 2

    def __post_init__(self) -> None:
        if self.student_weight < 0 or self.teacher_weight < 0:
            raise ValueError("distill.student_weight and distill.teacher_weight must be non-negative")
        if self.temperature <= 0:
            raise ValueError("distill.temperature must be positive")
        if self.start_epoch < 0 or self.mutual_start_epoch < self.start_epoch:
            raise ValueError("distill.start_epoch must be ≥ 0 and mutual_start_epoch ≥ start_epoch")

    @property
    def enabled(self) -> bool:
        return self.student_weight > 0 or self.teacher_weight > 0


def positive_ratios(labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Share of labelled entries with class 1, per attribute (the binary attributes' positive ratio).

    Args:
        labels: int64 (N, A) class indices; mask: bool (N, A).

    Returns:
        float (A,); 0.5 for an attribute with no labelled entry.
    """
    m = mask.float()
    pos = ((labels == 1).float() * m).sum(0)
    count = m.sum(0)
    return torch.where(count > 0, pos / count.clamp(min=1), torch.full_like(count, 0.5))


def imbalance_weights(labels: torch.Tensor, ratios: torch.Tensor) -> torch.Tensor:
    """Per-entry weights of the binary CE: ``exp(1 − r)`` for a positive, ``exp(r)`` for a negative.

    ``r`` is the attribute's positive ratio on the training labels; a rare positive weighs up to e
    times a common negative (DeepMAR's weighting in the form of Jia et al., "Rethinking of pedestrian
    attribute recognition", 2021).

    Args:
        labels: int64 (N, A) class indices (0/1 for binary attributes).
        ratios: float (A,) positive ratios.

    Returns:
        float (N, A).
    """
    r = ratios.to(labels.device)[None, :]
    return torch.where(labels == 1, torch.exp(1 - r), torch.exp(r))


def _supervised_terms(
    logits: Sequence[torch.Tensor], names: Sequence[str], labels: torch.Tensor, mask: torch.Tensor,
    ratios: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum and count of the per-entry losses over the labelled entries of the heads ``names``."""
    weights = imbalance_weights(labels, ratios)
    total = torch.zeros((), device=labels.device)
    count = torch.zeros((), device=labels.device)
    for z, name in zip(logits, names, strict=True):
        i = SCHEMA.position(name)
        attribute = SCHEMA.attributes[i]
        per = F.cross_entropy(class_logits(z.float(), attribute), labels[:, i], reduction="none")
        if attribute.kind == "binary":
            per = per * weights[:, i]
        keep = mask[:, i]
        # where, not a product: a masked entry contributes exactly nothing, even when its loss is inf.
        total = total + torch.where(keep, per, torch.zeros_like(per)).sum()
        count = count + keep.sum()
    return total, count


def supervised_loss(
    logits: Sequence[torch.Tensor], names: Sequence[str], labels: torch.Tensor, mask: torch.Tensor,
    ratios: torch.Tensor,
) -> torch.Tensor:
    """Mean loss over the labelled (image, attribute) entries: weighted BCE for a binary attribute
    (:func:`imbalance_weights`), CE for a multi-class one. Unlabelled entries count nowhere.

    Args:
        logits: one float (N, logit_size) tensor per attribute of ``names``.
        names: the attributes the logits belong to.
        labels: int64 (N, A) class indices in schema order; mask: bool (N, A).
        ratios: float (A,) positive ratios of the training labels.

    Returns:
        A scalar; 0 (with a graph) when no entry is labelled.
    """
    total, count = _supervised_terms(logits, names, labels, mask, ratios)
    return total / count.clamp(min=1)


def soft_kl(target_logits: torch.Tensor, logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Per-row ``τ² · KL(softmax(target/τ) ‖ softmax(logits/τ))``, float (N,); the target is detached."""
    target = F.softmax(target_logits.detach().float() / temperature, dim=1)
    log_p = F.log_softmax(logits.float() / temperature, dim=1)
    return temperature**2 * (target * (torch.log(target.clamp(min=1e-12)) - log_p)).sum(1)


def teachers_to_student(
    student: Sequence[torch.Tensor], teachers: Sequence[tuple[Sequence[str], Sequence[torch.Tensor]]],
    temperature: float,
) -> torch.Tensor:
    """The student matches every teacher on every image, for each attribute that teacher covers.

    For each attribute, the KL terms of the teachers that cover it are averaged (so an attribute two
    data sets label weighs as much as one only one labels); the result is averaged over the covered
    attributes and the images.

    Args:
        student: raw logits of every schema attribute (N, logit_size), in schema order.
        teachers: ``(names, logits)`` per teacher.
        temperature: τ.
    """
    per_attribute: dict[str, list[torch.Tensor]] = {}
    for names, logits in teachers:
        for name, z in zip(names, logits, strict=True):
            i = SCHEMA.position(name)
            a = SCHEMA.attributes[i]
            per_attribute.setdefault(name, []).append(
                soft_kl(class_logits(z, a), class_logits(student[i], a), temperature).mean()
            )
    if not per_attribute:
        return student[0].sum() * 0.0
    return torch.stack([torch.stack(v).mean() for v in per_attribute.values()]).mean()


def student_to_teachers(
    student: Sequence[torch.Tensor], teachers: Sequence[tuple[Sequence[str], Sequence[torch.Tensor]]],
    temperature: float,
) -> torch.Tensor:
    """Each teacher matches the student on every image for its own attributes (the mutual term),
    averaged over the teachers' (attribute, image) entries."""
    terms: list[torch.Tensor] = []
    for names, logits in teachers:
        for name, z in zip(names, logits, strict=True):
            i = SCHEMA.position(name)
            a = SCHEMA.attributes[i]
            terms.append(soft_kl(class_logits(student[i], a), class_logits(z, a), temperature).mean())
    if not terms:
        return student[0].sum() * 0.0
    return torch.stack(terms).mean()


class MdffStep(nn.Module):
    """The network plus its training-only teacher heads, computing MDFF-PAttr's loss terms.

    Args:
        model: the attribute network (its heads are the student).
        coverage: per data set, the attributes it labels; teacher ``k`` predicts ``coverage[k]``.
        ratios: float (A,) positive ratios of the training labels (binary CE weights).
        config: the distillation settings; no teachers are built when it is disabled.
    """

    ratios: torch.Tensor

    def __init__(
        self, model: AttributeNet, coverage: Sequence[frozenset[str]], ratios: torch.Tensor, config: DistillConfig
    ) -> None:
        super().__init__()
        self.model = model
        self.config = config
        self.teachers = nn.ModuleList(
            [AttributeHeads(model.feature_dim, sorted(c)) for c in coverage] if config.enabled else []
        )
        self.register_buffer("ratios", ratios.float().clone())

    def forward(self, batch: Batch, epoch: int) -> dict[str, torch.Tensor]:
        """Named, weighted loss terms of one batch.

        The batch holds ``image`` (N, 3, H, W), ``attr_labels`` int64 (N, A), ``attr_mask`` bool (N, A)
        and ``source`` int64 (N,), the index of each image's data set.
        """
        labels, mask = batch["attr_labels"], batch["attr_mask"]
        feats = self.model.features(batch["image"])
        student = self.model.heads(feats)
        terms = {"student": supervised_loss(student, SCHEMA.names, labels, mask, self.ratios)}
        if not len(self.teachers):
            return terms

        teachers: list[tuple[tuple[str, ...], list[torch.Tensor]]] = []
        total = feats.new_zeros(())
        count = feats.new_zeros(())
        for k, heads in enumerate(self.teachers):
            if not isinstance(heads, AttributeHeads):
                raise TypeError("teacher heads must be AttributeHeads")
            logits = heads(feats)
            teachers.append((heads.names, logits))
            own = mask & (batch["source"] == k)[:, None]
            s, c = _supervised_terms(logits, heads.names, labels, own, self.ratios)
            total, count = total + s, count + c
        # One mean over all teachers' labelled entries: the same entries as the student's term.
        terms["teachers"] = total / count.clamp(min=1)

        tau = self.config.temperature
        if epoch >= self.config.start_epoch and self.config.student_weight > 0:
            terms["distill"] = self.config.student_weight * teachers_to_student(student, teachers, tau)
        if epoch >= self.config.mutual_start_epoch and self.config.teacher_weight > 0:
            terms["mutual"] = self.config.teacher_weight * student_to_teachers(student, teachers, tau)
        return terms
