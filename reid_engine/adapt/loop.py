"""The site-adaptation loop: a plain epoch loop over real pseudo-identity batches and SynthCC batches.

Each epoch re-embeds the site's crops, re-clusters its tracks (cannot-link for tracks seen together)
and rebuilds the cluster memory; each step then takes a batch of the site's pseudo-identities (memory
contrast + batch-hard triplet) and a batch of SynthCC people in several outfits (a clothes-changing
triplet, and distillation to the starting model so clothes invariance is not forgotten).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from reid_engine.adapt.pseudo import ClusterMemory, clothes_changing_triplet, cluster_tracks
from reid_engine.data.base import ImageRecord
from reid_engine.embed import IMAGENET_MEAN, IMAGENET_STD
from reid_engine.eval.real import FootageTrack, co_occurring
from reid_engine.models.reid_net import ReidNet
from reid_engine.train.checkpoint import atomic_save, save_model
from reid_engine.train.losses import triplet_batch_hard

logger = logging.getLogger(__name__)

STATE_FORMAT = "longview-adapt-state/1"


@dataclass(frozen=True, kw_only=True)
class AdaptConfig:
    """Site-adaptation settings.

    Attributes:
        epochs, steps_per_epoch: schedule (each epoch re-clusters the site's tracks).
        lr: Adam learning rate of the trainable layers (the model's frozen stages stay frozen).
        clusters_per_batch, crops_per_cluster: P × K sampling of the site's pseudo-identities.
        synth_ids_per_batch, synth_per_id: P × K sampling of SynthCC people (0 ids: no SynthCC term).
        threshold: cosine similarity above which two tracks' clusters merge.
        temperature, momentum: the cluster memory's.
        synth_weight, distill_weight: weights of the clothes-changing triplet and the distillation.
        seed: sampling and augmentation.
    """

    epochs: int = 4
    steps_per_epoch: int = 30
    lr: float = 3.5e-5
    clusters_per_batch: int = 8
    crops_per_cluster: int = 4
    synth_ids_per_batch: int = 8
    synth_per_id: int = 4
    threshold: float = 0.75
    temperature: float = 0.05
    momentum: float = 0.2
    synth_weight: float = 1.0
    distill_weight: float = 1.0
    seed: int = 0


def _prepare(images: Sequence[np.ndarray], size_hw: tuple[int, int]) -> torch.Tensor:
    h, w = size_hw
    batch = np.stack([cv2.resize(np.ascontiguousarray(im), (w, h), interpolation=cv2.INTER_AREA) for im in images])
    return torch.from_numpy(batch).permute(0, 3, 1, 2).contiguous()


def _normalise(x: torch.Tensor, rng: np.random.Generator | None) -> torch.Tensor:
    x = x.float()
    if rng is not None:
        flip = torch.from_numpy(rng.random(len(x)) < 0.5)
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255.0
    return (x - mean) / std


@torch.no_grad()
def _embed(model: ReidNet, images: torch.Tensor, batch: int = 128) -> torch.Tensor:
    model.eval()
    out = [model(_normalise(images[s : s + batch], None)) for s in range(0, len(images), batch)]
    return torch.cat(out) if out else torch.zeros(0, model.embed_dim)


def _pk(groups: dict[int, np.ndarray], p: int, k: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    keys = np.array(sorted(groups))
    chosen = rng.choice(keys, min(p, len(keys)), replace=False)
    idx = [rng.choice(groups[c], k, replace=len(groups[c]) < k) for c in chosen]
    return np.concatenate(idx), np.repeat(chosen, k)


def adapt(
    model: ReidNet, size_hw: tuple[int, int], tracks: list[FootageTrack], synth: Sequence[ImageRecord],
    config: AdaptConfig, *, out: Path, meta: dict[str, Any], resume: bool = False, show_progress: bool = True,
) -> dict[str, Any]:
    """Adapt ``model`` (in place) to the site's ``tracks`` and write the inference model to ``out``.

    After every epoch the whole state is written next to ``out`` (``.<name>.state.pt``); ``resume``
    continues from it with the same sampling streams.

    Returns:
        A summary: per epoch the cluster count and mean losses.
    """
    from reid_engine.data.torch_dataset import load_rgb

    if len(tracks) < 2:
        raise ValueError("adaptation needs at least two tracks")
    state_path = out.with_name(f".{out.name}.state.pt")
    teacher = copy.deepcopy(model).eval()
    teacher.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=config.lr, weight_decay=5e-4)
    crops = _prepare([c for t in tracks for c in t.crops], size_hw)
    crop_track = np.repeat(np.arange(len(tracks)), [len(t.crops) for t in tracks])
    cannot = co_occurring(np.array([t.start_s for t in tracks]), np.array([t.end_s for t in tracks]),
                          np.array([t.footage for t in tracks]))
    use_synth = config.synth_ids_per_batch > 0 and len(synth) > 0
    synth_images = _prepare([load_rgb(r.path) for r in synth], size_hw) if use_synth else torch.zeros(0)
    synth_pids = np.array([r.pid for r in synth])
    synth_clothes = torch.tensor([r.clothes_id for r in synth])
    by_pid = {int(p): np.flatnonzero(synth_pids == p) for p in np.unique(synth_pids)} if use_synth else {}
    history: list[dict[str, Any]] = []
    start_epoch = 0
    rng = np.random.default_rng(config.seed)
    if resume and state_path.is_file():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        if state.get("format") != STATE_FORMAT:
            raise ValueError(f"{state_path} is not an adaptation state")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, history = int(state["epoch"]), list(state["history"])
        rng.bit_generator.state = state["rng"]
    for epoch in range(start_epoch, config.epochs):
        crop_vecs = _embed(model, crops)
        track_vecs = F.normalize(torch.stack([crop_vecs[crop_track == k].mean(0) for k in range(len(tracks))]), dim=1)
        labels = cluster_tracks(track_vecs.numpy(), cannot, threshold=config.threshold)
        crop_labels = labels[crop_track]
        n_clusters = int(labels.max()) + 1
        centroids = torch.stack([crop_vecs[torch.from_numpy(crop_labels == c)].mean(0) for c in range(n_clusters)])
        memory = ClusterMemory(centroids, temperature=config.temperature, momentum=config.momentum)
        groups = {c: np.flatnonzero(crop_labels == c) for c in range(n_clusters)}
        model.train()
        sums: dict[str, float] = {}
        bar = tqdm(range(config.steps_per_epoch), desc=f"adapt {epoch + 1}/{config.epochs}", unit="batch",
                   disable=not show_progress, leave=False)
        for _ in bar:
            idx, lab = _pk(groups, config.clusters_per_batch, config.crops_per_cluster, rng)
            feats = model.features(_normalise(crops[idx], rng))
            emb = F.normalize(feats.neck, dim=1)
            lab_t = torch.from_numpy(lab)
            losses = {"memory": memory.loss(emb, lab_t), "triplet": triplet_batch_hard(feats.pooled, lab_t)}
            if use_synth:
                s_idx, s_pid = _pk(by_pid, config.synth_ids_per_batch, config.synth_per_id, rng)
                x = _normalise(synth_images[s_idx], rng)
                s_emb = model(x)
                with torch.no_grad():
                    t_emb = teacher(x)
                losses["synth_cc"] = config.synth_weight * clothes_changing_triplet(
                    s_emb, torch.from_numpy(s_pid), synth_clothes[s_idx])
                losses["distill"] = config.distill_weight * (1.0 - (s_emb * t_emb).sum(1)).mean()
            total = sum(losses.values(), torch.zeros(()))
            optimizer.zero_grad(set_to_none=True)
            total.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            memory.update(emb, lab_t)
            for name, value in losses.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach())
            bar.set_postfix(loss=f"{float(total.detach()):.3f}", clusters=n_clusters)
        bar.close()
        history.append({"epoch": epoch + 1, "clusters": n_clusters, "tracks": len(tracks),
                        "losses": {k: round(v / config.steps_per_epoch, 4) for k, v in sums.items()}})
        logger.info("epoch %s: %s clusters, %s", epoch + 1, n_clusters, history[-1]["losses"])
        atomic_save({"format": STATE_FORMAT, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "epoch": epoch + 1, "history": history, "rng": rng.bit_generator.state}, state_path)
    model.eval()
    save_model(out, model, size_hw=size_hw,
               meta={**meta, "adapt": dataclasses.asdict(config), "adapt_history": history})
    return {"epochs": history, "out": str(out), "state": str(state_path)}
