"""Searching with everything an investigator confirmed about a subject.

A subject is known by its confirmed sightings (positives) and its rejected ones (negatives). The
confirmed sightings are grouped into **outfits**: clusters of their appearance embeddings (a person
seen in a red coat and later in a grey hoodie gives two). Each lane is searched with one query per
outfit (the mean of the outfit's vectors in that lane), and the rankings are fused, so every outfit
pulls in its own look-alikes. Candidates nearer to a rejected sighting than to every confirmed one
are pushed below the others.

Everything here is numpy on small arrays (tens of sightings, hundreds of candidates); the index
search per outfit query is the caller's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

FusionMethod = Literal["rrf", "max"]


@dataclass(frozen=True, kw_only=True)
class SubjectQueryConfig:
    """How a subject's sightings become queries.

    Attributes:
        outfit_threshold: two groups of sightings merge into one outfit while the mean cosine
            similarity of their appearance embeddings (average linkage) is at least this.
        fusion: ``rrf`` (reciprocal-rank fusion) or ``max`` (each candidate's best score over the
            outfit queries).
        rrf_k: the constant of reciprocal-rank fusion, ``Σ 1 / (rrf_k + rank)``.
        candidates: how many hits each outfit query asks the index for before fusion.
        negative_margin: a candidate is pushed down when its similarity to the nearest rejected
            sighting exceeds that to the nearest confirmed one by more than this (below 0: also when
            it is only a little less like the rejected one) …
        negative_floor: … and its similarity to that rejected sighting is at least this (-1: any).

    The defaults are those the simulated investigator of ``scripts/subject_eval.py`` scored best on
    its tuning sets (docs/subjects.md): the ImageNet appearance vectors of one outfit seen by two
    cameras are about as alike as those of two outfits, so a high threshold; a small ``rrf_k``, so
    that an item first for one outfit query is not outweighed by items middling for all of them.
    """

    outfit_threshold: float = 0.75
    fusion: FusionMethod = "rrf"
    rrf_k: int = 10
    candidates: int = 200
    negative_margin: float = -0.05
    negative_floor: float = -1.0

    def __post_init__(self) -> None:
        if not -1.0 <= self.outfit_threshold <= 1.0:
            raise ValueError(f"outfit_threshold must be within -1..1, got {self.outfit_threshold}")
        if self.fusion not in ("rrf", "max"):
            raise ValueError(f"fusion must be 'rrf' or 'max', got {self.fusion!r}")
        if self.rrf_k < 1 or self.candidates < 1:
            raise ValueError("rrf_k and candidates must be >= 1")


def _normalised_rows(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float32)
    if m.ndim != 2:
        raise ValueError(f"expected a (N, D) matrix, got shape {m.shape}")
    return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


def outfits(appearance: np.ndarray, threshold: float = SubjectQueryConfig.outfit_threshold) -> list[list[int]]:
    """Group sightings into outfits by average-linkage clustering of their appearance embeddings.

    Args:
        appearance: float (N, D), one appearance embedding per confirmed sighting.
        threshold: merge while the average cosine similarity between two groups is at least this.

    Returns:
        Groups of row indices, each ascending; groups ordered by their first row.
    """
    n = len(appearance)
    if n == 0:
        return []
    x = _normalised_rows(appearance)
    sim = x @ x.T
    groups: list[list[int]] = [[i] for i in range(n)]
    while len(groups) > 1:
        best, pair = -np.inf, (0, 0)
        for a in range(len(groups)):
            for b in range(a + 1, len(groups)):
                link = float(sim[np.ix_(groups[a], groups[b])].mean())
                if link > best:
                    best, pair = link, (a, b)
        if best < threshold:
            break
        a, b = pair
        groups[a] = sorted(groups[a] + groups[b])
        del groups[b]
    return sorted(groups, key=lambda g: g[0])


def outfit_queries(vectors: np.ndarray, groups: Sequence[Sequence[int]]) -> np.ndarray:
    """One L2-normalised query per outfit: the mean of its rows of ``vectors`` (float (N, D)).

    Returns:
        float32 (len(groups), D).
    """
    x = _normalised_rows(vectors)
    if not groups:
        return np.zeros((0, x.shape[1]), np.float32)
    return _normalised_rows(np.stack([x[list(g)].mean(axis=0) for g in groups]))


def fuse(rankings: Sequence[Sequence[tuple[int, float]]], *, method: FusionMethod = "rrf",
         rrf_k: int = 60) -> list[tuple[int, float]]:
    """Fuse several rankings (each ``[(item id, score), …]`` best first) into one, best first.

    ``rrf`` scores an item ``Σ 1 / (rrf_k + rank + 1)`` over the rankings that hold it; ``max`` by
    its best score in any. Ties go to the lower id.
    """
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (item, score) in enumerate(ranking):
            value = 1.0 / (rrf_k + rank + 1) if method == "rrf" else float(score)
            if method == "rrf":
                fused[item] = fused.get(item, 0.0) + value
            else:
                fused[item] = max(fused.get(item, -np.inf), value)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def push_down_negatives(ranked: Sequence[int], vectors: np.ndarray, positives: np.ndarray,
                        negatives: np.ndarray, *, margin: float = 0.0,
                        floor: float = -1.0) -> tuple[list[int], set[int]]:
    """Move the candidates that look more like a rejected sighting than like any confirmed one below
    all the others, each part keeping its order.

    Args:
        ranked: candidate ids, best first.
        vectors: float (len(ranked), D), the candidates' vectors in the lane ranked.
        positives: float (P, D), the confirmed sightings' vectors in that lane (P may be 0).
        negatives: float (Q, D), the rejected sightings' vectors (Q may be 0: nothing moves).
        margin: how much nearer to a negative than to every positive a candidate must be.
        floor: the least similarity to the nearest negative for a candidate to be moved.

    Returns:
        The new order, and the ids pushed down.
    """
    if len(ranked) == 0 or len(negatives) == 0:
        return list(ranked), set()
    x = _normalised_rows(vectors)
    near_negative = (x @ _normalised_rows(negatives).T).max(axis=1)
    if len(positives):
        near_positive = (x @ _normalised_rows(positives).T).max(axis=1)
    else:
        near_positive = np.full(len(ranked), -np.inf, dtype=np.float32)
    demoted = (near_negative > near_positive + margin) & (near_negative >= floor)
    kept = [int(i) for i, d in zip(ranked, demoted, strict=True) if not d]
    pushed = [int(i) for i, d in zip(ranked, demoted, strict=True) if d]
    return kept + pushed, set(pushed)
