"""Re-linking: one id for a person whose track broke (a long occlusion, leaving and coming back).

Appearance comes from the caller, one embedding per track, so this module knows no model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from reid_engine.types import Tracklet


@dataclass(frozen=True, kw_only=True)
class RelinkConfig:
    """When two tracks are taken for the same person.

    Attributes:
        enabled: re-link at all.
        max_gap_s: the longest time between the end of one track and the start of the next.
            Longer windows join more broken tracks but also more look-alikes who walk the same
            path one after the other.
        min_similarity: the least cosine similarity of the two tracks' embeddings. It depends on
            the embedder: with the ImageNet stand-in, different people in similar clothes reach
            0.95, so re-linking only joins near-identical appearance; a trained ReID model
            separates people better and can use a lower value.
        max_speed: the fastest a person is assumed to move while unseen, in body heights per
            second (a brisk walk is under one); the gap's time at this speed, plus one body
            height of slack, bounds the distance between where one track ends and the next begins.
    """

    enabled: bool = True
    max_gap_s: float = 3.0
    min_similarity: float = 0.9
    max_speed: float = 1.5

    def __post_init__(self) -> None:
        if self.max_gap_s <= 0:
            raise ValueError("relink.max_gap_s must be positive")
        if not -1.0 <= self.min_similarity <= 1.0:
            raise ValueError("relink.min_similarity must be in [-1, 1]")
        if self.max_speed <= 0:
            raise ValueError("relink.max_speed must be positive")


def relink_tracks(
    tracklets: Sequence[Tracklet], embeddings: Sequence[np.ndarray | None], config: RelinkConfig
) -> list[list[int]]:
    """Group tracks that follow one another and look alike into chains of one person.

    The tracker bridges short losses by motion alone; past its buffer, or when the person comes back
    somewhere the motion model did not expect, only appearance can tell that a new track is the
    same person. Candidate pairs (earlier track, later track) pass three gates: time (the later
    starts after the earlier ends, within ``max_gap_s``), motion (the distance from the earlier's
    last box centre to the later's first box centre is within ``max_speed`` body heights per second
    of the gap, plus one body height) and appearance (cosine similarity at least
    ``min_similarity``). The most similar pairs are linked first; each track gets at most one
    predecessor and one successor, so a chain never holds two tracks at the same time.

    Args:
        tracklets: the tracks of one video.
        embeddings: per track, an L2-normalised float (D,) appearance embedding, or None when the
            track has none (it is then never re-linked).
        config: the gates.

    Returns:
        Chains of indices into ``tracklets``, each in time order, together covering every track
        once; chains are ordered by their first track's start time, then index.

    Raises:
        ValueError: ``embeddings`` is not as long as ``tracklets``.
    """
    n = len(tracklets)
    if len(embeddings) != n:
        raise ValueError(f"relink: {n} tracks but {len(embeddings)} embeddings")
    successor = [-1] * n
    predecessor = [-1] * n
    if config.enabled:
        for _, a, b in _candidates(tracklets, embeddings, config):
            if successor[a] < 0 and predecessor[b] < 0:
                successor[a], predecessor[b] = b, a
    chains = []
    for start in range(n):
        if predecessor[start] >= 0:
            continue
        chain = [start]
        while successor[chain[-1]] >= 0:
            chain.append(successor[chain[-1]])
        chains.append(chain)
    chains.sort(key=lambda c: (float(tracklets[c[0]].timestamps_s[0]), c[0]))
    return chains


def _candidates(
    tracklets: Sequence[Tracklet], embeddings: Sequence[np.ndarray | None], config: RelinkConfig
) -> list[tuple[float, int, int]]:
    """(similarity, earlier, later) for every pair through the gates, most similar first."""
    out = []
    for a, first in enumerate(tracklets):
        ea = embeddings[a]
        if ea is None or len(first.frame_indices) == 0:
            continue
        for b, second in enumerate(tracklets):
            eb = embeddings[b]
            if a == b or eb is None or len(second.frame_indices) == 0:
                continue
            if second.frame_indices[0] <= first.frame_indices[-1]:
                continue
            gap_s = float(second.timestamps_s[0] - first.timestamps_s[-1])
            if gap_s > config.max_gap_s:
                continue
            end, begin = first.boxes_xyxy[-1].astype(np.float64), second.boxes_xyxy[0].astype(np.float64)
            body = 0.5 * ((end[3] - end[1]) + (begin[3] - begin[1]))
            distance = float(np.hypot(*((begin[:2] + begin[2:]) / 2 - (end[:2] + end[2:]) / 2)))
            if distance > body * (1.0 + config.max_speed * max(gap_s, 0.0)):
                continue
            similarity = float(np.dot(ea, eb))
            if similarity >= config.min_similarity:
                out.append((similarity, a, b))
    out.sort(key=lambda item: (-item[0], item[1], item[2]))
    return out
