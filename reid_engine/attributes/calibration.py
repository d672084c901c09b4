"""Per-attribute temperature scaling (Guo et al., "On calibration of modern neural networks", 2017).

Each head gets one temperature ``T`` fitted on held-out images by minimising the negative
log-likelihood of its labelled entries. With ``β = 1/T`` the NLL ``mean(logsumexp(β·z) − β·z_y)`` is
convex in ``β``, so a golden-section search over ``β`` finds the optimum without tuning. Calibration
is reported as the expected calibration error (ECE) before and after.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from reid_engine.attributes.model import AttributeNet, class_logits, head_probabilities
from reid_engine.attributes.schema import SCHEMA

T_MIN, T_MAX = 0.1, 10.0
"""The search range of a temperature."""


@dataclass(frozen=True)
class CalibrationReport:
    """What fitting the temperatures did on the held-out images.

    Attributes:
        temperatures: the fitted temperature per attribute (1.0 where too few labels to fit).
        samples: labelled held-out entries per attribute.
        nll_before, nll_after: mean NLL over all labelled (image, attribute) entries.
        ece_before, ece_after: expected calibration error over the same entries.
    """

    temperatures: dict[str, float]
    samples: dict[str, int]
    nll_before: float
    nll_after: float
    ece_before: float
    ece_after: float

    def summary(self) -> dict[str, object]:
        return {
            "temperatures": self.temperatures,
            "samples": self.samples,
            "nll_before": self.nll_before,
            "nll_after": self.nll_after,
            "ece_before": self.ece_before,
            "ece_after": self.ece_after,
        }


def _nll(class_logits_: torch.Tensor, targets: torch.Tensor, beta: float) -> float:
    z = class_logits_.double() * beta
    return float((torch.logsumexp(z, dim=1) - z.gather(1, targets[:, None]).squeeze(1)).mean())


def fit_temperature(class_logits_: torch.Tensor, targets: torch.Tensor, *, iterations: int = 100) -> float:
    """The temperature in [T_MIN, T_MAX] that minimises the NLL of ``targets``.

    Args:
        class_logits_: float (N, C) class logits of one head, N ≥ 1.
        targets: int64 (N,) class indices.
        iterations: golden-section steps (each shrinks the bracket by 0.618).
    """
    lo, hi = 1.0 / T_MAX, 1.0 / T_MIN
    ratio = (math.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = _nll(class_logits_, targets, a), _nll(class_logits_, targets, b)
    for _ in range(iterations):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = _nll(class_logits_, targets, a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = _nll(class_logits_, targets, b)
    return 1.0 / ((lo + hi) / 2)


def fit_temperatures(
    logits: Sequence[torch.Tensor], labels: torch.Tensor, mask: torch.Tensor, *, min_samples: int = 30
) -> tuple[torch.Tensor, dict[str, int]]:
    """Fit one temperature per attribute on its labelled entries.

    Args:
        logits: one float (N, logit_size) tensor of raw logits per schema attribute.
        labels: int64 (N, A) class indices; mask: bool (N, A), True where labelled.
        min_samples: an attribute with fewer labelled entries keeps temperature 1.

    Returns:
        ``(temperatures float (A,), labelled entries per attribute)``.
    """
    temps = torch.ones(len(SCHEMA))
    counts: dict[str, int] = {}
    for i, (attribute, z) in enumerate(zip(SCHEMA.attributes, logits, strict=True)):
        keep = mask[:, i]
        counts[attribute.name] = int(keep.sum())
        if counts[attribute.name] >= min_samples:
            temps[i] = fit_temperature(class_logits(z[keep].float(), attribute), labels[keep, i])
    return temps, counts


def _labelled_blocks(
    probabilities: np.ndarray, labels: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Probability of the true class, top-label confidence and correctness of every labelled entry."""
    sizes = SCHEMA.head_sizes
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    p_true, conf, correct = [], [], []
    for i, (start, size) in enumerate(zip(starts, sizes, strict=True)):
        keep = mask[:, i]
        block = probabilities[keep, start : start + size]
        y = labels[keep, i]
        p_true.append(block[np.arange(len(y)), y])
        conf.append(block.max(axis=1))
        correct.append(block.argmax(axis=1) == y)
    return np.concatenate(p_true), np.concatenate(conf), np.concatenate(correct)


def negative_log_likelihood(probabilities: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> float:
    """Mean NLL over the labelled (image, attribute) entries; NaN when none is labelled.

    Args:
        probabilities: float (N, sum(SCHEMA.head_sizes)) per-head probabilities.
        labels: int (N, A) class indices; mask: bool (N, A).
    """
    p_true, _, _ = _labelled_blocks(np.asarray(probabilities, np.float64), np.asarray(labels), np.asarray(mask, bool))
    return float(-np.log(np.clip(p_true, 1e-12, 1.0)).mean()) if len(p_true) else float("nan")


def expected_calibration_error(
    probabilities: np.ndarray, labels: np.ndarray, mask: np.ndarray, *, bins: int = 15
) -> float:
    """Top-label ECE over all labelled (image, attribute) entries.

    Each entry contributes the confidence of its head's arg-max class and whether that class is the
    label; ECE is the entry-weighted mean of |accuracy − confidence| over ``bins`` equal-width
    confidence bins. NaN when nothing is labelled.

    Args:
        probabilities: float (N, sum(SCHEMA.head_sizes)) per-head probabilities.
        labels: int (N, A) class indices; mask: bool (N, A).
        bins: number of confidence bins.
    """
    _, conf, correct = _labelled_blocks(np.asarray(probabilities, np.float64), np.asarray(labels),
                                        np.asarray(mask, bool))
    if not len(conf):
        return float("nan")
    which = np.minimum((conf * bins).astype(int), bins - 1)
    ece = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            ece += sel.mean() * abs(float(correct[sel].mean()) - float(conf[sel].mean()))
    return float(ece)


def calibrate(
    model: AttributeNet, logits: Sequence[torch.Tensor], labels: torch.Tensor, mask: torch.Tensor,
    *, min_samples: int = 30,
) -> CalibrationReport:
    """Fit the model's temperatures on held-out logits, store them in the model, and report.

    Args:
        model: the network whose ``temperatures`` buffer is replaced.
        logits: raw logits of the held-out images (:meth:`AttributeNet.logits`), per attribute.
        labels: int64 (N, A); mask: bool (N, A).
        min_samples: see :func:`fit_temperatures`.
    """
    logits = [z.detach().cpu().float() for z in logits]
    labels_np, mask_np = labels.cpu().numpy(), mask.cpu().numpy()
    before = head_probabilities(logits, torch.ones(len(SCHEMA))).numpy()
    temps, counts = fit_temperatures(logits, labels.cpu(), mask.cpu(), min_samples=min_samples)
    after = head_probabilities(logits, temps).numpy()
    model.temperatures.copy_(temps.to(model.temperatures.device))
    return CalibrationReport(
        temperatures={n: round(float(t), 4) for n, t in zip(SCHEMA.names, temps, strict=True)},
        samples=counts,
        nll_before=negative_log_likelihood(before, labels_np, mask_np),
        nll_after=negative_log_likelihood(after, labels_np, mask_np),
        ece_before=expected_calibration_error(before, labels_np, mask_np),
        ece_after=expected_calibration_error(after, labels_np, mask_np),
    )
