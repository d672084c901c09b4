"""Score an attribute predictor on the real labelled set, per attribute, against the majority class.

For every attribute the score is the **balanced accuracy** over the tracks labelled for it: the mean,
over the values that occur among the labels, of the share of tracks with that value that the
predictor gave that value. For a binary attribute that is (TPR + TNR) / 2, the label-based mA of the
PAR literature; for a multi-valued one it is the mean per-value recall (each value present weighs the
same, however rare). A track the predictor gave nothing for (a garment too small to name) counts as a
miss. "cannot tell" and "other" labels are skipped.

The **baseline** is the majority class of the labelled tracks predicted for every track (ties go to the
value first in the schema); its balanced accuracy is 1 / (number of values present). The **intervals**
are the 2.5th–97.5th percentiles over bootstrap resamples of the labelled tracks (fixed seed): ``ci``
of the predictor's balanced accuracy, ``margin_ci`` of its margin over the baseline on the same
resample (paired). An attribute **passes** (is estimated in the product) when it has at least
:data:`MIN_TRACKS` labelled tracks with two values or more and the lower end of ``ci`` is above the
baseline: the predictor beats the baseline by a margin beyond its own interval. ``margin_ci`` is
reported beside it; it is the stricter test, and on a small set a value seen once or twice can pull
its lower end to 0 (a resample without that value scores predictor and baseline alike).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from reid_engine.attributes.real_labelled import RealLabelledTrack
from reid_engine.attributes.schema import SCHEMA, AttributeValue

MIN_TRACKS = 10
"""Fewer labelled tracks than this leave an attribute unscored for the product: too few to trust."""
BOOTSTRAP = 2000
CONFIDENCE = 0.95

Predictions = Mapping[str, Mapping[str, float]]
"""One track's prediction: ``{attribute: {value name: probability}}`` (binary values ``"no"``/``"yes"``)."""


@dataclass(frozen=True)
class AttributeRealScore:
    """How a predictor does on one attribute of the real labelled set.

    Attributes:
        attribute: the schema name.
        predicted: whether the predictor estimates this attribute at all.
        n: labelled tracks scored (not "cannot tell", not "other", found again in the footage).
        cannot_tell / other: tracks labelled so, skipped.
        values: labelled tracks per value.
        mA: balanced accuracy (None when unscored); accuracy: plain share of tracks right.
        baseline_mA / baseline_accuracy: the same for the majority class; majority: that value.
        ci: the 95 % bootstrap interval of ``mA``; margin_ci: of ``mA - baseline_mA`` (paired).
        answered: share of the scored tracks the predictor gave a value for.
        passed: estimated in the product; reason: why not, when it is not.
    """

    attribute: str
    predicted: bool
    n: int
    cannot_tell: int
    other: int
    values: dict[str, int]
    mA: float | None
    accuracy: float | None
    baseline_mA: float | None
    baseline_accuracy: float | None
    majority: str | None
    ci: tuple[float, float] | None
    margin_ci: tuple[float, float] | None
    answered: float | None
    passed: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("mA", "accuracy", "baseline_mA", "baseline_accuracy", "answered"):
            if out[key] is not None:
                out[key] = round(out[key], 4)
        for key in ("ci", "margin_ci"):
            value = getattr(self, key)
            out[key] = None if value is None else [round(v, 4) for v in value]
        return out


def value_name(value: AttributeValue) -> str:
    """A label as the value name predictions use (``True`` → ``"yes"``)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def balanced_accuracy(truth: np.ndarray, pred: np.ndarray) -> float:
    """Mean over the classes present in ``truth`` of the share predicted right (``pred`` −1: a miss).

    Raises:
        ValueError: on empty or misaligned input.
    """
    truth, pred = np.asarray(truth), np.asarray(pred)
    if truth.size == 0 or truth.shape != pred.shape:
        raise ValueError("balanced_accuracy needs aligned, non-empty arrays")
    return float(np.mean([np.mean(pred[truth == c] == c) for c in np.unique(truth)]))


def majority_class(truth: np.ndarray) -> int:
    """The most frequent class index (the lowest index on a tie)."""
    counts = np.bincount(np.asarray(truth))
    return int(np.argmax(counts))


def bootstrap_intervals(
    truth: np.ndarray, pred: np.ndarray, baseline: np.ndarray, *, resamples: int = BOOTSTRAP,
    confidence: float = CONFIDENCE, seed: int = 0,
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Percentile intervals, over resamples of the tracks with replacement, of the balanced accuracy
    of ``pred`` and of its margin over ``baseline`` on the same resample.

    Returns:
        ``((low, high) of the score, (low, high) of the margin)``.
    """
    rng = np.random.default_rng(seed)
    n = len(truth)
    score = np.empty(resamples)
    margin = np.empty(resamples)
    for b in range(resamples):
        idx = rng.integers(0, n, n)
        score[b] = balanced_accuracy(truth[idx], pred[idx])
        margin[b] = score[b] - balanced_accuracy(truth[idx], baseline[idx])
    tail = (1.0 - confidence) / 2.0
    q = [tail, 1.0 - tail]
    lo, hi = np.quantile(score, q)
    mlo, mhi = np.quantile(margin, q)
    return (float(lo), float(hi)), (float(mlo), float(mhi))


