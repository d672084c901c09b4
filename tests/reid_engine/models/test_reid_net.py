"""Contract tests over every ReID backbone: shapes, unit norm, determinism, freezing, save/load, ONNX parity."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from reid_engine.errors import CheckpointError, ReidEngineError
from reid_engine.models.export import check_parity, export_onnx
from reid_engine.models.reid_net import ModelConfig, build_model
from reid_engine.models.resnet import IBN, ResNet
from reid_engine.train.checkpoint import load_model, save_model

CONFIGS = {
    "resnet18": ModelConfig(backbone="resnet18", pretrained=False),
    "resnet18-ibn-gem-512": ModelConfig(backbone="resnet18", pretrained=False, ibn=True, pooling="gem", embed_dim=64),
    "resnet50-stride2": ModelConfig(backbone="resnet50", pretrained=False, last_stride=2),
    "mobilenetv2-imagenet": ModelConfig(backbone="mobilenetv2", pretrained=True),
}
HW = (64, 32)


@pytest.mark.parametrize("name", CONFIGS)
def test_every_backbone_embeds_to_unit_vectors_deterministically_in_eval(name: str, data_dir: Path) -> None:
    torch.manual_seed(0)
    model = build_model(CONFIGS[name], data_dir=data_dir).eval()
    x = torch.randn(3, 3, *HW)
    with torch.no_grad():
        a, b = model(x), model(x)
        feats = model.features(x)
    dim = CONFIGS[name].embed_dim or model.channels
    assert a.shape == (3, dim)
    assert a.dtype == torch.float32
    assert torch.isfinite(a).all()
    assert torch.allclose(a.norm(dim=1), torch.ones(3), atol=1e-5)
    assert torch.equal(a, b)
    assert feats.pooled.shape == feats.neck.shape == (3, dim)
    # Different images give different embeddings (the network is not constant).
    assert (a[0] - a[1]).abs().max() > 1e-4


def test_last_stride_one_doubles_the_final_feature_map() -> None:
    x = torch.randn(1, 3, 256, 128)
    with torch.no_grad():
        assert ResNet(18, last_stride=1).eval()(x).shape[-2:] == (16, 8)
        assert ResNet(18, last_stride=2).eval()(x).shape[-2:] == (8, 4)
        mnet = build_model(ModelConfig(backbone="mobilenetv2", pretrained=False, last_stride=1)).eval()
        assert mnet.features(x).fmap.shape[-2:] == (16, 8)


def test_ibn_normalises_half_the_channels_per_instance() -> None:
    ibn = IBN(8).eval()
    x = torch.randn(2, 8, 5, 5) * 7 + 3
    y = ibn(x)
    # The instance-normalised half has zero mean per image and channel, whatever the batch holds.
    assert torch.allclose(y[:, :4].mean(dim=(2, 3)), torch.zeros(2, 4), atol=1e-5)
    assert not torch.allclose(y[:, 4:].mean(dim=(2, 3)), torch.zeros(2, 4), atol=1e-2)
    assert ResNet(18, ibn=True).layer1[0].bn1.__class__ is IBN
    assert ResNet(18, ibn=True).layer4[0].bn1.__class__ is torch.nn.BatchNorm2d


def test_frozen_stages_keep_their_weights_and_statistics_while_training(data_dir: Path) -> None:
    config = ModelConfig(backbone="mobilenetv2", pretrained=True, frozen_stages=2)
    model = build_model(config, data_dir=data_dir).train()
    stem = model.backbone.features[0][1]
    before = (stem.running_mean.clone(), model.backbone.features[0][0].weight.clone())
    trainable_before = model.backbone.features[10].conv[0].weight.clone()
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    loss = model.features(torch.randn(4, 3, *HW)).neck.pow(2).sum()
    loss.backward()
    opt.step()
    assert torch.equal(stem.running_mean, before[0])
    assert torch.equal(model.backbone.features[0][0].weight, before[1])
    assert not torch.equal(model.backbone.features[10].conv[0].weight, trainable_before)


def test_bad_model_configs_are_refused() -> None:
    with pytest.raises(ValueError, match="no pretrained weights"):
        ModelConfig(backbone="resnet50", pretrained=True)
    with pytest.raises(ValueError, match="ibn"):
        ModelConfig(backbone="mobilenetv2", ibn=True)
    with pytest.raises(ValueError, match="unknown backbone"):
        ModelConfig(backbone="vgg16", pretrained=False)  # type: ignore[arg-type]


def test_saved_model_loads_back_with_identical_embeddings(tmp_path: Path) -> None:
    torch.manual_seed(1)
    model = build_model(CONFIGS["resnet18-ibn-gem-512"])
    # Make the BN statistics non-trivial so a lost buffer would show.
    model.train()(torch.randn(8, 3, *HW))
    model.eval()
    path = tmp_path / "model.pt"
    save_model(path, model, size_hw=HW, meta={"note": "x"})
    loaded, size_hw, meta = load_model(path)
    x = torch.randn(2, 3, *HW)
    with torch.no_grad():
        assert torch.equal(model(x), loaded(x))
    assert size_hw == HW
    assert meta == {"note": "x"}


def test_loading_a_damaged_or_foreign_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_model(bad)
    with pytest.raises(CheckpointError, match="not found"):
        load_model(tmp_path / "missing.pt")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(1)}, foreign)
    with pytest.raises(CheckpointError, match="not a Longview ReID model"):
        load_model(foreign)


@pytest.mark.parametrize("name", ["resnet18-ibn-gem-512", "mobilenetv2-imagenet"])
def test_onnx_export_matches_pytorch(name: str, tmp_path: Path, data_dir: Path) -> None:
    model = build_model(CONFIGS[name], data_dir=data_dir).eval()
    path = tmp_path / "model.onnx"
    export_onnx(model, path, size_hw=HW)
    report = check_parity(model, path, size_hw=HW, batch=3)
    assert report.max_abs_diff < 1e-4
    assert report.min_cosine > 0.9999


def test_parity_check_catches_a_model_that_differs(tmp_path: Path) -> None:
    model = build_model(CONFIGS["resnet18"]).eval()
    path = tmp_path / "model.onnx"
    export_onnx(model, path, size_hw=HW)
    other = build_model(CONFIGS["resnet18"]).eval()
    with torch.no_grad():
        other.neck.weight.mul_(3.0).add_(torch.randn_like(other.neck.weight))
    with pytest.raises(ReidEngineError, match="differs from PyTorch"):
        check_parity(other, path, size_hw=HW)
