"""IFD, MBNet and PGFL-KD: the module contract, their shared helpers, and a ``reid train`` with all three."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from reid_engine.cli import main
from reid_engine.config import config_from_dict
from reid_engine.errors import ConfigError
from reid_engine.models.reid_net import ModelConfig, ReidNet, build_model
from reid_engine.pose.regions import BodyRegions
from reid_engine.synth.painter import (
    ARMS,
    BACKGROUND,
    BAG,
    CLOTHING_LABELS,
    FACE,
    HAIR,
    LEGS,
    LOWER,
    OCCLUDER,
    SHOES,
    UPPER,
)
from reid_engine.train.methods import MethodConfig, TrainingMethod, TrainLabels, build_method
from reid_engine.train.modules.common import (
    keypoint_heatmaps,
    label_map_from_regions,
    mask_clothing,
    weighted_pool,
)
from reid_engine.train.modules.ifd import clothing_contrastive_loss
from reid_engine.train.modules.pgfl_kd import PgflKdConfig, PgflKdModule

H, W = 64, 32
TERMS = {
    "ifd": {"ifd_attention", "ifd_transfer", "ifd_bias", "ifd_contrast"},
    "mbnet": {"mbnet_unrelated", "mbnet_background", "mbnet_mask", "mbnet_transfer"},
    "pgfl_kd": {"pgfl_id", "pgfl_feature_kd", "pgfl_logit_kd"},
}
NEEDS = {"ifd": {"mask"}, "mbnet": {"mask"}, "pgfl_kd": {"keypoints"}}
# An upright person in a 64×32 crop, COCO order.
SKELETON = [(16, 8), (15, 7), (17, 7), (13, 8), (19, 8), (11, 16), (21, 16), (9, 24), (23, 24), (8, 32),
            (24, 32), (12, 36), (20, 36), (12, 46), (20, 46), (12, 58), (20, 58)]


def _batch(n: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    """Four identities in two outfits each, with label maps and keypoints of a roughly posed person."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.zeros(n, H, W, dtype=torch.int64)
    kps = torch.zeros(n, 17, 3)
    for i in range(n):
        dx = int(torch.randint(-3, 4, (1,), generator=gen))
        lab = labels[i]
        lab[2:6, 11 + dx : 21 + dx] = HAIR
        lab[6:14, 11 + dx : 21 + dx] = FACE
        lab[14:36, 8 + dx : 24 + dx] = UPPER
        lab[16:34, 4 + dx : 8 + dx] = ARMS
        lab[36:52, 9 + dx : 23 + dx] = LOWER
        lab[52:58, 10 + dx : 22 + dx] = LEGS
        lab[58:62, 9 + dx : 23 + dx] = SHOES
        if i % 3 == 0:
            lab[40:64, 0:12] = OCCLUDER
        for k, (x, y) in enumerate(SKELETON):
            kps[i, k] = torch.tensor([x + dx, y, 2.0])
        kps[i, 16, 2] = 0.0  # one ankle unlabelled
    return {
        "image": torch.randn(n, 3, H, W, generator=gen),
        "pid": torch.arange(n) // 2,
        "camid": torch.zeros(n, dtype=torch.int64),
        "clothes_id": torch.arange(n),
        "mask": labels,
        "keypoints": kps,
    }


