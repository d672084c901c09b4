"""The plain-torch MobileNetV2: key layout of the shipped ImageNet weights, shapes, eval determinism."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import torch

from reid_engine.models import MOBILENETV2_IMAGENET, MobileNetV2, fuse_conv_bn, load_pretrained

DATA_DIR = Path(os.environ.get("LONGVIEW_DATA_DIR", Path(__file__).resolve().parents[3] / "var")).resolve()
WEIGHTS = DATA_DIR / MOBILENETV2_IMAGENET.relpath


def test_mobilenetv2_reduces_space_32x_into_1280_channels() -> None:
    model = MobileNetV2().eval()
    with torch.inference_mode():
        out = model(torch.randn(2, 3, 256, 128))
        odd = model(torch.randn(1, 3, 100, 50))
    assert out.shape == (2, 1280, 8, 4)
    assert odd.shape == (1, 1280, 4, 2)
    assert torch.isfinite(out).all()


def test_mobilenetv2_is_deterministic_in_eval_mode() -> None:
    torch.manual_seed(0)
    model = MobileNetV2().eval()
    x = torch.randn(2, 3, 128, 64)
    with torch.inference_mode():
        assert torch.equal(model(x), model(x))


def test_mobilenetv2_state_dict_survives_a_save_load_round_trip() -> None:
    torch.manual_seed(0)
    source = MobileNetV2().eval()
    buffer = io.BytesIO()
    torch.save(source.state_dict(), buffer)
    buffer.seek(0)
    target = MobileNetV2().eval()
    target.load_state_dict(torch.load(buffer, weights_only=True))
    x = torch.randn(1, 3, 64, 32)
    with torch.inference_mode():
        assert torch.equal(source(x), target(x))


def test_mobilenetv2_loads_every_tensor_of_the_imagenet_weights() -> None:
    if not WEIGHTS.is_file():
        pytest.fail(f"{WEIGHTS} is missing: run `make setup` first")
    model = load_pretrained(MobileNetV2(), WEIGHTS, sha256=MOBILENETV2_IMAGENET.sha256)
    state = torch.load(WEIGHTS, map_location="cpu", weights_only=True)
    assert set(state) == set(model.state_dict())
    assert torch.equal(model.state_dict()["features.18.1.running_var"], state["features.18.1.running_var"])


def test_fusing_batchnorm_into_convolutions_keeps_the_outputs() -> None:
    torch.manual_seed(0)
    model = MobileNetV2()
    # Give the BatchNorms non-trivial statistics, as a trained model has.
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(4, 3, 64, 32))
    model.eval()
    fused = fuse_conv_bn(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    x = torch.randn(2, 3, 128, 64)
    with torch.inference_mode():
        torch.testing.assert_close(fused(x), model(x), rtol=1e-4, atol=1e-4)
