"""Shared pieces of the training modules: clothing masking, keypoint heatmaps, masked pooling, auxiliary passes.

Everything here works on batches as the loader gives them (``mask`` int64 (N, H, W) label maps of the
SynthCC classes, ``keypoints`` float32 (N, 17, 3) in input pixels) and on feature maps (N, C, h, w).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from reid_engine.models.reid_net import ReidNet
from reid_engine.pose.regions import BodyRegions
from reid_engine.synth.painter import BACKGROUND, CLOTHING_LABELS, FACE, LOWER, OCCLUDER, UPPER

Batch = Mapping[str, torch.Tensor]


def spatial_size(t: torch.Tensor) -> tuple[int, int]:
    """(h, w) of a tensor whose last two dimensions are spatial."""
    return int(t.shape[-2]), int(t.shape[-1])


def label_pixels(labels: torch.Tensor, classes: Sequence[int]) -> torch.Tensor:
    """bool (N, H, W): pixels of ``labels`` (int64 (N, H, W)) whose class is one of ``classes``."""
    table = torch.zeros(256, dtype=torch.bool, device=labels.device)
    table[list(classes)] = True
    return table[labels.clamp(0, 255)]


def clothing_pixels(labels: torch.Tensor, classes: Sequence[int] = CLOTHING_LABELS) -> torch.Tensor:
    """bool (N, H, W): clothing pixels (hat, upper, lower, shoes, bag by default) of label maps (N, H, W)."""
    return label_pixels(labels, classes)


def person_pixels(labels: torch.Tensor) -> torch.Tensor:
    """bool (N, H, W): the person's silhouette, i.e. neither background nor an occluding object."""
    return (labels != BACKGROUND) & (labels != OCCLUDER)


def mask_clothing(
    images: torch.Tensor, labels: torch.Tensor, classes: Sequence[int] = CLOTHING_LABELS
) -> torch.Tensor:
    """Replace the clothing pixels of ImageNet-normalised images (N, 3, H, W) by the mean colour, i.e. 0.

    Args:
        images: float (N, 3, H, W), normalised, so 0 is the data set's mean colour (as random erasing).
        labels: int64 (N, H, W) label maps aligned with ``images``.
        classes: the label values that count as clothing.

    Returns:
        A new tensor; the other pixels are unchanged.
    """
    keep = ~clothing_pixels(labels, classes)
    return images * keep[:, None].to(images.dtype)


def coverage(mask: torch.Tensor, size_hw: tuple[int, int]) -> torch.Tensor:
    """Share of each feature-map cell that a pixel mask covers.

    Args:
        mask: bool (N, H, W) or (N, K, H, W) pixel masks.
        size_hw: feature-map size (h, w).

    Returns:
        float (N, 1, h, w) or (N, K, h, w) in [0, 1].
    """
    m = mask.float()
    if m.dim() == 3:
        m = m[:, None]
    return F.adaptive_avg_pool2d(m, size_hw)


def visible_keypoints(keypoints: torch.Tensor, image_hw: tuple[int, int], min_visibility: float) -> torch.Tensor:
    """bool (N, 17): keypoints with ``v`` (or a pose estimator's score) ≥ ``min_visibility`` inside the image.

    Keypoints pushed out of the crop by augmentation count as not visible.
    """
    x, y, v = keypoints.unbind(-1)
    h, w = image_hw
    return (v >= min_visibility) & (v > 0) & (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)


def keypoint_heatmaps(
    keypoints: torch.Tensor,
    image_hw: tuple[int, int],
    fmap_hw: tuple[int, int],
    *,
    sigma: float = 1.0,
    min_visibility: float = 2.0,
) -> torch.Tensor:
    """Gaussian heatmaps of COCO keypoints at feature-map resolution.

    A keypoint at pixel ``(x, y)`` lands at cell coordinates ``((x + 0.5) w / W - 0.5, (y + 0.5) h / H - 0.5)``
    (pixel centres onto cell centres), so its heatmap peaks (at 1 when it sits on a cell centre) in the
    cell that contains it.

    Args:
        keypoints: float (N, K, 3) ``(x, y, v)`` in input pixels.
        image_hw: input size (H, W).
        fmap_hw: feature-map size (h, w).
        sigma: standard deviation in feature-map cells.
        min_visibility: see :func:`visible_keypoints`; other keypoints get an all-zero heatmap.

    Returns:
        float32 (N, K, h, w) in [0, 1].
    """
    (H, W), (h, w) = image_hw, fmap_hw
    kp = keypoints.float()
    cx = (kp[..., 0] + 0.5) * (w / W) - 0.5
    cy = (kp[..., 1] + 0.5) * (h / H) - 0.5
    xs = torch.arange(w, dtype=torch.float32, device=kp.device)
    ys = torch.arange(h, dtype=torch.float32, device=kp.device)
    dx2 = (xs[None, None, :] - cx[..., None]).pow(2)  # (N, K, w)
    dy2 = (ys[None, None, :] - cy[..., None]).pow(2)  # (N, K, h)
    heat = torch.exp(-(dy2[..., :, None] + dx2[..., None, :]) / (2 * sigma**2))
    seen = visible_keypoints(kp, image_hw, min_visibility)
    return heat * seen[..., None, None].float()


