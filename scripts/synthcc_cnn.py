"""The small CNN of the SynthCC sanity experiment: its network, augmentation (outfit recolouring
included), P×K batches with a batch-hard triplet loss, training and embedding."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from synthcc_features import read_labels
from torch import nn

from reid_engine.attributes import SCHEMA
from reid_engine.data.base import ImageRecord, ImageReidDataset
from reid_engine.data.torch_dataset import load_rgb
from reid_engine.synth.painter import CLOTHING_LABELS

logger = logging.getLogger("synthcc_sanity")


class SmallCNN(nn.Module):
    """Eight 3×3 conv layers (32-256 channels, four stride-2), avg+max pooling, BN neck.

    With ``parts`` > 1 the feature map is pooled in horizontal stripes (head, torso, legs…) and the
    stripe vectors are concatenated, so that small regions such as the head weigh as much as the
    large garment areas. ``forward`` returns the embedding; the classifier lives in the training code.
    """

    def __init__(self, dim: int = 256, parts: int = 1) -> None:
        super().__init__()
        widths = (32, 32, 64, 64, 128, 128, dim, dim)
        layers: list[nn.Module] = []
        cin = 3
        for i, cout in enumerate(widths):
            layers += [
                nn.Conv2d(cin, cout, 3, stride=2 if i % 2 == 0 else 1, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            ]
            cin = cout
        self.features = nn.Sequential(*layers)
        self.parts = parts
        self.dim = dim * parts
        self.neck = nn.BatchNorm1d(self.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x)
        size = (self.parts, 1)
        pooled = F.adaptive_avg_pool2d(f, size) + F.adaptive_max_pool2d(f, size)
        return self.neck(pooled.permute(0, 2, 1, 3).flatten(1))


def load_tensor(records: list[ImageRecord], size_hw: tuple[int, int]) -> torch.Tensor:
    arr = np.stack([load_rgb(r.path, size_hw) for r in records])
    return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()


def load_clothing_masks(records: list[ImageRecord], size_hw: tuple[int, int]) -> torch.Tensor:
    """bool (N, 1, H, W): pixels of garments, shoes, hats and bags (the outfit), from the label maps."""
    out = []
    for r in records:
        if r.mask_path is None:
            raise SystemExit(f"{r.path} has no label map")
        labels = read_labels(r.mask_path, size_hw)
        out.append(np.isin(labels, CLOTHING_LABELS))
    return torch.from_numpy(np.stack(out))[:, None]


def recolour(batch_u8: torch.Tensor, masks: torch.Tensor, gen: torch.Generator, p: float) -> torch.Tensor:
    """Give the outfit of some images new colours (channel shuffle and gains inside the mask)."""
    out = batch_u8.clone()
    for i in range(out.shape[0]):
        if torch.rand(1, generator=gen).item() >= p:
            continue
        perm = torch.randperm(3, generator=gen)
        gain = 0.5 + torch.rand(3, 1, 1, generator=gen)
        new = (out[i, perm].float() * gain).clamp(0, 255).to(torch.uint8)
        out[i] = torch.where(masks[i], new, out[i])
    return out


def normalise(batch_u8: torch.Tensor) -> torch.Tensor:
    return (batch_u8.float() / 255.0 - 0.45) / 0.25


def augment(batch_u8: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Flip, pad-and-crop, brightness/contrast jitter and random erasing, on a uint8 batch."""
    x = normalise(batch_u8)
    n, _, h, w = x.shape
    flip = torch.rand(n, generator=gen) < 0.5
    x[flip] = x[flip].flip(3)
    padded = F.pad(x, (6, 6, 8, 8), mode="replicate")
    dy = torch.randint(0, 17, (n,), generator=gen)
    dx = torch.randint(0, 13, (n,), generator=gen)
    x = torch.stack([padded[i, :, dy[i] : dy[i] + h, dx[i] : dx[i] + w] for i in range(n)])
    gain = 1.0 + 0.4 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
    bias = 0.4 * (torch.rand(n, 1, 1, 1, generator=gen) - 0.5)
    x = x * gain + bias
    for i in range(n):
        if torch.rand(1, generator=gen).item() < 0.5:
            eh = int(torch.randint(h // 8, h // 3, (1,), generator=gen))
            ew = int(torch.randint(w // 8, w // 2, (1,), generator=gen))
            y0 = int(torch.randint(0, h - eh, (1,), generator=gen))
            x0 = int(torch.randint(0, w - ew, (1,), generator=gen))
            x[i, :, y0 : y0 + eh, x0 : x0 + ew] = torch.randn(3, eh, ew, generator=gen) * 0.5
    return x


def batch_hard_triplet(emb: torch.Tensor, labels: torch.Tensor, margin: float = 0.3) -> torch.Tensor:
    e = F.normalize(emb, dim=1)
    dist = 1.0 - e @ e.T
    same = labels[:, None] == labels[None, :]
    hardest_pos = (dist * same.float()).max(dim=1).values
    hardest_neg = (dist + same.float() * 4.0).min(dim=1).values
    return F.relu(hardest_pos - hardest_neg + margin).mean()


def pk_batches(pids: np.ndarray, p: int, k: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One epoch of P×K batches: as many batches as fit the training set, P random ids × K images."""
    by_pid = {int(pid): np.flatnonzero(pids == pid) for pid in np.unique(pids)}
    keys = np.array(sorted(by_pid))
    batches = []
    for _ in range(max(1, len(pids) // (p * k))):
        chosen = rng.choice(keys, size=min(p, keys.size), replace=False)
        idx = [rng.choice(by_pid[int(pid)], size=k, replace=by_pid[int(pid)].size < k) for pid in chosen]
        batches.append(np.concatenate(idx))
    return batches


def train_cnn(
    ds: ImageReidDataset,
    *,
    steps: int,
    size_hw: tuple[int, int],
    seed: int,
    budget_s: float,
    recolour_p: float = 0.0,
    parts: int = 1,
    attr_weight: float = 0.0,
) -> tuple[SmallCNN, dict[str, Any]]:
    """CE (label smoothing) + batch-hard triplet on 16 ids × 4 images, AdamW with a one-cycle schedule."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    train = list(ds.relabelled_train())
    images = load_tensor(train, size_hw)
    masks = load_clothing_masks(train, size_hw) if recolour_p > 0 else None
    pids = np.array([r.pid for r in train])
    model = SmallCNN(parts=parts)
    head = nn.Linear(model.dim, int(pids.max()) + 1, bias=False)
    # Optional auxiliary heads for the person's stable attributes (gender, age, build, hair, glasses…):
    # a training-only signal that points the network at what survives a change of clothes.
    stable = [SCHEMA.position(n) for n in SCHEMA.stable_names]
    attr_labels = torch.from_numpy(np.stack([SCHEMA.encode(r.attributes).labels[stable] for r in train]))
    attr_heads = nn.ModuleList(nn.Linear(model.dim, SCHEMA.attributes[i].num_classes) for i in stable)
    params = [*model.parameters(), *head.parameters(), *(attr_heads.parameters() if attr_weight > 0 else [])]
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.15)
    started = time.perf_counter()
    model.train()
    head.train()
    done, total, correct, seen = 0, 0.0, 0, 0
    while done < steps and time.perf_counter() - started < budget_s:
        for idx in pk_batches(pids, 16, 4, rng):
            batch = images[idx]
            if masks is not None:
                batch = recolour(batch, masks[idx], gen, recolour_p)
            y = torch.from_numpy(pids[idx])
            emb = model(augment(batch, gen))
            logits = head(emb)
            loss = F.cross_entropy(logits, y, label_smoothing=0.1) + batch_hard_triplet(emb, y)
            if attr_weight > 0:
                targets = attr_labels[idx]
                for j, attr_head in enumerate(attr_heads):
                    loss = loss + attr_weight * F.cross_entropy(attr_head(emb), targets[:, j])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            done += 1
            total += loss.item() * len(idx)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(idx)
            if done % 100 == 0:
                logger.info("step %s loss %.3f acc %.3f", done, total / seen, correct / seen)
                total, correct, seen = 0.0, 0, 0
            if done >= steps or time.perf_counter() - started >= budget_s:
                break
    info = {"steps": done, "train_seconds": round(time.perf_counter() - started, 1)}
    return model, info


@torch.no_grad()
def embed(model: SmallCNN, records: list[ImageRecord], size_hw: tuple[int, int]) -> np.ndarray:
    model.eval()
    out = []
    for start in range(0, len(records), 128):
        x = normalise(load_tensor(records[start : start + 128], size_hw))
        out.append((model(x) + model(x.flip(3))).numpy())
    return np.concatenate(out)
