"""MTDF-PAttr module: attribute-guided split of identity and clothing features."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from reid_engine.attributes.schema import SCHEMA
from reid_engine.models.reid_net import ModelConfig, build_model
from reid_engine.train.modules.mtdf import MtdfConfig, MtdfModule, cross_correlation_penalty


def _batch(n: int = 8) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    labels = torch.stack([torch.randint(0, s, (n,), generator=gen) for s in SCHEMA.head_sizes], dim=1)
    mask = torch.ones(n, len(SCHEMA), dtype=torch.bool)
    mask[: n // 2, SCHEMA.position("upper_colour")] = False
    return {
        "image": torch.randn(n, 3, 64, 32, generator=gen),
        "pid": torch.arange(n) // 2,
        "clothes_id": torch.arange(n),
        "attr_labels": labels,
        "attr_mask": mask,
    }


def test_stable_attributes_train_the_identity_embedding_and_mutable_ones_only_the_clothing_branch() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(backbone="resnet18", pretrained=False)).train()
    module = MtdfModule(MtdfConfig(), model, num_clothes=8)
    batch = _batch()
    feats = model.features(batch["image"])
    terms = module.losses(model, feats, batch, epoch=0)
    assert set(terms) == {"mtdf_stable", "mtdf_mutable", "mtdf_outfit", "mtdf_decorrelation"}
    assert all(torch.isfinite(v) and v > 0 for v in terms.values())
    # The mutable-attribute loss reaches the neck only through the shared backbone, never the neck itself.
    terms["mtdf_mutable"].backward(retain_graph=True)
    assert model.neck.weight.grad is None or model.neck.weight.grad.abs().max() == 0
    assert model.backbone.conv1.weight.grad is not None
    model.zero_grad()
    terms["mtdf_stable"].backward()
    assert model.neck.weight.grad is not None
    assert model.neck.weight.grad.abs().max() > 0


def test_masked_attribute_labels_do_not_change_the_loss() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(backbone="resnet18", pretrained=False)).eval()
    module = MtdfModule(MtdfConfig(), model, num_clothes=8).eval()
    batch = _batch()
    with torch.no_grad():
        feats = model.features(batch["image"])
        before = module.losses(model, feats, batch, epoch=0)["mtdf_mutable"]
        changed = dict(batch)
        labels = batch["attr_labels"].clone()
        col = SCHEMA.position("upper_colour")
        labels[:4, col] = (labels[:4, col] + 1) % SCHEMA.head_sizes[col]  # only masked rows change
        changed["attr_labels"] = labels
        assert module.losses(model, feats, changed, epoch=0)["mtdf_mutable"] == pytest.approx(before.item())
        labels[4:, col] = (labels[4:, col] + 1) % SCHEMA.head_sizes[col]  # labelled rows change
        assert module.losses(model, feats, changed, epoch=0)["mtdf_mutable"] != pytest.approx(before.item())


def test_a_teacher_replaces_the_labels_with_soft_targets() -> None:
    torch.manual_seed(0)
    model = build_model(ModelConfig(backbone="resnet18", pretrained=False)).eval()
    width = sum(SCHEMA.head_sizes)

    def uniform_teacher(images: torch.Tensor) -> torch.Tensor:
        out = torch.empty(len(images), width)
        start = 0
        for s in SCHEMA.head_sizes:
            out[:, start : start + s] = 1.0 / s
            start += s
        return out

    module = MtdfModule(MtdfConfig(), model, num_clothes=8, teacher=uniform_teacher).eval()
    batch = _batch()
    batch["attr_mask"] = torch.zeros_like(batch["attr_mask"])  # no labels at all: the teacher still teaches
    with torch.no_grad():
        terms = module.losses(model, model.features(batch["image"]), batch, epoch=0)
    assert terms["mtdf_stable"] > 0
    assert terms["mtdf_mutable"] > 0


def test_cross_correlation_penalty_is_zero_for_independent_and_high_for_copied_features() -> None:
    gen = torch.Generator().manual_seed(1)
    a = torch.randn(4096, 4, generator=gen)
    b = torch.randn(4096, 3, generator=gen)
    assert cross_correlation_penalty(a, b) < 0.01
    assert cross_correlation_penalty(a, a[:, :3] * 2 + 1) > 0.2


def test_an_attribute_model_file_serves_as_the_teacher(tmp_path: Path) -> None:
    from reid_engine.attributes.model import build_attribute_net, save_attribute_model
    from reid_engine.train.methods import MethodConfig, TrainLabels, attribute_teacher, build_module

    torch.manual_seed(0)
    net = build_attribute_net(ModelConfig(backbone="resnet18", pretrained=False)).eval()
    path = tmp_path / "attributes.pt"
    save_attribute_model(path, net, size_hw=(32, 16), meta={})
    teacher = attribute_teacher(str(path))
    batch = _batch()
    probs = teacher(batch["image"])  # 64x32 images are resized to the teacher's 32x16
    assert probs.shape == (8, sum(SCHEMA.head_sizes))
    start = 0
    for size in SCHEMA.head_sizes:
        assert torch.allclose(probs[:, start : start + size].sum(1), torch.ones(8), atol=1e-4)
        start += size

    model = build_model(ModelConfig(backbone="resnet18", pretrained=False)).train()
    config = MethodConfig(modules=("mtdf",), mtdf=MtdfConfig(teacher=str(path)))
    labels = TrainLabels(num_pids=4, clothes_pid=torch.arange(8) // 2)
    module = build_module("mtdf", config, model, labels)
    batch["attr_mask"] = torch.zeros_like(batch["attr_mask"])
    terms = module.losses(model, model.features(batch["image"]), batch, epoch=0)  # type: ignore[operator]
    assert terms["mtdf_stable"] > 0
    assert torch.isfinite(terms["mtdf_mutable"])