def weighted_pool(fmap: torch.Tensor, weights: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Weighted spatial means of a feature map, one per weight map.

    Args:
        fmap: float (N, C, h, w).
        weights: float (N, K, h, w), non-negative.
        eps: keeps an all-zero weight map's mean at 0 instead of NaN.

    Returns:
        float32 (N, K, C); ``[n, k]`` is ``Σ weights[n, k] · fmap[n] / Σ weights[n, k]``.
    """
    w = weights.float()
    pooled = torch.einsum("nkhw,nchw->nkc", w, fmap.float())
    return pooled / (w.sum((2, 3))[..., None] + eps)


def cosine_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``1 - cos(a, b)`` row by row, float (N,), for features (N, D)."""
    return 1.0 - F.cosine_similarity(a.float(), b.float(), dim=-1, eps=1e-6)


def soft_targets(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Detached teacher probabilities ``softmax(logits / T)``, float32 (N, C) even under autocast."""
    return torch.softmax(logits.detach().float() / temperature, dim=1)


def distill_kl(student: torch.Tensor, teacher_prob: torch.Tensor, temperature: float) -> torch.Tensor:
    """Hinton et al.'s distillation loss ``T² · KL(p_teacher ‖ softmax(student / T))``, batch mean.

    Args:
        student: float (N, C) logits of the student.
        teacher_prob: float (N, C) softened teacher probabilities (already detached).
        temperature: T; the T² factor keeps the gradient's size independent of T.
    """
    log_p = F.log_softmax(student.float() / temperature, dim=1)
    return F.kl_div(log_p, teacher_prob.float(), reduction="batchmean") * temperature**2


def zero_loss(like: torch.Tensor) -> torch.Tensor:
    """A zero that stays in the autograd graph (for a batch that offers no valid term)."""
    return like.sum() * 0.0


@contextmanager
def running_stats_frozen(module: nn.Module) -> Iterator[None]:
    """Batch norms in ``module`` normalise with batch statistics but leave their running estimates alone.

    Auxiliary streams (clothing-masked images, …) run the shared backbone on inputs the deployed model
    never sees; their statistics must not leak into the running mean and variance that inference uses.
    Layers already in eval mode (frozen stages) keep using their running estimates.
    """
    changed: list[nn.modules.batchnorm._BatchNorm] = []
    for m in module.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats and m.training:
            m.track_running_stats = False
            changed.append(m)
    try:
        yield
    finally:
        for m in changed:
            m.track_running_stats = True


def auxiliary_fmap(model: ReidNet, images: torch.Tensor) -> torch.Tensor:
    """The shared backbone's feature map (N, C, h, w) of auxiliary images, without moving its statistics."""
    with running_stats_frozen(model.backbone):
        fmap: torch.Tensor = model.backbone(images)
    return fmap


def label_map_from_regions(regions: BodyRegions) -> np.ndarray:
    """A SynthCC-style label map (uint8 (H, W)) from keypoint-derived regions, for data sets without parsing.

    The head becomes ``FACE`` (kept by clothing masking), the upper and lower garments ``UPPER`` and
    ``LOWER`` (clothing, arms and legs included since the regions cannot tell skin from sleeve), the rest
    ``BACKGROUND``. Written next to the images as the records' ``mask_path``, it lets the mask-based
    modules train on real data with keypoints from the pose detector.
    """
    out = np.full(regions.head.shape, BACKGROUND, np.uint8)
    out[regions.lower] = LOWER
    out[regions.upper] = UPPER
    out[regions.head] = FACE
    return out
