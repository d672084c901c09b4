"""Pseudo-identities for unlabelled tracks, and the cluster memory they are learnt against.

Every track starts as its own pseudo-identity (its crops across time are positives). Tracks are then
merged by average-linkage clustering of their mean embeddings above a similarity threshold, never
across two tracks seen at the same moment (cannot-link): a person who left and came back, or who
appears in two cameras, becomes one identity. The memory keeps one unit centroid per cluster,
updated by momentum from each batch (cluster contrast, Dai et al. 2022; SpCL, Ge et al. 2020).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def cluster_tracks(track_vectors: np.ndarray, cannot_link: np.ndarray, *, threshold: float) -> np.ndarray:
    """Average-linkage clusters of unit track vectors; returns int64 (T,) labels 0..C-1.

    Args:
        track_vectors: float (T, D), unit rows.
        cannot_link: int (M, 2) pairs of tracks that must stay apart (seen at the same time).
        threshold: clusters merge while their mean cosine similarity exceeds this.
    """
    t = len(track_vectors)
    sims = np.asarray(track_vectors, np.float64) @ np.asarray(track_vectors, np.float64).T
    members: dict[int, list[int]] = {k: [k] for k in range(t)}
    apart = np.zeros((t, t), bool)
    if len(cannot_link):
        apart[cannot_link[:, 0], cannot_link[:, 1]] = True
        apart[cannot_link[:, 1], cannot_link[:, 0]] = True
    while len(members) > 1:
        keys = sorted(members)
        best, pair = threshold, None
        for a_i, a in enumerate(keys):
            for b in keys[a_i + 1:]:
                ma, mb = members[a], members[b]
                if apart[np.ix_(ma, mb)].any():
                    continue
                s = float(sims[np.ix_(ma, mb)].mean())
                if s > best:
                    best, pair = s, (a, b)
        if pair is None:
            break
        members[pair[0]].extend(members.pop(pair[1]))
    labels = np.zeros(t, np.int64)
    for c, key in enumerate(sorted(members)):
        labels[members[key]] = c
    return labels


class ClusterMemory:
    """Unit centroids of the pseudo-identities; InfoNCE of a batch against all of them.

    Args:
        centroids: float (C, D) initial centroids (normalised here).
        temperature: softmax temperature of the contrast.
        momentum: share of the old centroid kept at each update.
    """

    def __init__(self, centroids: torch.Tensor, *, temperature: float = 0.05, momentum: float = 0.2) -> None:
        self.features = F.normalize(centroids.detach().float(), dim=1)
        self.temperature = temperature
        self.momentum = momentum

    def loss(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of each unit embedding (N, D) against every centroid, its cluster the target."""
        logits = F.normalize(embeddings.float(), dim=1) @ self.features.T / self.temperature
        return F.cross_entropy(logits, labels)

    @torch.no_grad()
    def update(self, embeddings: torch.Tensor, labels: torch.Tensor) -> None:
        """Move each batch cluster's centroid towards its batch mean."""
        e = F.normalize(embeddings.detach().float(), dim=1)
        for c in labels.unique():
            mean = e[labels == c].mean(0)
            self.features[c] = F.normalize(self.momentum * self.features[c] + (1 - self.momentum) * mean, dim=0)


def clothes_changing_triplet(
    embeddings: torch.Tensor, pids: torch.Tensor, clothes: torch.Tensor, margin: float = 0.3
) -> torch.Tensor:
    """Batch-hard triplet whose positives are the same person in *other* clothes (cosine distance).

    Anchors without such a positive in the batch are left out; a batch with none gives zero.
    """
    e = F.normalize(embeddings.float(), dim=1)
    dist = 1.0 - e @ e.T
    same = pids[:, None] == pids[None, :]
    other_clothes = clothes[:, None] != clothes[None, :]
    pos_mask = same & other_clothes
    valid = pos_mask.any(1)
    if not valid.any():
        return embeddings.sum() * 0.0
    hardest_pos = dist.masked_fill(~pos_mask, float("-inf")).max(1).values
    hardest_neg = dist.masked_fill(same, float("inf")).min(1).values
    return F.relu(hardest_pos - hardest_neg + margin)[valid].mean()
