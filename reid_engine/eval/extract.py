"""Embed a data set's query and gallery with a model, and score them under the ReID protocols."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from reid_engine.data.base import ImageRecord, ReidDataset, TrackletRecord
from reid_engine.data.torch_dataset import ImageReidTorchDataset, TrackletTorchDataset
from reid_engine.eval.metrics import Protocol, cosine_distance, evaluate
from reid_engine.eval.rerank import k_reciprocal_rerank
from reid_engine.index.refine import RefineConfig, refine_ranking

ProgressFn = Callable[[int, int], None]


@torch.no_grad()
def embed_images(
    model: nn.Module,
    records: Sequence[ImageRecord],
    *,
    size_hw: tuple[int, int],
    device: torch.device,
    batch_size: int = 64,
    flip: bool = False,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """Embeddings of image records, float32 (N, D), unit L2 norm.

    Args:
        flip: average with the embedding of the mirrored image (a common test-time trick).
        progress: called with (done, total) after each batch.
    """
    model.eval()
    loader = DataLoader(ImageReidTorchDataset(records, size_hw=size_hw), batch_size=batch_size, shuffle=False)
    out: list[np.ndarray] = []
    done = 0
    for batch in loader:
        images = batch["image"].to(device)
        emb = model(images)
        if flip:
            emb = F.normalize(emb + model(images.flip(-1)), dim=1)
        out.append(emb.float().cpu().numpy())
        done += len(images)
        if progress is not None:
            progress(done, len(records))
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


@torch.no_grad()
def embed_tracklets(
    model: nn.Module,
    records: Sequence[TrackletRecord],
    *,
    size_hw: tuple[int, int],
    device: torch.device,
    seq_len: int = 8,
    batch_size: int = 8,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """Tracklet embeddings, float32 (N, D): the mean of ``seq_len`` evenly spaced frame embeddings,
    re-normalised (temporal average pooling)."""
    model.eval()
    loader = DataLoader(
        TrackletTorchDataset(records, seq_len=seq_len, size_hw=size_hw), batch_size=batch_size, shuffle=False
    )
    out: list[np.ndarray] = []
    done = 0
    for batch in loader:
        clips = batch["clip"].to(device)
        n, t = clips.shape[:2]
        emb = model(clips.flatten(0, 1)).view(n, t, -1).mean(1)
        out.append(F.normalize(emb, dim=1).float().cpu().numpy())
        done += n
        if progress is not None:
            progress(done, len(records))
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


@dataclass(frozen=True)
class Features:
    """Query and gallery embeddings with the labels the protocols need (all numpy, row-aligned)."""

    query: np.ndarray
    gallery: np.ndarray
    q_pids: np.ndarray
    g_pids: np.ndarray
    q_camids: np.ndarray
    g_camids: np.ndarray
    q_clothes: np.ndarray
    g_clothes: np.ndarray

    def save(self, path: Path) -> None:
        """Write an ``.npz`` any tool can read: ``query_features``, ``gallery_features`` and
        ``{query,gallery}_{pids,camids,clothes_ids}``."""
        np.savez_compressed(
            path,
            query_features=self.query,
            gallery_features=self.gallery,
            query_pids=self.q_pids,
            gallery_pids=self.g_pids,
            query_camids=self.q_camids,
            gallery_camids=self.g_camids,
            query_clothes_ids=self.q_clothes,
            gallery_clothes_ids=self.g_clothes,
        )


def extract_features(
    model: nn.Module,
    dataset: ReidDataset[ImageRecord] | ReidDataset[TrackletRecord],
    *,
    size_hw: tuple[int, int],
    device: torch.device,
    flip: bool = False,
    progress: ProgressFn | None = None,
) -> Features:
    """Embed the query and gallery splits of an image or video data set."""

    def embed(records: Sequence[ImageRecord] | Sequence[TrackletRecord]) -> np.ndarray:
        if records and isinstance(records[0], TrackletRecord):
            return embed_tracklets(model, records, size_hw=size_hw, device=device,  # type: ignore[arg-type]
                                   progress=progress)
        return embed_images(model, records, size_hw=size_hw, device=device, flip=flip,  # type: ignore[arg-type]
                            progress=progress)

    def labels(records: Sequence[ImageRecord] | Sequence[TrackletRecord]) -> tuple[np.ndarray, ...]:
        return (
            np.array([r.pid for r in records], np.int64),
            np.array([r.camid for r in records], np.int64),
            np.array([r.clothes_id for r in records], np.int64),
        )

    qp, qc, qk = labels(dataset.query)
    gp, gc, gk = labels(dataset.gallery)
    return Features(embed(dataset.query), embed(dataset.gallery), qp, gp, qc, gc, qk, gk)


def refined_distances(query: np.ndarray, gallery: np.ndarray, config: RefineConfig) -> np.ndarray:
    """Distances that order each query's gallery as the product's refined search does.

    Per query, the ``config.candidates`` nearest gallery items by cosine are re-ordered by
    :func:`reid_engine.index.refine.refine_ranking` (query expansion, k-reciprocal re-ranking among
    them) and come first; the rest follow in cosine order.
    """
    dist = cosine_distance(query, gallery)
    out = dist + 2.0  # cosine distances lie in [0, 2]: everything not refined goes after the refined
    n = min(config.candidates, gallery.shape[0])
    ids = np.arange(gallery.shape[0])
    for i in range(len(query)):
        top = np.argsort(dist[i], kind="stable")[:n]
        ranked, _ = refine_ranking(query[i], ids[top], gallery[top], n, config)
        out[i, ranked] = np.arange(len(ranked), dtype=out.dtype) * (1.0 / (n + 1))
    return out


def score_features(
    features: Features,
    protocols: Sequence[Protocol],
    *,
    rerank: bool = False,
    refine: RefineConfig | None = None,
) -> dict[str, dict[str, float | int]]:
    """Rank-1/5/10 and mAP per protocol; optionally after k-reciprocal re-ranking of the whole
    gallery (``rerank``) or after the search's own second pass (``refine``)."""
    if rerank and refine is not None:
        raise ValueError("rerank and refine are alternatives")
    if rerank:
        dist = k_reciprocal_rerank(features.query, features.gallery)
    elif refine is not None:
        dist = refined_distances(features.query, features.gallery, refine)
    else:
        dist = cosine_distance(features.query, features.gallery)
    out: dict[str, dict[str, float | int]] = {}
    for protocol in protocols:
        result = evaluate(
            dist,
            features.q_pids,
            features.g_pids,
            features.q_camids,
            features.g_camids,
            q_clothes=features.q_clothes,
            g_clothes=features.g_clothes,
            protocol=protocol,
        )
        out[protocol] = result.summary()
    return out
