"""torch ``Dataset`` wrappers over data-set records, and an identity-balanced batch sampler."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from reid_engine.attributes import SCHEMA
from reid_engine.data.base import ImageRecord, TrackletRecord

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

Transform = Callable[[torch.Tensor], torch.Tensor]


def load_rgb(path: Path, size_hw: tuple[int, int] | None = None) -> np.ndarray:
    """Read an image file as uint8 (H, W, 3) RGB, optionally resized to ``size_hw``.

    Raises:
        FileNotFoundError: when the file is missing or cannot be decoded.
    """
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FileNotFoundError(f"cannot read image {path}")
    if size_hw is not None and bgr.shape[:2] != size_hw:
        bgr = cv2.resize(bgr, (size_hw[1], size_hw[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def to_tensor(rgb: np.ndarray, *, normalize: bool = True) -> torch.Tensor:
    """uint8 (H, W, 3) RGB → float32 (3, H, W), in [0, 1] or ImageNet-normalised."""
    t = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float().div_(255.0)
    if normalize:
        mean = torch.tensor(IMAGENET_MEAN).view(3, 1, 1)
        std = torch.tensor(IMAGENET_STD).view(3, 1, 1)
        t = (t - mean) / std
    return t


def _image_size(path: Path) -> tuple[int, int]:
    """(height, width) of an image file, read from its header only."""
    from PIL import Image

    with Image.open(path) as im:
        return im.height, im.width


class ImageReidTorchDataset(Dataset[dict[str, torch.Tensor]]):
    """Loads :class:`ImageRecord` images as tensors.

    Each item is a dict: ``image`` float32 (3, H, W); ``pid``, ``camid``, ``clothes_id``, ``index``
    int64 scalars; ``attr_labels`` int64 (A,) and ``attr_mask`` bool (A,) in the unified schema; and,
    with ``load_masks``, ``mask`` int64 (H, W) label map (nearest-neighbour resized); with
    ``load_keypoints``, ``keypoints`` float32 (17, 3) in the resized image's pixels (all zero, i.e.
    unlabelled, when the record has none).
    """

    def __init__(
        self,
        records: Sequence[ImageRecord],
        *,
        size_hw: tuple[int, int] = (256, 128),
        normalize: bool = True,
        transform: Transform | None = None,
        load_masks: bool = False,
        load_keypoints: bool = False,
    ) -> None:
        self.records = tuple(records)
        self.load_keypoints = load_keypoints
        self.size_hw = size_hw
        self.normalize = normalize
        self.transform = transform
        self.load_masks = load_masks

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        r = self.records[index]
        image = to_tensor(load_rgb(r.path, self.size_hw), normalize=self.normalize)
        if self.transform is not None:
            image = self.transform(image)
        enc = SCHEMA.encode(r.attributes)
        item = {
            "image": image,
            "pid": torch.tensor(r.pid, dtype=torch.int64),
            "camid": torch.tensor(r.camid, dtype=torch.int64),
            "clothes_id": torch.tensor(r.clothes_id, dtype=torch.int64),
            "index": torch.tensor(index, dtype=torch.int64),
            "attr_labels": torch.from_numpy(enc.labels),
            "attr_mask": torch.from_numpy(enc.mask),
        }
        if self.load_masks:
            if r.mask_path is None:
                raise FileNotFoundError(f"record {r.path} has no mask")
            m = cv2.imread(str(r.mask_path), cv2.IMREAD_GRAYSCALE)
            if m is None:
                raise FileNotFoundError(f"cannot read mask {r.mask_path}")
            m = cv2.resize(m, (self.size_hw[1], self.size_hw[0]), interpolation=cv2.INTER_NEAREST)
            item["mask"] = torch.from_numpy(m.astype(np.int64))
        if self.load_keypoints:
            kp = np.zeros((17, 3), np.float32)
            if r.keypoints is not None:
                kp = np.asarray(r.keypoints, dtype=np.float32)
                src_h, src_w = _image_size(r.path)
                kp[:, 0] *= self.size_hw[1] / src_w
                kp[:, 1] *= self.size_hw[0] / src_h
            item["keypoints"] = torch.from_numpy(kp)
        return item


class TrackletTorchDataset(Dataset[dict[str, torch.Tensor]]):
    """Loads ``seq_len`` frames of each :class:`TrackletRecord` as a (T, 3, H, W) clip.

    Frames are taken evenly spaced over the tracklet (the test-time convention); a tracklet shorter
    than ``seq_len`` repeats its frames.
    """

    def __init__(
        self,
        records: Sequence[TrackletRecord],
        *,
        seq_len: int = 8,
        size_hw: tuple[int, int] = (256, 128),
        normalize: bool = True,
    ) -> None:
        if seq_len < 1:
            raise ValueError("seq_len must be at least 1")
        self.records = tuple(records)
        self.seq_len = seq_len
        self.size_hw = size_hw
        self.normalize = normalize

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        r = self.records[index]
        picks = np.linspace(0, len(r.paths) - 1, self.seq_len).round().astype(int)
        clip = torch.stack(
            [to_tensor(load_rgb(r.paths[i], self.size_hw), normalize=self.normalize) for i in picks]
        )
        return {
            "clip": clip,
            "pid": torch.tensor(r.pid, dtype=torch.int64),
            "camid": torch.tensor(r.camid, dtype=torch.int64),
            "clothes_id": torch.tensor(r.clothes_id, dtype=torch.int64),
            "index": torch.tensor(index, dtype=torch.int64),
        }


class RandomIdentitySampler(Sampler[int]):
    """Yields batches of ``num_ids × num_instances`` indices (the P×K sampling of triplet training).

    Args:
        pids: identity label of each record.
        num_instances: K, images per identity in a batch (sampled with replacement when fewer).
        seed: the sampler's order depends only on the seed and the epoch (:meth:`set_epoch`).
    """

    def __init__(self, pids: Sequence[int], *, num_instances: int = 4, seed: int = 0) -> None:
        if num_instances < 1:
            raise ValueError("num_instances must be at least 1")
        self.by_pid: dict[int, list[int]] = defaultdict(list)
        for i, p in enumerate(pids):
            self.by_pid[int(p)].append(i)
        self.num_instances = num_instances
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _order(self) -> list[int]:
        rng = np.random.default_rng([self.seed, self.epoch])
        chunks: list[list[int]] = []
        for pid in sorted(self.by_pid):
            idx = np.asarray(self.by_pid[pid])
            n = max(self.num_instances, (len(idx) // self.num_instances) * self.num_instances)
            picked = rng.choice(idx, size=n, replace=len(idx) < n)
            chunks.extend(
                picked[i : i + self.num_instances].tolist() for i in range(0, n, self.num_instances)
            )
        order = rng.permutation(len(chunks))
        return [i for c in order for i in chunks[c]]

    def __iter__(self) -> Iterator[int]:
        return iter(self._order())

    def __len__(self) -> int:
        return sum(
            max(self.num_instances, (len(v) // self.num_instances) * self.num_instances)
            for v in self.by_pid.values()
        )
