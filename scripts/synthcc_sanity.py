"""SynthCC sanity experiment: clothes must not give identity away, persistent traits must.

(a) Colour-histogram matchers (whole crop; the person's upper and lower halves) are scored under
the same-clothes (SC) and clothes-changing (CC) protocols: they should do well in SC only.
(b) An oracle on hair and skin pixels (true label maps) shows how much identity is left outside
the clothes.
(c) A small CNN trained on the training identities is scored on held-out identities under CC.
(d) Optionally, OpenCV's HOG people detector is run on a scene set.

Prints one JSON object. Usage:
    python scripts/synthcc_sanity.py --data var/synthcc/images [--generate] [--seed 0] [--cnn all]
        [--steps 1000] [--scenes SCENE_DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reid_engine.attributes import SCHEMA
from reid_engine.data.base import ImageRecord, ImageReidDataset
from reid_engine.data.synthcc import load_synthcc_images
from reid_engine.data.torch_dataset import load_rgb
from reid_engine.eval import cosine_distance, evaluate
from reid_engine.synth.painter import ARMS, CLOTHING_LABELS, FACE, HAIR, LEGS, OCCLUDER

logger = logging.getLogger("synthcc_sanity")


def chance_rank1(q: list[ImageRecord], g: list[ImageRecord], protocol: str) -> float:
    """Expected Rank-1 of a random ranking: per scored query, #correct / #non-junk gallery items."""
    gp = np.array([r.pid for r in g])
    gc = np.array([r.camid for r in g])
    gk = np.array([r.clothes_id for r in g])
    rates = []
    for r in q:
        same = gp == r.pid
        junk = same & (gc == r.camid)
        good = same & ~junk
        if protocol == "cc":
            junk |= same & (gk == r.clothes_id)
            good &= gk != r.clothes_id
        elif protocol == "sc":
            junk |= same & (gk != r.clothes_id)
            good &= gk == r.clothes_id
        if good.any():
            rates.append(good.sum() / (~junk).sum())
    return float(np.mean(rates)) if rates else 0.0


def read_labels(path: Path, size_hw: tuple[int, int]) -> np.ndarray:
    labels = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if labels is None:
        raise SystemExit(f"cannot read {path}")
    return np.asarray(cv2.resize(labels, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_NEAREST))


def histogram_features(records: list[ImageRecord], *, person_only: bool) -> np.ndarray:
    """Hue-saturation histograms (16×4 bins) of the upper and lower halves, Hellinger-normalised.

    Value (brightness) is left out: it mostly measures the light, not the clothes.

    With ``person_only`` the histograms count only the person's pixels (from the label maps) and
    split the person's own box in halves: a clothes-colour matcher without background clutter.
    """
    feats = []
    for r in records:
        hsv = cv2.cvtColor(load_rgb(r.path, (128, 64)), cv2.COLOR_RGB2HSV)
        mask = np.ones((128, 64), np.uint8)
        top, bottom = 8, 120
        if person_only and r.mask_path is not None:
            labels = read_labels(r.mask_path, (128, 64))
            mask = ((labels > 0) & (labels != OCCLUDER)).astype(np.uint8)
            rows = np.flatnonzero(mask.any(axis=1))
            if rows.size:
                top, bottom = int(rows[0]), int(rows[-1]) + 1
        mid = (top + bottom) // 2
        parts = []
        for y0, y1 in ((top, mid), (mid, bottom)):
            h = cv2.calcHist([hsv[y0:y1]], [0, 1], mask[y0:y1], [16, 4], [0, 180, 0, 256]).ravel()
            parts.append(np.sqrt(h / max(h.sum(), 1.0)))
        feats.append(np.concatenate(parts))
    return np.asarray(feats, dtype=np.float32)


