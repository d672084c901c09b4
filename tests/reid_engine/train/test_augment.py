"""Batch augmentation keeps label maps and keypoints on the pixels they describe, and is seeded."""

from __future__ import annotations

import pytest
import torch

from reid_engine.train.augment import AugmentConfig, augment_batch


def _batch() -> dict[str, torch.Tensor]:
    # One bright pixel per image, labelled in the mask and marked by keypoint 5 (left shoulder).
    images = torch.zeros(6, 3, 32, 16)
    masks = torch.zeros(6, 32, 16, dtype=torch.int64)
    kps = torch.zeros(6, 17, 3)
    for i in range(6):
        y, x = 5 + i, 2 + i
        images[i, :, y, x] = 1.0
        masks[i, y, x] = 7
        kps[i, 5] = torch.tensor([x, y, 2.0])
        kps[i, 6] = torch.tensor([x + 1.0, y, 0.0])  # unlabelled: its coordinates must not matter
    return {"image": images, "mask": masks, "keypoints": kps, "pid": torch.arange(6)}


@pytest.mark.parametrize("config", [AugmentConfig(flip=1.0, pad=0, erase=0.0), AugmentConfig(flip=0.5, pad=4, erase=0.0)])
def test_flip_and_crop_move_mask_and_keypoints_with_the_pixels(config: AugmentConfig) -> None:
    out = augment_batch(_batch(), config, torch.Generator().manual_seed(3))
    for i in range(6):
        bright = (out["image"][i, 0] == 1.0).nonzero()
        labelled = (out["mask"][i] == 7).nonzero()
        if len(bright) == 0:  # shifted out of the frame by the crop
            assert len(labelled) == 0
            continue
        assert torch.equal(bright, labelled)
        y, x = bright[0].tolist()
        # After a flip the point is the right shoulder (index 6) and must carry the visibility.
        visible = out["keypoints"][i][out["keypoints"][i, :, 2] > 0]
        assert visible.shape[0] == 1
        assert visible[0, :2].tolist() == [float(x), float(y)]
    if config.flip == 1.0:
        assert (out["keypoints"][:, 6, 2] == 2).all()
    assert torch.equal(out["pid"], torch.arange(6))


def test_random_erasing_blanks_a_rectangle_and_is_reproducible() -> None:
    batch = {"image": torch.ones(8, 3, 32, 16), "pid": torch.zeros(8, dtype=torch.int64)}
    config = AugmentConfig(flip=0.0, pad=0, erase=1.0)
    a = augment_batch(batch, config, torch.Generator().manual_seed(0))
    b = augment_batch(batch, config, torch.Generator().manual_seed(0))
    assert torch.equal(a["image"], b["image"])
    erased = (a["image"][:, 0] == 0).flatten(1).sum(1)
    assert (erased > 0).all()
    assert (erased < 32 * 16).all()
    assert torch.equal(batch["image"], torch.ones(8, 3, 32, 16))  # the input is not modified


def test_bad_augment_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="probability"):
        AugmentConfig(flip=1.5)
    with pytest.raises(ValueError, match="erase_area"):
        AugmentConfig(erase_area=(0.5, 0.1))
