"""Training augmentations applied to whole batches, keeping label maps and keypoints aligned with pixels.

The strong-baseline recipe (Luo et al., 2019): random horizontal flip, pad-and-crop, random erasing.
Each image draws its own parameters from a seeded generator, so a run is reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

# COCO-17 left/right keypoint pairs, swapped by a horizontal flip.
_FLIP_PERMUTATION = (0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15)


@dataclass(frozen=True, kw_only=True)
class AugmentConfig:
    """Augmentation settings.

    Attributes:
        flip: probability of a horizontal flip.
        pad: pixels of zero padding before a random crop back to the input size (0 turns it off).
        erase: probability of random erasing (Zhong et al., 2020) of one rectangle.
        erase_area: (min, max) share of the image an erased rectangle covers.
    """

    flip: float = 0.5
    pad: int = 10
    erase: float = 0.5
    erase_area: tuple[float, float] = (0.02, 0.4)

    def __post_init__(self) -> None:
        for name in ("flip", "erase"):
            if not 0 <= getattr(self, name) <= 1:
                raise ValueError(f"augment.{name} must be a probability in [0, 1]")
        if self.pad < 0:
            raise ValueError("augment.pad must be non-negative")
        lo, hi = self.erase_area
        if not 0 < lo <= hi < 1:
            raise ValueError("augment.erase_area must be (min, max) with 0 < min <= max < 1")


def augment_batch(
    batch: dict[str, torch.Tensor], config: AugmentConfig, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """Augment ``image`` (N, 3, H, W) and, when present, ``mask`` (N, H, W) and ``keypoints`` (N, 17, 3).

    Returns a new dictionary; other entries are passed through.
    """
    out = dict(batch)
    images = batch["image"].clone()
    masks = batch["mask"].clone() if "mask" in batch else None
    kps = batch["keypoints"].clone() if "keypoints" in batch else None
    n, _, h, w = images.shape

    flip = torch.rand(n, generator=generator) < config.flip
    if flip.any():
        images[flip] = images[flip].flip(-1)
        if masks is not None:
            masks[flip] = masks[flip].flip(-1)
        if kps is not None:
            k = kps[flip][:, _FLIP_PERMUTATION]
            k[..., 0] = torch.where(k[..., 2] > 0, (w - 1) - k[..., 0], k[..., 0])
            kps[flip] = k

    if config.pad > 0:
        p = config.pad
        shifts = torch.randint(0, 2 * p + 1, (n, 2), generator=generator)
        padded = F.pad(images, (p, p, p, p))
        padded_masks = F.pad(masks, (p, p, p, p)) if masks is not None else None
        for i in range(n):
            dy, dx = int(shifts[i, 0]), int(shifts[i, 1])
            images[i] = padded[i, :, dy : dy + h, dx : dx + w]
            if masks is not None and padded_masks is not None:
                masks[i] = padded_masks[i, dy : dy + h, dx : dx + w]
        if kps is not None:
            offset = (p - shifts.flip(1)).to(kps.dtype)  # (dx, dy) → subtract the crop origin
            kps[..., :2] = kps[..., :2] + offset[:, None, :]

    if config.erase > 0:
        lo, hi = config.erase_area
        for i in range(n):
            if float(torch.rand(1, generator=generator)) >= config.erase:
                continue
            for _ in range(10):
                area = h * w * float(torch.empty(1).uniform_(lo, hi, generator=generator))
                ratio = math.exp(float(torch.empty(1).uniform_(math.log(0.3), math.log(3.3), generator=generator)))
                eh, ew = round(math.sqrt(area * ratio)), round(math.sqrt(area / ratio))
                if 0 < eh < h and 0 < ew < w:
                    y = int(torch.randint(0, h - eh + 1, (1,), generator=generator))
                    x = int(torch.randint(0, w - ew + 1, (1,), generator=generator))
                    # Erased pixels become the (normalised) mean colour, i.e. zero.
                    images[i, :, y : y + eh, x : x + ew] = 0.0
                    break

    out["image"] = images
    if masks is not None:
        out["mask"] = masks
    if kps is not None:
        out["keypoints"] = kps
    return out
