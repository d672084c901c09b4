"""Contract tests for every embedder, and checks that the ImageNet stand-in really is pretrained."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from reid_engine.config import config_from_dict
from reid_engine.embed import Embedder, EmbedderConfig, ModuleEmbedder, PooledBackbone, build_embedder
from reid_engine.errors import CheckpointError, ConfigError, ResourceMissingError
from reid_engine.models import MobileNetV2
from reid_engine.models.reid_net import ModelConfig, build_model
from reid_engine.train.checkpoint import save_model

logger = logging.getLogger(__name__)

DATA_DIR = Path(os.environ.get("LONGVIEW_DATA_DIR", Path(__file__).resolve().parents[3] / "var")).resolve()
VTEST = DATA_DIR / "data" / "vtest.avi"
WEIGHTS = DATA_DIR / "models" / "mobilenetv2_imagenet.pt"
EMBEDDER_CONFIGS = {"imagenet_mobilenetv2": EmbedderConfig(kind="imagenet_mobilenetv2", batch_size=4)}


def random_crops(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = [(40, 20), (256, 128), (300, 90), (17, 33), (128, 64), (1, 1), (500, 200)]
    return [rng.integers(0, 256, size=(*sizes[i % len(sizes)], 3), dtype=np.uint8) for i in range(n)]


@pytest.fixture(scope="module", params=[*sorted(EMBEDDER_CONFIGS), "reid"])
def embedder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    if not WEIGHTS.is_file():
        pytest.fail(f"{WEIGHTS} is missing: run `make setup` first")
    if request.param == "reid":
        # A model as `reid train` writes it (ImageNet-initialised, untrained head), loaded by path.
        path = tmp_path_factory.mktemp("reid") / "model.pt"
        net = build_model(ModelConfig(backbone="mobilenetv2", pretrained=True), data_dir=DATA_DIR)
        save_model(path, net.eval(), size_hw=(256, 128), meta={})
        config = EmbedderConfig(kind="reid", checkpoint=str(path), batch_size=4)
        return build_embedder(config, device=torch.device("cpu"), data_dir=DATA_DIR)
    return build_embedder(EMBEDDER_CONFIGS[request.param], device=torch.device("cpu"), data_dir=DATA_DIR)


def test_embedder_returns_unit_float32_rows_for_crops_of_any_size(embedder: Embedder) -> None:
    crops = random_crops(9)
    out = embedder.embed(crops)
    assert out.dtype == np.float32
    assert out.shape == (9, embedder.dim)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)


def test_embedder_returns_an_empty_matrix_for_no_crops(embedder: Embedder) -> None:
    out = embedder.embed([])
    assert out.shape == (0, embedder.dim)
    assert out.dtype == np.float32


def test_embedder_is_deterministic_and_independent_of_batching(embedder: Embedder) -> None:
    crops = random_crops(5, seed=3)
    first = embedder.embed(crops)
    np.testing.assert_array_equal(first, embedder.embed(crops))
    one_by_one = np.concatenate([embedder.embed([c]) for c in crops])
    np.testing.assert_allclose(one_by_one, first, atol=1e-4)


def test_embedder_rejects_crops_that_are_not_rgb_uint8(embedder: Embedder) -> None:
    with pytest.raises(ValueError, match="crop 1"):
        embedder.embed([random_crops(1)[0], np.zeros((10, 10), dtype=np.uint8)])
    with pytest.raises(ValueError, match="crop 0"):
        embedder.embed([np.zeros((10, 10, 3), dtype=np.float32)])
    with pytest.raises(ValueError, match="crop 0"):
        embedder.embed([np.zeros((0, 10, 3), dtype=np.uint8)])


def test_embedder_name_records_model_and_input_size(embedder: Embedder) -> None:
    assert "mobilenetv2" in embedder.name
    assert "256x128" in embedder.name


def test_build_embedder_reports_missing_weights_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ResourceMissingError, match="set-up") as info:
        build_embedder(EmbedderConfig(), device="cpu", data_dir=tmp_path)
    assert "\n" not in str(info.value)
    with pytest.raises(CheckpointError, match="not found"):
        build_embedder(EmbedderConfig(kind="reid", checkpoint="none.pt"), device="cpu", data_dir=tmp_path)
    with pytest.raises(ValueError, match="checkpoint is required"):
        EmbedderConfig(kind="reid")


def test_embedder_config_loads_from_a_table_and_rejects_bad_values() -> None:
    cfg = config_from_dict(EmbedderConfig, {"batch_size": 8})
    assert cfg.batch_size == 8
    assert cfg.kind == "imagenet_mobilenetv2"
    with pytest.raises(ConfigError):
        config_from_dict(EmbedderConfig, {"batch_size": 0})
    with pytest.raises(ConfigError):
        config_from_dict(EmbedderConfig, {"kind": "osnet"})
    with pytest.raises(ConfigError):
        config_from_dict(EmbedderConfig, {"weights_sha256": "abc"})


@pytest.fixture(scope="module")
def imagenet_embedder() -> Embedder:
    if not WEIGHTS.is_file():
        pytest.fail(f"{WEIGHTS} is missing: run `make setup` first")
    return build_embedder(EmbedderConfig(), device="cpu", data_dir=DATA_DIR)


@pytest.fixture(scope="module")
def walker_crops() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Crops of the same four walkers in vtest frames 250 and 252 (detector boxes, checked by eye)."""
    if not VTEST.is_file():
        pytest.fail(f"{VTEST} is missing: run `make setup` first")
    boxes = {
        250: [(378, 225, 421, 332), (543, 183, 579, 273), (191, 145, 227, 234), (592, 250, 639, 367)],
        252: [(370, 220, 413, 329), (534, 182, 568, 268), (185, 145, 220, 233), (584, 251, 629, 364)],
    }
    cap = cv2.VideoCapture(str(VTEST))
    crops: dict[int, list[np.ndarray]] = {}
    for index in range(253):
        ok, bgr = cap.read()
        assert ok
        if index in boxes:
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            crops[index] = [np.ascontiguousarray(rgb[y1:y2, x1:x2]) for x1, y1, x2, y2 in boxes[index]]
    cap.release()
    return crops[250], crops[252]


def test_pretrained_embedder_matches_the_same_walker_across_frames(
    imagenet_embedder: Embedder, walker_crops: tuple[list[np.ndarray], list[np.ndarray]]
) -> None:
    a, b = walker_crops
    sim = imagenet_embedder.embed(a) @ imagenet_embedder.embed(b).T
    logger.info("cosine similarity, walkers in frame 250 (rows) vs frame 252 (columns): %s", sim)
    assert (sim.argmax(axis=1) == np.arange(4)).all()
    assert (sim.argmax(axis=0) == np.arange(4)).all()
    same = np.diag(sim)
    different = sim[~np.eye(4, dtype=bool)]
    assert same.mean() > different.mean() + 0.05


def test_pretrained_features_differ_strongly_from_a_randomly_initialised_net(
    imagenet_embedder: Embedder, walker_crops: tuple[list[np.ndarray], list[np.ndarray]]
) -> None:
    crops = walker_crops[0] + walker_crops[1]
    pretrained = imagenet_embedder.embed(crops)
    torch.manual_seed(0)
    random_net = ModuleEmbedder(PooledBackbone(MobileNetV2()), device=torch.device("cpu")).embed(crops)
    # A random net maps every image to nearly the same direction; trained features spread out.
    spread_trained = 1.0 - float((pretrained @ pretrained.T).mean())
    spread_random = 1.0 - float((random_net @ random_net.T).mean())
    assert spread_trained > 5 * spread_random