def trait_histogram_features(records: list[ImageRecord]) -> np.ndarray:
    """An oracle for persistent cues: HSV histograms of the hair pixels and of the skin pixels (face,
    arms, legs), found with the ground-truth label maps. Shows how much identity the pixels carry
    outside the clothes; not a model (it reads the labels at test time)."""
    feats = []
    for r in records:
        hsv = cv2.cvtColor(load_rgb(r.path), cv2.COLOR_RGB2HSV)
        if r.mask_path is None:
            raise SystemExit(f"{r.path} has no label map")
        labels = read_labels(r.mask_path, hsv.shape[:2])
        parts = []
        for wanted in ((HAIR,), (FACE, ARMS, LEGS)):
            m = np.isin(labels, wanted).astype(np.uint8)
            h = cv2.calcHist([hsv], [0, 1, 2], m, [16, 8, 4], [0, 180, 0, 256, 0, 256]).ravel()
            parts.append(np.sqrt(h / max(h.sum(), 1.0)))
        feats.append(np.concatenate(parts))
    return np.asarray(feats, dtype=np.float32)


def score(qf: np.ndarray, gf: np.ndarray, q: list[ImageRecord], g: list[ImageRecord]) -> dict[str, Any]:
    dist = cosine_distance(qf, gf)
    args = (
        np.array([r.pid for r in q]),
        np.array([r.pid for r in g]),
        np.array([r.camid for r in q]),
        np.array([r.camid for r in g]),
        np.array([r.clothes_id for r in q]),
        np.array([r.clothes_id for r in g]),
    )
    out: dict[str, Any] = {}
    for protocol in ("general", "sc", "cc"):
        res = evaluate(dist, *args, protocol=protocol)  # type: ignore[arg-type]
        out[protocol] = {k: round(float(v), 4) for k, v in res.summary().items()}
    return out


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


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between boxes a (N, 4) and b (M, 4), both (x, y, w, h)."""
    ax1, ay1, ax2, ay2 = a[:, 0:1], a[:, 1:2], a[:, 0:1] + a[:, 2:3], a[:, 1:2] + a[:, 3:4]
    bx1, by1, bx2, by2 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(ax2, bx2) - np.maximum(ax1, bx1), 0, None)
    ih = np.clip(np.minimum(ay2, by2) - np.maximum(ay1, by1), 0, None)
    inter = iw * ih
    return np.asarray(inter / (a[:, 2:3] * a[:, 3:4] + b[:, 2] * b[:, 3] - inter + 1e-9))


def hog_check(root: Path, *, every: int = 5, iou: float = 0.4) -> dict[str, Any]:
    """Share of ground-truth people (visibility ≥ 0.7, fully inside the frame) that OpenCV's default
    HOG people detector finds (IoU ≥ ``iou``), overall and by box height, on every ``every``-th frame."""
    import av

    from reid_engine.data.synthcc import load_synthcc_scenes

    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), dtype=np.float32))
    bins = {"80-127px": (0, 128), "128-199px": (128, 200), "200px+": (200, 10_000)}
    found = {k: 0 for k in bins}
    total = {k: 0 for k in bins}
    detections = matched_dets = frames = 0
    for video in load_synthcc_scenes(root):
        gt = np.loadtxt(video.gt_path, delimiter=",", ndmin=2)
        with av.open(str(video.video)) as container:
            for i, frame in enumerate(container.decode(video=0)):
                if i % every:
                    continue
                frames += 1
                rgb = frame.to_ndarray(format="rgb24")
                rows = gt[gt[:, 0] == i + 1]
                inside = (rows[:, 2] >= 0) & (rows[:, 3] >= 0)
                inside &= (rows[:, 2] + rows[:, 4] <= video.width) & (rows[:, 3] + rows[:, 5] <= video.height)
                rows = rows[inside & (rows[:, 8] >= 0.7)]
                boxes, _ = hog.detectMultiScale(
                    cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY), winStride=(4, 4), padding=(8, 8), scale=1.05
                )
                dets = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
                detections += len(dets)
                overlap = (
                    _iou(rows[:, 2:6], dets) if len(rows) and len(dets) else np.zeros((len(rows), len(dets)))
                )
                hit = overlap.max(axis=1) >= iou if len(dets) else np.zeros(len(rows), dtype=bool)
                matched_dets += int((overlap.max(axis=0) >= iou).sum()) if len(rows) and len(dets) else 0
                for h, ok in zip(rows[:, 5], hit, strict=True):
                    key = next(k for k, (lo, hi) in bins.items() if lo <= h < hi)
                    total[key] += 1
                    found[key] += int(ok)
    return {
        "frames": frames,
        "people": sum(total.values()),
        "recall": round(sum(found.values()) / max(1, sum(total.values())), 4),
        "recall_by_height": {k: round(found[k] / total[k], 4) if total[k] else None for k in bins},
        "people_by_height": total,
        "precision": round(matched_dets / max(1, detections), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="a SynthCC image set folder")
    parser.add_argument("--generate", action="store_true", help="generate the set first (default sizes)")
    parser.add_argument("--seed", type=int, default=0, help="generator and training seed")
    parser.add_argument("--ids", type=int, default=150, help="identities when generating")
    parser.add_argument("--workers", type=int, default=1, help="generator processes")
    parser.add_argument("--steps", type=int, default=1000, help="CNN training steps (batches of 64)")
    parser.add_argument(
        "--budget-s", type=float, default=1200.0, help="stop training after this many seconds"
    )
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument(
        "--cnn",
        choices=("plain", "recolour", "attributes", "all", "none"),
        default="all",
        help="which CNN runs to train (all: plain, then with stable-attribute heads)",
    )
    parser.add_argument("--recolour", type=float, default=0.5, help="outfit recolouring probability")
    parser.add_argument("--size", type=int, nargs=2, default=(128, 64), help="CNN input height and width")
    parser.add_argument("--parts", type=int, default=1, help="horizontal stripes pooled separately")
    parser.add_argument("--scenes", type=Path, help="also run the HOG person-detector check on a scene set")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    torch.set_num_threads(args.threads)
    report: dict[str, Any] = {}
    if args.generate:
        from reid_engine.synth.image_set import ImageSetConfig, generate_image_set

        gen = generate_image_set(
            args.data, ImageSetConfig(seed=args.seed, ids=args.ids), workers=args.workers, overwrite=True
        )
        report["generation"] = {k: gen[k] for k in ("images", "seconds", "crops_per_s", "workers")}
    ds = load_synthcc_images(args.data)
    q, g = list(ds.query), list(ds.gallery)
    report["data"] = {"summary": ds.summary(), "config": ds.meta.get("config")}
    report["chance_rank1"] = {p: round(chance_rank1(q, g, p), 4) for p in ("general", "sc", "cc")}
    report["gallery_ids"] = len({r.pid for r in g})

    for person_only, key in ((False, "colour_histogram_crop"), (True, "colour_histogram_person")):
        hq, hg = (
            histogram_features(q, person_only=person_only),
            histogram_features(g, person_only=person_only),
        )
        report[key] = score(hq, hg, q, g)
        logger.info("%s: %s", key, json.dumps(report[key]))

    report["trait_histogram_oracle"] = score(trait_histogram_features(q), trait_histogram_features(g), q, g)
    logger.info("trait_histogram_oracle: %s", json.dumps(report["trait_histogram_oracle"]))
    if args.scenes is not None:
        report["hog"] = hog_check(args.scenes)
    size_hw = (args.size[0], args.size[1])
    runs = {
        "plain": [("cnn", 0.0, 0.0)],
        "recolour": [("cnn_recolour", args.recolour, 0.0)],
        "attributes": [("cnn_attributes", 0.0, 0.5)],
        "all": [("cnn", 0.0, 0.0), ("cnn_attributes", 0.0, 0.5)],
        "none": [],
    }[args.cnn]
    for key, p, attr_weight in runs:
        model, info = train_cnn(
            ds,
            steps=args.steps,
            size_hw=size_hw,
            seed=args.seed,
            budget_s=args.budget_s,
            recolour_p=p,
            parts=args.parts,
            attr_weight=attr_weight,
        )
        report[f"{key}_training"] = info
        report[key] = score(embed(model, q, size_hw), embed(model, g, size_hw), q, g)
        logger.info("%s: %s", key, json.dumps(report[key]))
    sys.stdout.write(json.dumps(report, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
