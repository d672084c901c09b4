"""The data-set interface: records, relabelling, summaries, torch wrappers and the P×K sampler."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from reid_engine.data import ImageRecord, ImageReidDataset, TrackletRecord, VideoReidDataset, relabel
from reid_engine.data.torch_dataset import (
    ImageReidTorchDataset,
    RandomIdentitySampler,
    TrackletTorchDataset,
)


def _image(path: Path, colour: tuple[int, int, int]) -> Path:
    img = np.zeros((64, 32, 3), np.uint8)
    img[:] = colour
    cv2.imwrite(str(path), img)
    return path


def test_relabel_maps_labels_to_contiguous_ranges_independent_of_order(tmp_path: Path) -> None:
    recs = [
        ImageRecord(tmp_path / "a.png", pid=40, camid=0, clothes_id=7),
        ImageRecord(tmp_path / "b.png", pid=12, camid=1, clothes_id=3),
        ImageRecord(tmp_path / "c.png", pid=40, camid=1, clothes_id=9),
    ]
    out, pid_map, clothes_map = relabel(recs)
    assert pid_map == {12: 0, 40: 1}
    assert clothes_map == {3: 0, 7: 1, 9: 2}
    assert [r.pid for r in out] == [1, 0, 1]
    assert relabel(list(reversed(recs)))[1] == pid_map


def test_dataset_summary_counts_and_rejects_attributes_outside_the_schema(tmp_path: Path) -> None:
    rec = ImageRecord(tmp_path / "a.png", pid=1, camid=0, clothes_id=2, attributes={"gender": "male"})
    ds = ImageReidDataset("toy", train=(rec,), query=(rec,), gallery=(rec, rec))
    assert ds.summary()["gallery"] == {"items": 2, "ids": 1, "clothes": 1, "cameras": 1}
    assert ds.num_train_pids == 1
    bad = ImageRecord(tmp_path / "a.png", pid=1, camid=0, clothes_id=2, attributes={"gender": "robot"})
    with pytest.raises(ValueError, match="gender"):
        ImageReidDataset("toy", train=(bad,), query=(), gallery=())


def test_torch_dataset_loads_rgb_float_tensors_with_labels(tmp_path: Path) -> None:
    path = _image(tmp_path / "red.png", (0, 0, 255))  # BGR red on disk
    rec = ImageRecord(path, pid=3, camid=1, clothes_id=5, attributes={"hat": True})
    item = ImageReidTorchDataset([rec], size_hw=(32, 16), normalize=False)[0]
    assert item["image"].shape == (3, 32, 16)
    assert item["image"].dtype == torch.float32
    assert torch.allclose(item["image"][:, 0, 0], torch.tensor([1.0, 0.0, 0.0]))
    assert int(item["pid"]) == 3
    assert int(item["clothes_id"]) == 5
    assert bool(item["attr_mask"].sum() == 1)


def test_tracklet_dataset_returns_fixed_length_clips(tmp_path: Path) -> None:
    paths = tuple(_image(tmp_path / f"{i}.png", (i * 20, 0, 0)) for i in range(5))
    ds = TrackletTorchDataset(
        [TrackletRecord(paths, pid=0, camid=0, clothes_id=0)], seq_len=8, size_hw=(32, 16)
    )
    assert ds[0]["clip"].shape == (8, 3, 32, 16)
    video = VideoReidDataset("toy", train=ds.records, query=(), gallery=())
    assert video.relabelled_train()[0].pid == 0


def test_identity_sampler_yields_groups_of_k_images_of_one_identity() -> None:
    pids = [0] * 5 + [1] * 3 + [2] * 8
    sampler = RandomIdentitySampler(pids, num_instances=4, seed=1)
    order = list(sampler)
    assert len(order) == len(sampler)
    for start in range(0, len(order), 4):
        assert len({pids[i] for i in order[start : start + 4]}) == 1
    assert list(RandomIdentitySampler(pids, num_instances=4, seed=1)) == order
