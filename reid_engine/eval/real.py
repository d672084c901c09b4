"""A label-free protocol for real footage: the pipeline's own tracks give the labels.

Each track long enough is cut into two time-disjoint halves with a gap between them. The first
halves query a gallery of every second half of the same footage (one true match each), and tracks
that overlap in time are certainly different people (co-occurrence negatives). What it measures is
same-outfit retrieval of real people across time and pose, which any identity embedding must at
least pass; its biases are in docs/real-footage.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class FootageTrack:
    """One track of one footage, with crops sampled along it.

    Attributes:
        footage: name of the footage (video) the track comes from.
        track_id: the tracker's id, unique within the footage.
        start_s, end_s: the track's first and last time (seconds from the start of the footage).
        crop_times_s: float64 (C,), increasing: the time of each crop.
        crops: C uint8 (h, w, 3) RGB crops, in time order.
    """

    footage: str
    track_id: int
    start_s: float
    end_s: float
    crop_times_s: np.ndarray
    crops: tuple[np.ndarray, ...]


@dataclass(frozen=True, slots=True)
class FreeLabels:
    """Query/gallery halves and negative pairs built from tracks, with no labelling.

    Attributes:
        tracks: indices (into the input tracks) of the tracks used, one per query.
        footage: (Q,) footage name of each used track.
        first, second: per used track, indices of its crops in the first and second half.
        negatives: int64 (M, 2), positions (into ``tracks``) of co-occurring pairs, i < j, same footage.
    """

    tracks: np.ndarray
    footage: np.ndarray
    first: tuple[np.ndarray, ...]
    second: tuple[np.ndarray, ...]
    negatives: np.ndarray


def split_halves(
    times_s: np.ndarray, start_s: float, end_s: float, *, gap_s: float, per_half: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Crop indices of a track's two halves: before ``mid − gap/2`` and after ``mid + gap/2``.

    Up to ``per_half`` crops are kept in each half, evenly spaced in order. Returns None when either
    half is empty.
    """
    mid = 0.5 * (start_s + end_s)
    times = np.asarray(times_s, dtype=np.float64)
    first = np.flatnonzero(times <= mid - gap_s / 2)
    second = np.flatnonzero(times >= mid + gap_s / 2)
    if len(first) == 0 or len(second) == 0:
        return None
    return _spread(first, per_half), _spread(second, per_half)


def _spread(indices: np.ndarray, k: int) -> np.ndarray:
    if len(indices) <= k:
        return indices
    return indices[np.round(np.linspace(0, len(indices) - 1, k)).astype(int)]


def co_occurring(starts: np.ndarray, ends: np.ndarray, groups: np.ndarray, *, min_overlap_s: float = 0.0) -> np.ndarray:
    """Pairs (i, j), i < j, of the same group whose time spans overlap by more than ``min_overlap_s``.

    Two tracks seen at the same moment in one footage are two people (a tracker does not follow one
    person twice at once), so they are negatives that need no labels.
    """
    s, e, g = np.asarray(starts, float), np.asarray(ends, float), np.asarray(groups)
    i, j = np.triu_indices(len(s), k=1)
    overlap = np.minimum(e[i], e[j]) - np.maximum(s[i], s[j])
    keep = (g[i] == g[j]) & (overlap > min_overlap_s)
    return np.stack([i[keep], j[keep]], axis=1).astype(np.int64) if keep.any() else np.zeros((0, 2), np.int64)


def free_labels(
    tracks: list[FootageTrack], *, min_duration_s: float = 4.0, gap_s: float = 1.0, per_half: int = 4
) -> FreeLabels:
    """Halves of every track lasting at least ``min_duration_s``, and the co-occurring pairs among them.

    Raises:
        ValueError: ``gap_s`` is negative or ``min_duration_s`` does not exceed it.
    """
    if gap_s < 0 or min_duration_s <= gap_s:
        raise ValueError("gap_s must be >= 0 and min_duration_s larger than gap_s")
    used: list[int] = []
    first: list[np.ndarray] = []
    second: list[np.ndarray] = []
    for k, track in enumerate(tracks):
        if track.end_s - track.start_s < min_duration_s:
            continue
        halves = split_halves(track.crop_times_s, track.start_s, track.end_s, gap_s=gap_s, per_half=per_half)
        if halves is None:
            continue
        used.append(k)
        first.append(halves[0])
        second.append(halves[1])
    idx = np.array(used, dtype=np.int64)
    footage = np.array([tracks[k].footage for k in used], dtype=object)
    negatives = co_occurring(
        np.array([tracks[k].start_s for k in used]), np.array([tracks[k].end_s for k in used]), footage
    )
    return FreeLabels(idx, footage, tuple(first), tuple(second), negatives)


