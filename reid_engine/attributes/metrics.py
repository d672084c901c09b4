"""Pedestrian-attribute recognition (PAR) metrics: label-based mA and instance-based Acc/Prec/Rec/F1.

Definitions follow the RAP paper (Li et al., "A richly annotated dataset for pedestrian attribute
recognition") and its reference evaluation, which the PETA / PA-100K / RAP benchmarks (and the code of
Jia et al., "Rethinking of pedestrian attribute recognition") share. They work on binary multi-hot
matrices (N instances, L labels); a multi-class schema attribute counts one binary label per value.
Entries a data set does not label are masked and count nowhere. Edge cases are described on
:func:`par_metrics`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from reid_engine.attributes.schema import SCHEMA, AttributeSchema, AttributeValue

Undefined = Literal["skip", "zero"]


@dataclass(frozen=True)
class ParMetrics:
    """Scores of one PAR evaluation (all values in [0, 1]; NaN where nothing could be scored).

    Attributes:
        mA: label-based mean accuracy, the mean of ``label_mA`` over the scored labels.
        accuracy: instance-based accuracy, mean over instances of |P∩G| / |P∪G|.
        precision: instance-based precision, mean over instances of |P∩G| / |P|.
        recall: instance-based recall, mean over instances of |P∩G| / |G|.
        f1: 2·precision·recall / (precision + recall), from the two averages (not a mean of
            per-instance F1 values).
        names: (L,) label names.
        positive_recall: float64 (L,), TPR = TP / (TP + FN) per label; NaN without a labelled positive.
        negative_recall: float64 (L,), TNR = TN / (TN + FP) per label; NaN without a labelled negative.
        label_mA: float64 (L,), (TPR + TNR) / 2 per label; NaN for a label left out of ``mA``.
        num_positive, num_negative: int64 (L,), labelled positives / negatives per label.
        num_labels_scored: labels that entered ``mA``.
        num_instances_scored: instances with at least one labelled entry (the instance-metric
            population before the per-metric rules for empty sets).
    """

    mA: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    names: tuple[str, ...]
    positive_recall: np.ndarray
    negative_recall: np.ndarray
    label_mA: np.ndarray
    num_positive: np.ndarray
    num_negative: np.ndarray
    num_labels_scored: int
    num_instances_scored: int

    def summary(self) -> dict[str, float | int]:
        """The headline numbers as a flat dictionary, for JSON reports."""
        return {
            "mA": self.mA,
            "accuracy": self.accuracy,
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "num_labels_scored": self.num_labels_scored,
            "num_instances_scored": self.num_instances_scored,
        }

    def per_label(self) -> dict[str, dict[str, float | int]]:
        """Per-label TPR, TNR, mA and counts, keyed by label name."""
        return {
            name: {
                "positive_recall": float(self.positive_recall[i]),
                "negative_recall": float(self.negative_recall[i]),
                "mA": float(self.label_mA[i]),
                "num_positive": int(self.num_positive[i]),
                "num_negative": int(self.num_negative[i]),
            }
            for i, name in enumerate(self.names)
        }


def _binary_matrix(a: np.ndarray, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"{what} must be a 2-D (N, L) matrix, got shape {a.shape}")
    if a.dtype != bool and not np.isin(a, (0, 1)).all():
        raise ValueError(f"{what} must be binary (0/1 or bool)")
    return a.astype(bool)


def _mean_ratio(num: np.ndarray, den: np.ndarray, rows: np.ndarray, undefined: Undefined) -> float:
    """Mean of num/den over ``rows``; rows with den == 0 are dropped ("skip") or score 0 ("zero")."""
    den = den[rows]
    num = num[rows]
    keep = den > 0 if undefined == "skip" else np.ones(den.shape, bool)
    if not keep.any():
        return float("nan")
    ratios = np.divide(num[keep], den[keep], out=np.zeros(int(keep.sum())), where=den[keep] > 0)
    return float(ratios.mean())


def par_metrics(
    predictions: np.ndarray,
    labels: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    names: Sequence[str] | None = None,
    undefined: Undefined = "skip",
) -> ParMetrics:
    """Label-based and instance-based PAR metrics of binary predictions.

    Args:
        predictions: bool or 0/1 (N, L), predicted labels.
        labels: bool or 0/1 (N, L), ground truth.
        mask: bool (N, L), True where the ground truth exists; None means every entry is labelled.
            Masked entries count nowhere: not as positives, negatives, predictions or set members.
        names: L label names (default ``"0"``, ``"1"``, …).
        undefined: what to do where a ratio has an empty denominator.
            ``"skip"`` (default): a label with no labelled positive or no labelled negative has an
            undefined TPR or TNR and is left out of ``mA`` (its ``label_mA`` is NaN); an instance with
            empty P∪G, P or G is left out of the accuracy, precision or recall average respectively,
            as the RAP reference evaluation does.
            ``"zero"``: such ratios score 0 and stay in the averages, as the Rethinking-of-PAR code
            does with its ``eps`` denominators (use it to reproduce published tables exactly).
            In both modes a label or instance with no labelled entry at all is left out.

    Returns:
        The metrics; an average with nothing to average is NaN.

    Raises:
        ValueError: on shapes that differ, non-binary input or a wrong number of names.
    """
    if undefined not in ("skip", "zero"):
        raise ValueError(f"undefined must be 'skip' or 'zero', got {undefined!r}")
    pred = _binary_matrix(predictions, "predictions")
    gt = _binary_matrix(labels, "labels")
    if pred.shape != gt.shape:
        raise ValueError(f"predictions {pred.shape} and labels {gt.shape} differ in shape")
    known = np.ones(gt.shape, bool) if mask is None else _binary_matrix(mask, "mask")
    if known.shape != gt.shape:
        raise ValueError(f"mask {known.shape} and labels {gt.shape} differ in shape")
    n_labels = gt.shape[1]
    label_names = tuple(str(i) for i in range(n_labels)) if names is None else tuple(names)
    if len(label_names) != n_labels:
        raise ValueError(f"{len(label_names)} names for {n_labels} labels")

    pred &= known
    pos = gt & known
    neg = ~gt & known

    # Label-based.
    num_pos = pos.sum(axis=0)
    num_neg = neg.sum(axis=0)
    tp = (pred & pos).sum(axis=0)
    tn = (~pred & neg).sum(axis=0)
    tpr = np.divide(tp, num_pos, out=np.full(n_labels, np.nan), where=num_pos > 0)
    tnr = np.divide(tn, num_neg, out=np.full(n_labels, np.nan), where=num_neg > 0)
    labelled = (num_pos + num_neg) > 0
    if undefined == "skip":
        label_ma = (tpr + tnr) / 2
    else:
        label_ma = np.where(labelled, (np.nan_to_num(tpr) + np.nan_to_num(tnr)) / 2, np.nan)
    scored = ~np.isnan(label_ma)
    ma = float(label_ma[scored].mean()) if scored.any() else float("nan")

    # Instance-based: P and G are the labelled entries predicted / annotated positive.
    inter = (pred & pos).sum(axis=1)
    union = (pred | pos).sum(axis=1)
    rows = np.asarray(known.any(axis=1), dtype=bool)
    acc = _mean_ratio(inter, union, rows, undefined)
    prec = _mean_ratio(inter, pred.sum(axis=1), rows, undefined)
    rec = _mean_ratio(inter, pos.sum(axis=1), rows, undefined)
    if np.isnan(prec) or np.isnan(rec):
        f1 = float("nan")
    else:
        f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0

    return ParMetrics(
        mA=ma,
        accuracy=acc,
        precision=prec,
        recall=rec,
        f1=f1,
        names=label_names,
        positive_recall=tpr,
        negative_recall=tnr,
        label_mA=label_ma,
        num_positive=num_pos.astype(np.int64),
        num_negative=num_neg.astype(np.int64),
        num_labels_scored=int(scored.sum()),
        num_instances_scored=int(rows.sum()),
    )


# --- The schema's multi-hot view -------------------------------------------------------------------


def multi_hot_names(schema: AttributeSchema = SCHEMA) -> tuple[str, ...]:
    """Label names of the multi-hot view: ``"glasses"`` for a binary attribute, ``"gender=male"`` for
    each value of a multi-class one, in the order of :meth:`AttributeSchema.multi_hot`."""
    out: list[str] = []
    for a in schema.attributes:
        if a.kind == "binary":
            out.append(a.name)
        else:
            out.extend(f"{a.name}={v}" for v in a.values)
    return tuple(out)


def multi_hot_labels(
    values: Sequence[Mapping[str, AttributeValue] | None], schema: AttributeSchema = SCHEMA
) -> tuple[np.ndarray, np.ndarray]:
    """Stack :meth:`AttributeSchema.multi_hot` over attribute dictionaries.

    Returns:
        ``(labels, mask)``, bool (N, L) each; an attribute missing from a dictionary masks all of
        its slots.

    Raises:
        ValueError: on an unknown attribute name or value.
    """
    size = len(multi_hot_names(schema))
    labels = np.zeros((len(values), size), bool)
    mask = np.zeros((len(values), size), bool)
    for i, v in enumerate(values):
        targets, m = schema.multi_hot(v)
        labels[i] = targets > 0.5
        mask[i] = m
    return labels, mask


def _split_heads(head_probs: Sequence[np.ndarray] | np.ndarray, schema: AttributeSchema) -> list[np.ndarray]:
    sizes = schema.head_sizes
    if isinstance(head_probs, np.ndarray):
        if head_probs.ndim != 2 or head_probs.shape[1] != sum(sizes):
            raise ValueError(f"expected (N, {sum(sizes)}) head probabilities, got {head_probs.shape}")
        return np.split(head_probs, np.cumsum(sizes)[:-1], axis=1)
    heads = [np.asarray(h) for h in head_probs]
    if len(heads) != len(sizes):
        raise ValueError(f"expected {len(sizes)} heads, got {len(heads)}")
    n = heads[0].shape[0] if heads else 0
    for a, h, size in zip(schema.attributes, heads, sizes, strict=True):
        if h.shape != (n, size):
            raise ValueError(f"head {a.name}: expected shape ({n}, {size}), got {h.shape}")
    return heads


def heads_to_multi_hot(
    head_probs: Sequence[np.ndarray] | np.ndarray, schema: AttributeSchema = SCHEMA
) -> np.ndarray:
    """Per-head class probabilities (one softmax head per attribute) in the multi-hot layout.

    Args:
        head_probs: one float (N, C) array per attribute in schema order (C = ``head_sizes``, 2 for a
            binary attribute: ``[p(no), p(yes)]``), or those arrays concatenated to (N, sum(C)).

    Returns:
        float32 (N, L): p(yes) for a binary attribute, the class probabilities for a multi-class one.

    Raises:
        ValueError: when the shapes do not match the schema.
    """
    heads = _split_heads(head_probs, schema)
    cols = [h[:, 1:2] if a.kind == "binary" else h for a, h in zip(schema.attributes, heads, strict=True)]
    return np.concatenate(cols, axis=1).astype(np.float32)


def predict_multi_hot(
    probabilities: np.ndarray,
    schema: AttributeSchema = SCHEMA,
    *,
    threshold: float = 0.5,
    multiclass: Literal["argmax", "threshold"] = "argmax",
) -> np.ndarray:
    """Binary predictions from multi-hot probabilities.

    Args:
        probabilities: float (N, L) in the layout of :func:`multi_hot_names`.
        threshold: a binary slot is predicted positive when its probability exceeds it.
        multiclass: ``"argmax"`` predicts exactly one value per multi-class attribute (softmax
            heads); ``"threshold"`` thresholds every slot (independent sigmoid outputs).

    Returns:
        bool (N, L).
    """
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != len(multi_hot_names(schema)):
        raise ValueError(f"expected (N, {len(multi_hot_names(schema))}) probabilities, got {probs.shape}")
    out = probs > threshold
    if multiclass == "threshold":
        return out
    start = 0
    for a in schema.attributes:
        size = 1 if a.kind == "binary" else a.num_classes
        if size > 1:
            block = np.zeros((probs.shape[0], size), bool)
            block[np.arange(probs.shape[0]), probs[:, start : start + size].argmax(axis=1)] = True
            out[:, start : start + size] = block
        start += size
    return out


# --- Saved predictions -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedPredictions:
    """Predictions and ground truth of one evaluation, as written by :func:`save_predictions`.

    Attributes:
        probabilities: float32 (N, L).
        labels: bool (N, L).
        label_mask: bool (N, L), True where the ground truth exists.
        attribute_names: (L,) label names.
    """

    probabilities: np.ndarray
    labels: np.ndarray
    label_mask: np.ndarray
    attribute_names: tuple[str, ...]


def save_predictions(
    path: str | Path,
    probabilities: np.ndarray,
    labels: np.ndarray,
    label_mask: np.ndarray,
    names: Sequence[str],
) -> None:
    """Write predictions to an ``.npz`` file (keys ``probabilities``, ``labels``, ``label_mask``,
    ``attribute_names``) so that the metrics can be recomputed without the model.

    Raises:
        ValueError: when the arrays do not share one (N, L) shape or ``names`` is not of length L.
    """
    probs = np.asarray(probabilities, dtype=np.float32)
    gt = _binary_matrix(labels, "labels")
    mask = _binary_matrix(label_mask, "label_mask")
    if probs.ndim != 2 or probs.shape != gt.shape or mask.shape != gt.shape:
        raise ValueError(f"shapes differ: probabilities {probs.shape}, labels {gt.shape}, mask {mask.shape}")
    if len(names) != gt.shape[1]:
        raise ValueError(f"{len(names)} names for {gt.shape[1]} labels")
    with Path(path).open("wb") as f:
        np.savez_compressed(
            f,
            probabilities=probs,
            labels=gt,
            label_mask=mask,
            attribute_names=np.array([str(n) for n in names], dtype=np.str_),
        )


def load_predictions(path: str | Path) -> SavedPredictions:
    """Read a file written by :func:`save_predictions`.

    Raises:
        FileNotFoundError: when the file does not exist.
        ValueError: when it is not such a file.
    """
    try:
        z = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise ValueError(f"{path}: not an .npz archive")
    try:
        with z:
            data = {k: z[k] for k in ("probabilities", "labels", "label_mask", "attribute_names")}
    except KeyError as exc:
        raise ValueError(f"{path}: not a predictions file (missing {exc})") from None
    except ValueError as exc:
        raise ValueError(f"{path}: unreadable array ({exc})") from None
    names = tuple(str(n) for n in data["attribute_names"])
    probs = data["probabilities"].astype(np.float32)
    gt, mask = data["labels"].astype(bool), data["label_mask"].astype(bool)
    if probs.ndim != 2 or probs.shape != gt.shape or mask.shape != gt.shape or len(names) != gt.shape[1]:
        raise ValueError(f"{path}: arrays of inconsistent shapes")
    return SavedPredictions(probabilities=probs, labels=gt, label_mask=mask, attribute_names=names)