def _predicted_index(name: str, probs: Mapping[str, float] | None) -> int:
    if not probs:
        return -1
    value, _ = max(probs.items(), key=lambda kv: (kv[1], kv[0]))
    values = SCHEMA[name].values
    return values.index(value) if value in values else -1


def score_attribute(
    name: str,
    tracks: Sequence[RealLabelledTrack],
    predictions: Sequence[Predictions | None],
    *,
    predicted: bool,
    resamples: int = BOOTSTRAP,
    seed: int = 0,
    min_tracks: int = MIN_TRACKS,
) -> AttributeRealScore:
    """Score one attribute. ``predictions[i]`` belongs to ``tracks[i]``; None where the track was not
    found again in the footage (it is then left out, like an unlabelled one)."""
    values = SCHEMA[name].values
    found = [(t, p) for t, p in zip(tracks, predictions, strict=True) if p is not None]
    labelled = [(t, p) for t, p in found if name in t.attributes]
    truth = np.asarray([values.index(value_name(t.attributes[name])) for t, _ in labelled], np.int64)
    counts = Counter(values[i] for i in truth.tolist())
    empty = AttributeRealScore(
        attribute=name, predicted=predicted, n=len(labelled),
        cannot_tell=sum(name in t.cannot_tell for t, _ in found), other=sum(name in t.other for t, _ in found),
        values={v: counts[v] for v in values if counts[v]}, mA=None, accuracy=None, baseline_mA=None,
        baseline_accuracy=None, majority=None, ci=None, margin_ci=None, answered=None, passed=False,
        reason="no labelled track",
    )
    if not len(truth):
        return empty
    major = majority_class(truth)
    base = np.full_like(truth, major)
    baseline_mA = balanced_accuracy(truth, base)
    with_baseline = replace(empty, baseline_mA=baseline_mA, baseline_accuracy=float(np.mean(base == truth)),
                            majority=values[major], reason="the predictor does not estimate it")
    if not predicted:
        return with_baseline
    pred = np.asarray([_predicted_index(name, p.get(name)) for _, p in labelled], np.int64)
    score = balanced_accuracy(truth, pred)
    ci, margin_ci = bootstrap_intervals(truth, pred, base, resamples=resamples, seed=seed)
    if len(truth) < min_tracks:
        reason = f"only {len(truth)} labelled tracks (at least {min_tracks} needed)"
    elif len(counts) < 2:
        reason = f"every labelled track is {values[major]}: nothing to tell apart"
    elif ci[0] <= baseline_mA:
        reason = "its interval reaches down to the majority-class baseline"
    else:
        reason = ""
    return replace(
        with_baseline, mA=score, accuracy=float(np.mean(pred == truth)), ci=ci, margin_ci=margin_ci,
        answered=float(np.mean(pred >= 0)), passed=not reason, reason=reason or "beats the baseline",
    )


def score_real_labelled(
    tracks: Sequence[RealLabelledTrack],
    predictions: Sequence[Predictions | None],
    attributes: Sequence[str],
    *,
    estimates: frozenset[str],
    resamples: int = BOOTSTRAP,
    seed: int = 0,
    min_tracks: int = MIN_TRACKS,
) -> list[AttributeRealScore]:
    """Score every attribute of ``attributes``; ``estimates`` names those the predictor gives at all."""
    return [
        score_attribute(name, tracks, predictions, predicted=name in estimates, resamples=resamples,
                        seed=seed, min_tracks=min_tracks)
        for name in attributes
    ]