def half_vectors(crop_vectors: list[np.ndarray], labels: FreeLabels) -> tuple[np.ndarray, np.ndarray]:
    """L2-normalised mean crop vector of each used track's first and second half.

    Args:
        crop_vectors: per input track, float32 (C, D) unit vectors of its crops.
        labels: from :func:`free_labels` on the same tracks.

    Returns:
        ``(first, second)``, each float32 (Q, D).
    """
    def mean(vectors: np.ndarray) -> np.ndarray:
        v = vectors.mean(axis=0)
        return v / max(float(np.linalg.norm(v)), 1e-12)

    firsts = [mean(crop_vectors[t][f]) for t, f in zip(labels.tracks, labels.first, strict=True)]
    seconds = [mean(crop_vectors[t][s]) for t, s in zip(labels.tracks, labels.second, strict=True)]
    return np.asarray(firsts, np.float32), np.asarray(seconds, np.float32)


def pair_scores(first: np.ndarray, second: np.ndarray, labels: FreeLabels) -> tuple[np.ndarray, np.ndarray]:
    """Cosine scores of the free pairs: the same track's halves (positives), and both first/second
    combinations of each co-occurring pair (negatives)."""
    pos = np.sum(first * second, axis=1).astype(np.float64)
    i, j = labels.negatives[:, 0], labels.negatives[:, 1]
    neg = np.concatenate([np.sum(first[i] * second[j], axis=1), np.sum(first[j] * second[i], axis=1)])
    return pos, neg.astype(np.float64)


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Probability that a positive outscores a negative (ties count half): the ROC AUC."""
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    scores = np.concatenate([pos, neg])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # Average ranks over ties (1-based), the Mann-Whitney statistic.
    _, first_idx, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first_idx + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def score_lane(first: np.ndarray, second: np.ndarray, labels: FreeLabels) -> dict[str, dict[str, float]]:
    """Rank-1, mAP (one true match per query: mean 1/rank), ROC AUC, score gap, per footage and pooled.

    Each first half queries the second halves of its own footage; "pooled" averages over every query
    and pools every pair of all footages.
    """
    out: dict[str, dict[str, float]] = {}
    ranks = np.zeros(len(first), dtype=np.int64)
    gallery_sizes = np.zeros(len(first), dtype=np.int64)
    for name in sorted(set(labels.footage.tolist())):
        members = np.flatnonzero(labels.footage == name)
        sims = first[members] @ second[members].T
        true = sims[np.arange(len(members)), np.arange(len(members))]
        # 1-based rank of the true match; ties count against it (no credit for a constant embedding).
        ranks[members] = (sims >= true[:, None]).sum(axis=1)
        gallery_sizes[members] = len(members)
    pos, neg = pair_scores(first, second, labels)
    pair_footage = np.concatenate([labels.footage[labels.negatives[:, 0]]] * 2) if len(neg) else np.array([])
    for name in [*sorted(set(labels.footage.tolist())), "pooled"]:
        q = np.ones(len(first), bool) if name == "pooled" else labels.footage == name
        n = np.ones(len(neg), bool) if name == "pooled" else pair_footage == name
        out[name] = _summary(ranks[q], gallery_sizes[q], pos[q], neg[n])
    return out


def _summary(ranks: np.ndarray, sizes: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> dict[str, float]:
    return {
        "queries": len(ranks),
        "negative_pairs": len(neg),
        "rank1": round(100.0 * float(np.mean(ranks == 1)), 2) if len(ranks) else float("nan"),
        "mAP": round(100.0 * float(np.mean(1.0 / ranks)), 2) if len(ranks) else float("nan"),
        "chance_rank1": round(100.0 * float(np.mean(1.0 / sizes)), 2) if len(sizes) else float("nan"),
        "auc": round(roc_auc(pos, neg), 4),
        "pos_mean": round(float(pos.mean()), 4) if len(pos) else float("nan"),
        "neg_mean": round(float(neg.mean()), 4) if len(neg) else float("nan"),
        "gap": round(float(pos.mean() - neg.mean()), 4) if len(pos) and len(neg) else float("nan"),
    }


def restrict_span(tracks: list[FootageTrack], durations: dict[str, float], lo: float, hi: float) -> list[FootageTrack]:
    """The parts of tracks inside the fraction ``[lo, hi)`` of their footage's duration.

    A track crossing a bound is clipped to its crops inside the span (its span shrinks with them);
    a track with no crop inside is dropped. Used to adapt on one time span and evaluate on another.

    Raises:
        ValueError: the bounds are not 0 <= lo < hi <= 1.
    """
    if not 0.0 <= lo < hi <= 1.0:
        raise ValueError(f"a span must satisfy 0 <= start < end <= 1, got {lo}:{hi}")
    out = []
    for t in tracks:
        t0, t1 = lo * durations[t.footage], hi * durations[t.footage]
        keep = np.flatnonzero((t.crop_times_s >= t0) & (t.crop_times_s < t1))
        if len(keep) == 0:
            continue
        times = t.crop_times_s[keep]
        out.append(FootageTrack(
            footage=t.footage, track_id=t.track_id,
            start_s=max(t.start_s, float(times[0]) if t.start_s < t0 else t.start_s),
            end_s=min(t.end_s, float(times[-1]) if t.end_s >= t1 else t.end_s),
            crop_times_s=times, crops=tuple(t.crops[k] for k in keep),
        ))
    return out