def _setup(name: str, seed: int = 0) -> tuple[ReidNet, TrainingMethod]:
    torch.manual_seed(seed)
    model = build_model(ModelConfig(backbone="resnet18", pretrained=False))
    labels = TrainLabels(num_pids=4, clothes_pid=torch.arange(8) // 2)
    return model, build_method(MethodConfig(modules=(name,)), model, labels)


def _module_terms(model: ReidNet, method: TrainingMethod, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    feats = model.features(batch["image"])
    (module,) = method.extra.values()
    terms: dict[str, torch.Tensor] = module.losses(model, feats, batch, epoch=0)
    return terms


@pytest.mark.parametrize("name", sorted(TERMS))
def test_module_needs_only_what_it_reads(name: str) -> None:
    model, method = _setup(name)
    assert method.needs == NEEDS[name]
    batch = {k: v for k, v in _batch().items() if k not in ({"mask", "keypoints"} - NEEDS[name])}
    model.train()
    assert set(_module_terms(model, method, batch)) == TERMS[name]


@pytest.mark.parametrize("name", sorted(TERMS))
def test_every_term_is_finite_and_positive_and_reaches_the_backbone_stem(name: str) -> None:
    model, method = _setup(name)
    model.train()
    terms = _module_terms(model, method, _batch())
    assert set(terms) == TERMS[name]
    for key, value in terms.items():
        assert value.dim() == 0
        assert torch.isfinite(value), key
        assert value.item() > 0, key
    torch.stack(list(terms.values())).sum().backward()
    grad = model.backbone.conv1.weight.grad
    assert grad is not None
    assert grad.abs().sum() > 0


@pytest.mark.parametrize("name", sorted(TERMS))
def test_the_inference_network_is_the_same_function_with_or_without_the_module(name: str) -> None:
    torch.manual_seed(1)
    model = build_model(ModelConfig(backbone="resnet18", pretrained=False)).eval()
    images = _batch()["image"]
    before = model(images)
    names = [n for n, _ in model.named_parameters()]
    method = build_method(MethodConfig(modules=(name,)), model, TrainLabels(num_pids=4, clothes_pid=torch.arange(8) // 2))
    assert [n for n, _ in model.named_parameters()] == names
    model_params = {id(p) for p in model.parameters()}
    own = list(method.extra.parameters())
    assert own, "the module has heads of its own"
    assert not model_params & {id(p) for p in own}
    assert torch.equal(model(images), before)
    # Auxiliary streams run the shared backbone but must not move the statistics inference uses.
    model.train()
    feats = model.features(images)
    buffers = {k: v.clone() for k, v in model.state_dict().items()}
    (module,) = method.extra.values()
    module.losses(model, feats, _batch(), epoch=0)
    for key, value in model.state_dict().items():
        assert torch.equal(value, buffers[key]), key


@pytest.mark.parametrize("name", sorted(TERMS))
def test_a_few_steps_on_one_batch_lower_the_module_loss(name: str) -> None:
    model, method = _setup(name)
    model.train()
    batch = _batch()
    params = list(model.parameters()) + list(method.extra.parameters())
    # A small step: the cosine classifiers start with tiny weights, whose direction a large Adam step
    # would scramble.
    optimizer = torch.optim.Adam(params, lr=1e-4)
    totals = []
    for _ in range(4):
        total = torch.stack(list(_module_terms(model, method, batch).values())).sum()
        optimizer.zero_grad()
        total.backward()
        optimizer.step()
        totals.append(total.item())
    assert totals[-1] < 0.75 * totals[0], totals


def test_clothing_masking_zeroes_exactly_the_clothing_pixels() -> None:
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(2, 3, 16, 8, generator=gen) + 3.0  # no pixel is 0 by chance
    labels = torch.randint(0, 12, (2, 16, 8), generator=gen)
    out = mask_clothing(images, labels)
    clothing = torch.isin(labels, torch.tensor(CLOTHING_LABELS))
    assert clothing.any()
    assert (~clothing).any()
    assert (out.permute(0, 2, 3, 1)[clothing] == 0).all()
    assert torch.equal(out.permute(0, 2, 3, 1)[~clothing], images.permute(0, 2, 3, 1)[~clothing])
    # Hair, face, arms, legs and the background survive; hat, garments, shoes and bag go.
    assert set(CLOTHING_LABELS) == {1, UPPER, LOWER, SHOES, BAG}


def test_heatmaps_peak_at_the_keypoints_and_are_zero_for_unlabelled_ones() -> None:
    kps = torch.tensor([[[5.0, 9.0, 2.0], [30.0, 60.0, 2.0], [12.0, 20.0, 0.0], [12.0, 20.0, 1.0],
                         [-4.0, 20.0, 2.0]]])
    heat = keypoint_heatmaps(kps, (H, W), (8, 4), sigma=1.0, min_visibility=2.0)
    assert heat.shape == (1, 5, 8, 4)
    for k, (x, y) in ((0, (5, 9)), (1, (30, 60))):
        cell = int(heat[0, k].argmax())
        assert divmod(cell, 4) == (y * 8 // H, x * 4 // W)
        assert 0.5 < heat[0, k].max() <= 1.0
    # Unlabelled, below the visibility threshold, and pushed out of the crop: nothing.
    assert heat[0, 2:].abs().sum() == 0
    # A lower threshold (detector scores) admits the hidden point.
    assert keypoint_heatmaps(kps, (H, W), (8, 4), min_visibility=0.5)[0, 3].max() > 0.5


def test_weighted_pool_averages_over_the_weighted_cells_only() -> None:
    fmap = torch.arange(8.0).reshape(1, 2, 2, 2)  # channel 0: 0 1 2 3, channel 1: 4 5 6 7
    weights = torch.tensor([[[[1.0, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, 0.0]]]])
    pooled = weighted_pool(fmap, weights)
    assert torch.allclose(pooled[0, 0], torch.tensor([1.5, 5.5]))
    assert torch.equal(pooled[0, 1], torch.zeros(2))


def test_clothing_contrastive_loss_uses_the_other_outfit_and_the_look_alike() -> None:
    # Identity 0 in outfits 0 and 1, identity 1 in outfits 2 and 3 (unit 2-D features).
    angles = torch.tensor([0.0, 0.6, 1.5, 3.0])
    feats = torch.stack([angles.cos(), angles.sin()], dim=1)
    pids = torch.tensor([0, 0, 1, 1])
    clothes = torch.tensor([0, 1, 2, 3])
    # Outfit 0 looks like outfit 3 and outfit 1 like outfit 2.
    colours = torch.tensor([[1.0], [0.0], [0.1], [0.9]])
    dist = 1 - torch.cos(angles[:, None] - angles[None, :])
    margin = 0.5
    expected = torch.stack([
        torch.relu(dist[0, 1] - dist[0, 3] + margin),
        torch.relu(dist[1, 0] - dist[1, 2] + margin),
        torch.relu(dist[2, 3] - dist[2, 1] + margin),
        torch.relu(dist[3, 2] - dist[3, 0] + margin),
    ]).mean()
    loss = clothing_contrastive_loss(feats, pids, clothes, colours, margin)
    assert loss.item() == pytest.approx(expected.item(), abs=1e-6)
    # Without a change of clothes inside an identity there is no clothes-changing pair.
    assert clothing_contrastive_loss(feats, pids, torch.tensor([0, 0, 2, 2]), colours, margin).item() == 0.0


def test_pose_guided_branches_pool_where_the_visible_parts_are() -> None:
    model = build_model(ModelConfig(backbone="resnet18", pretrained=False)).eval()
    module = PgflKdModule(PgflKdConfig(sigma=0.5), model, num_pids=4)
    # Only the head is visible; it sits in the top row of the 4×2 feature map of a 64×32 crop.
    kps = torch.tensor([[x, y, 2.0 if k < 5 else 0.0] for k, (x, y) in enumerate(SKELETON)])[None]
    c = model.channels
    fmap = torch.zeros(1, c, 4, 2)
    fmap[0, : c // 2, 0] = 1.0  # "head" channels fire in the top row
    fmap[0, c // 2 :, 1:] = 1.0  # the others below it
    feb, sab, seen = module.branches(fmap, kps, (H, W))
    assert seen.tolist() == [[True, False, False, False]]
    assert sab[0, 1:].abs().sum() == 0
    # The head group is pooled over the head's heatmap, which lies mostly on the top row.
    assert 0.8 < sab[0, 0].min() <= sab[0, 0].max() <= 1.0
    # The foreground branch leans towards the visible head, unlike average pooling.
    assert feb[0, : c // 2].mean() > 3 * feb[0, c // 2 :].mean()


def test_label_maps_from_keypoint_regions_mask_garments_and_keep_the_head() -> None:
    head = np.zeros((6, 4), bool)
    head[0:2, 1:3] = True
    upper = np.zeros((6, 4), bool)
    upper[2:4] = True
    lower = np.zeros((6, 4), bool)
    lower[4:6, 1:3] = True
    regions = BodyRegions(head=head, upper=upper, lower=lower, person=head | upper | lower, from_keypoints=True)
    labels = label_map_from_regions(regions)
    assert labels[0, 1] == FACE
    assert labels[3, 0] == UPPER
    assert labels[5, 2] == LOWER
    assert labels[5, 0] == BACKGROUND
    masked = mask_clothing(torch.ones(1, 3, 6, 4), torch.from_numpy(labels.astype(np.int64))[None])
    assert torch.equal(masked[0, 0] == 0, torch.from_numpy(upper | lower))


def test_module_configs_reject_unknown_keys_and_bad_values() -> None:
    cfg = config_from_dict(MethodConfig, {"modules": ["ifd"], "ifd": {"contrast_margin": 0.5}})
    assert cfg.ifd.contrast_margin == 0.5
    with pytest.raises(ConfigError, match=r"unknown config key method\.mbnet\.fusion"):
        config_from_dict(MethodConfig, {"mbnet": {"fusion": 1}}, where="method.")
    with pytest.raises(ConfigError, match="temperature"):
        config_from_dict(MethodConfig, {"pgfl_kd": {"temperature": 0}})
    with pytest.raises(ConfigError, match="non-negative"):
        config_from_dict(MethodConfig, {"ifd": {"bias_weight": -1}})


TINY = """
seed = 5
threads = 1
[data]
dataset = "synthcc"
root = "{root}"
height = 64
width = 32
ids_per_batch = 4
instances = 2
[model]
backbone = "resnet18"
pretrained = false
[method]
modules = ["cal", "ifd", "mbnet", "pgfl_kd", "mtdf"]
pgfl_kd = {{ start_epoch = 1 }}
[optim]
epochs = 2
warmup_epochs = 1
steps_per_epoch = 2
milestones = [1]
"""


def test_training_with_every_module_together_then_evaluating(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "synth"
    argv = ["synth", "images", "--out", str(root), "--seed", "4", "--ids", "8", "--outfits", "2"]
    assert main([*argv, "--per-visit", "2", "--height", str(H), "--width", str(W), "--quiet"]) == 0
    config = tmp_path / "modules.toml"
    config.write_text(TINY.format(root=root), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--config", str(config), "--out", str(out), "--quiet", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert np.isfinite(summary["final_loss"])
    epochs = json.loads((out / "report.json").read_text())["epochs"]
    first, second = set(epochs[0]["losses"]), set(epochs[1]["losses"])
    assert TERMS["ifd"] | TERMS["mbnet"] | {"pgfl_id", "id", "triplet", "clothes", "mtdf_stable", "mtdf_mutable"} <= first
    assert "pgfl_logit_kd" not in first
    assert "pgfl_logit_kd" in second
    # What ships is the plain network: evaluation needs neither masks nor keypoints.
    argv = ["eval", "--checkpoint", str(out / "model.pt"), "--dataset", "synthcc", "--root", str(root), "--json"]
    assert main(argv) == 0
    scores = json.loads(capsys.readouterr().out)["scores"]
    assert scores["cc"]["rank1"] == pytest.approx(summary["scores"]["cc"]["rank1"])
