"""MDFF-PAttr: masked losses, imbalance weights, distillation signal, calibration, schema views,
the network's output layout and its file format."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from reid_engine.attributes.calibration import (
    calibrate,
    expected_calibration_error,
    fit_temperature,
    negative_log_likelihood,
)
from reid_engine.attributes.mdff import (
    DistillConfig,
    MdffStep,
    imbalance_weights,
    positive_ratios,
    supervised_loss,
)
from reid_engine.attributes.metrics import heads_to_multi_hot
from reid_engine.attributes.model import (
    AttributeNet,
    build_attribute_net,
    load_attribute_model,
    logit_size,
    predict_tracklet,
    save_attribute_model,
    split_heads,
)
from reid_engine.attributes.schema import SCHEMA
from reid_engine.attributes.training import AttributeTrainConfig
from reid_engine.attributes.views import SHARED_CORE, apply_view, view_attributes
from reid_engine.config import load_config
from reid_engine.data.base import ImageRecord
from reid_engine.errors import CheckpointError, ConfigError
from reid_engine.models.reid_net import ModelConfig, build_model
from reid_engine.train.checkpoint import save_model

A = len(SCHEMA)
FULL = {
    "gender": "male", "age_group": "adult", "build": "slim", "height": "tall", "hair_length": "short",
    "hair_colour": "black", "glasses": True, "beard": False, "upper_type": "jacket", "sleeve_length": "long",
    "upper_colour": "red", "upper_pattern": "solid", "lower_type": "jeans", "lower_colour": "blue",
    "shoes_colour": "white", "backpack": True, "handbag": False, "shoulder_bag": False, "hat": True,
}


def _net(seed: int = 0) -> AttributeNet:
    torch.manual_seed(seed)
    return build_attribute_net(ModelConfig(backbone="resnet18", pretrained=False))


def _random_logits(n: int, gen: torch.Generator, scale: float = 1.0) -> list[torch.Tensor]:
    return [scale * torch.randn(n, logit_size(a), generator=gen) for a in SCHEMA.attributes]


def _random_labels(n: int, gen: torch.Generator) -> torch.Tensor:
    return torch.stack([torch.randint(0, s, (n,), generator=gen) for s in SCHEMA.head_sizes], dim=1)


def _pos(name: str) -> int:
    return SCHEMA.position(name)


# --- Masked losses and imbalance weights ------------------------------------------------------------


def test_supervised_loss_ignores_masked_labels_exactly() -> None:
    gen = torch.Generator().manual_seed(0)
    n = 12
    logits = _random_logits(n, gen, scale=3.0)
    labels = _random_labels(n, gen)
    mask = torch.rand(n, A, generator=gen) < 0.5
    ratios = torch.rand(A, generator=gen)
    loss = supervised_loss(logits, SCHEMA.names, labels, mask, ratios)

    sizes = torch.tensor(SCHEMA.head_sizes).expand(n, A)
    changed = torch.where(mask, labels, (labels + 1) % sizes)  # every masked label moves
    assert (changed[~mask] != labels[~mask]).all()
    assert torch.equal(supervised_loss(logits, SCHEMA.names, changed, mask, ratios), loss)

    # A labelled entry does count: flipping one changes the loss.
    i, j = map(int, mask.nonzero()[0])
    flipped = labels.clone()
    flipped[i, j] = (labels[i, j] + 1) % SCHEMA.head_sizes[j]
    assert not torch.equal(supervised_loss(logits, SCHEMA.names, flipped, mask, ratios), loss)


def test_supervised_loss_is_zero_with_a_gradient_when_nothing_is_labelled() -> None:
    gen = torch.Generator().manual_seed(1)
    logits = [z.requires_grad_() for z in _random_logits(4, gen)]
    loss = supervised_loss(logits, SCHEMA.names, _random_labels(4, gen), torch.zeros(4, A, dtype=torch.bool),
                           torch.full((A,), 0.5))
    assert float(loss.detach()) == 0.0
    loss.backward()
    assert all(float(z.grad.abs().sum()) == 0.0 for z in logits if z.grad is not None)


def test_positive_ratios_and_weights_follow_the_formula_on_a_hand_example() -> None:
    # Two attributes, five samples; the last sample's positives are masked out and must not count.
    labels = torch.tensor([[1, 0], [0, 0], [1, 1], [0, 0], [1, 1]])
    mask = torch.tensor([[1, 1], [1, 1], [1, 1], [1, 1], [0, 0]], dtype=torch.bool)
    ratios = positive_ratios(labels, mask)
    torch.testing.assert_close(ratios, torch.tensor([0.5, 0.25]))
    weights = imbalance_weights(labels, ratios)
    e = math.e
    expected = torch.tensor([
        [e ** (1 - 0.5), e**0.25],
        [e**0.5, e**0.25],
        [e ** (1 - 0.5), e ** (1 - 0.25)],
        [e**0.5, e**0.25],
        [e ** (1 - 0.5), e ** (1 - 0.25)],
    ])
    torch.testing.assert_close(weights, expected)
    # An attribute nobody labels gets the neutral ratio 0.5.
    assert float(positive_ratios(labels, torch.zeros_like(mask))[0]) == 0.5


def test_binary_loss_is_the_weighted_bce_of_the_single_logit() -> None:
    g = _pos("glasses")
    logits = [torch.zeros(2, logit_size(a)) for a in SCHEMA.attributes]
    logits[g] = torch.tensor([[2.0], [-1.0]])
    labels = torch.zeros(2, A, dtype=torch.int64)
    labels[0, g] = 1
    mask = torch.zeros(2, A, dtype=torch.bool)
    mask[:, g] = True
    ratios = torch.full((A,), 0.5)
    ratios[g] = 0.2
    loss = supervised_loss(logits, SCHEMA.names, labels, mask, ratios)
    # Sample 0: positive, -log σ(2) weighted exp(0.8); sample 1: negative, -log(1 - σ(-1)) weighted exp(0.2).
    bce_pos = math.log1p(math.exp(-2.0))
    bce_neg = math.log1p(math.exp(-1.0))
    expected = (math.exp(0.8) * bce_pos + math.exp(0.2) * bce_neg) / 2
    assert float(loss) == pytest.approx(expected, rel=1e-5)


# --- Distillation -----------------------------------------------------------------------------------


def _step(config: DistillConfig) -> tuple[MdffStep, AttributeNet]:
    model = _net()
    coverage = (view_attributes("pa100k-like"), view_attributes("rap-like"))
    return MdffStep(model, coverage, torch.full((A,), 0.3), config).train(), model


def _batch_from_a(n: int = 4) -> dict[str, torch.Tensor]:
    """A batch of data set 0 (pa100k-like): the colour attributes are unlabelled."""
    gen = torch.Generator().manual_seed(2)
    mask = torch.zeros(n, A, dtype=torch.bool)
    for name in view_attributes("pa100k-like"):
        mask[:, _pos(name)] = True
    return {
        "image": torch.randn(n, 3, 64, 32, generator=gen),
        "attr_labels": _random_labels(n, gen),
        "attr_mask": mask,
        "source": torch.zeros(n, dtype=torch.int64),
    }


def test_student_learns_an_attribute_its_data_set_does_not_label_from_the_other_teacher() -> None:
    step, model = _step(DistillConfig(start_epoch=1, mutual_start_epoch=1))
    # The teacher heads start near uniform; give the rap-like teacher an opinion on upper_colour.
    with torch.no_grad():
        step.teachers[1].linear["upper_colour"].weight.normal_(std=0.5)
    batch = _batch_from_a()
    terms = step(batch, 1)
    assert set(terms) == {"student", "teachers", "distill", "mutual"}
    head = model.heads.linear["upper_colour"]

    terms["student"].backward(retain_graph=True)
    assert head.weight.grad is None or float(head.weight.grad.abs().sum()) == 0.0  # no label, no signal
    model.zero_grad()
    terms["distill"].backward()
    assert head.weight.grad is not None
    assert float(head.weight.grad.abs().sum()) > 0.0


def test_rap_like_teacher_trains_only_on_its_own_images_and_covers_only_its_attributes() -> None:
    step, _ = _step(DistillConfig())
    assert set(step.teachers[1].names) == view_attributes("rap-like")  # type: ignore[union-attr]
    terms = step(_batch_from_a(), 0)
    terms["teachers"].backward()
    rap_only = step.teachers[1].linear["upper_colour"]  # type: ignore[index]
    shared = step.teachers[1].linear["gender"]  # type: ignore[index]
    # Every image comes from data set 0, so teacher 1 gets no supervised gradient at all.
    assert all(p.grad is None or float(p.grad.abs().sum()) == 0.0 for p in (*rap_only.parameters(),
                                                                         *shared.parameters()))
    assert step.teachers[0].linear["gender"].weight.grad is not None  # type: ignore[index]


def test_distillation_terms_start_after_their_warm_up() -> None:
    step, _ = _step(DistillConfig(start_epoch=1, mutual_start_epoch=2))
    batch = _batch_from_a()
    assert set(step(batch, 0)) == {"student", "teachers"}
    assert set(step(batch, 1)) == {"student", "teachers", "distill"}
    assert set(step(batch, 2)) == {"student", "teachers", "distill", "mutual"}
    plain, _ = _step(DistillConfig(student_weight=0.0, teacher_weight=0.0))
    assert len(plain.teachers) == 0
    assert set(plain(batch, 5)) == {"student"}


# --- Calibration ------------------------------------------------------------------------------------


def test_fit_temperature_recovers_the_temperature_of_over_confident_logits() -> None:
    gen = torch.Generator().manual_seed(3)
    z = torch.randn(4000, 4, generator=gen)
    targets = torch.multinomial(torch.softmax(z, dim=1), 1, generator=gen).squeeze(1)
    assert fit_temperature(3.0 * z, targets) == pytest.approx(3.0, rel=0.1)


def test_calibration_lowers_nll_and_ece_of_an_over_confident_model() -> None:
    gen = torch.Generator().manual_seed(4)
    n = 600
    true_logits = _random_logits(n, gen, scale=1.5)
    labels = torch.stack(
        [torch.multinomial(torch.softmax(torch.cat([torch.zeros_like(z), z], 1) if z.shape[1] == 1 else z, 1),
                           1, generator=gen).squeeze(1) for z in true_logits], dim=1)
    mask = torch.rand(n, A, generator=gen) < 0.8
    model = _net()
    report = calibrate(model, [4.0 * z for z in true_logits], labels, mask)
    assert report.nll_after < report.nll_before
    assert report.ece_after < report.ece_before
    assert all(t > 2.0 for t in report.temperatures.values())
    torch.testing.assert_close(model.temperatures, torch.tensor(list(report.temperatures.values())),
                               atol=1e-3, rtol=0)


def test_ece_and_nll_on_a_hand_example() -> None:
    # One binary attribute labelled on two images; every other attribute unlabelled.
    probs = np.full((2, sum(SCHEMA.head_sizes)), 0.5, np.float32)
    start = sum(SCHEMA.head_sizes[: _pos("hat")])
    probs[0, start : start + 2] = [0.1, 0.9]  # confident yes, label yes
    probs[1, start : start + 2] = [0.2, 0.8]  # confident yes, label no
    labels = np.zeros((2, A), np.int64)
    labels[0, _pos("hat")] = 1
    mask = np.zeros((2, A), bool)
    mask[:, _pos("hat")] = True
    # Bin of 0.8 (conf 0.8, wrong) and bin of 0.9 (conf 0.9, right): (|0 - 0.8| + |1 - 0.9|) / 2.
    assert expected_calibration_error(probs, labels, mask) == pytest.approx(0.45)
    assert negative_log_likelihood(probs, labels, mask) == pytest.approx((-math.log(0.9) - math.log(0.2)) / 2)


# --- Schema views -----------------------------------------------------------------------------------


def test_views_omit_exactly_the_intended_attributes() -> None:
    records = (
        ImageRecord(path=Path("x.jpg"), pid=0, camid=0, clothes_id=0, attributes=FULL),
        ImageRecord(path=Path("y.jpg"), pid=1, camid=0, clothes_id=1, attributes=None),
    )
    pa = apply_view(records, "pa100k-like")
    rap = apply_view(records, "rap-like")
    assert pa[0].attributes is not None
    assert rap[0].attributes is not None
    no_colours = {"hair_colour", "upper_colour", "lower_colour", "shoes_colour", "build", "hair_length", "beard"}
    no_carried = {"backpack", "handbag", "shoulder_bag", "hat", "glasses", "height", "upper_pattern"}
    assert set(pa[0].attributes) == set(SCHEMA.names) - no_colours
    assert set(rap[0].attributes) == set(SCHEMA.names) - no_carried
    assert set(pa[0].attributes) & set(rap[0].attributes) == set(SHARED_CORE)
    assert set(pa[0].attributes) | set(rap[0].attributes) == set(SCHEMA.names)
    assert all(pa[0].attributes[k] == FULL[k] for k in pa[0].attributes)
    assert pa[1].attributes is None
    assert apply_view(records, "full")[0].attributes == FULL
    assert records[0].attributes == FULL  # the originals are untouched
    enc = SCHEMA.encode(rap[0].attributes)
    assert {SCHEMA.names[i] for i in np.flatnonzero(~enc.mask)} == no_carried
    with pytest.raises(ValueError, match="unknown attribute view"):
        apply_view(records, "peta-like")


# --- The network ------------------------------------------------------------------------------------


def test_forward_returns_calibrated_per_head_probabilities_in_the_metrics_layout() -> None:
    model = _net().eval()
    images = torch.randn(3, 3, 64, 32, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        for head in model.heads.linear.values():
            torch.nn.init.normal_(head.weight, std=0.2)  # type: ignore[arg-type]
        probs = model(images)
        logits = model.logits(images)
    assert probs.shape == (3, sum(SCHEMA.head_sizes))
    assert probs.dtype == torch.float32
    for a, block, z in zip(SCHEMA.attributes, split_heads(probs), logits, strict=True):
        torch.testing.assert_close(block.sum(1), torch.ones(3))
        if a.kind == "binary":
            torch.testing.assert_close(block[:, 1], torch.sigmoid(z[:, 0]))  # [p(no), p(yes)]
    multi_hot = heads_to_multi_hot(probs.numpy())
    assert multi_hot.shape[1] == sum(logit_size(a) for a in SCHEMA.attributes)
    model.temperatures.fill_(4.0)
    with torch.no_grad():
        flatter = model(images)
    assert float(flatter.max()) < float(probs.max())


def test_predict_tracklet_is_the_renormalised_mean_over_crops() -> None:
    model = _net().eval()
    crops = torch.randn(5, 3, 64, 32, generator=torch.Generator().manual_seed(6))
    out = predict_tracklet(model, crops, batch_size=2)
    with torch.no_grad():
        expected = model(crops).mean(0)
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)
    for block in split_heads(out):
        assert float(block.sum()) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="crops"):
        predict_tracklet(model, crops[:0])


def test_save_load_round_trip_keeps_outputs_temperatures_and_meta(tmp_path: Path) -> None:
    model = _net().eval()
    model.temperatures.copy_(torch.linspace(0.5, 2.0, A))
    path = tmp_path / "model.pt"
    save_attribute_model(path, model, size_hw=(64, 32), meta={"datasets": ["a"]})
    loaded, size_hw, meta = load_attribute_model(path)
    images = torch.randn(2, 3, 64, 32, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        torch.testing.assert_close(loaded(images), model(images))
    torch.testing.assert_close(loaded.temperatures, model.temperatures)
    assert size_hw == (64, 32)
    assert meta == {"datasets": ["a"]}
    assert not loaded.training


def test_loading_a_bad_file_raises_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_attribute_model(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        load_attribute_model(junk)
    reid = tmp_path / "reid.pt"
    save_model(reid, build_model(ModelConfig(backbone="resnet18", pretrained=False)), size_hw=(64, 32), meta={})
    with pytest.raises(CheckpointError, match="not a Longview attribute model"):
        load_attribute_model(reid)
    good = tmp_path / "good.pt"
    save_attribute_model(good, _net(), size_hw=(64, 32), meta={})
    obj = torch.load(good, weights_only=True)
    obj["schema"] = obj["schema"][:-1]
    torch.save(obj, tmp_path / "schema.pt")
    with pytest.raises(CheckpointError, match="another attribute schema"):
        load_attribute_model(tmp_path / "schema.pt")
    obj = torch.load(good, weights_only=True)
    del obj["state_dict"]["heads.linear.hat.weight"]
    torch.save(obj, tmp_path / "weights.pt")
    with pytest.raises(CheckpointError, match="weights do not fit"):
        load_attribute_model(tmp_path / "weights.pt")


# --- Configuration ----------------------------------------------------------------------------------


def test_training_config_reads_datasets_and_rejects_bad_values(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        '[[datasets]]\nname = "a"\nroot = "x"\nview = "pa100k-like"\n'
        '[[datasets]]\nname = "b"\nroot = "y"\nview = "rap-like"\n'
        "[model]\nbackbone = 'resnet18'\npretrained = false\n",
        encoding="utf-8",
    )
    config = load_config(AttributeTrainConfig, path, ["distill.temperature=3", "batch_size=16"])
    assert [d.view for d in config.datasets] == ["pa100k-like", "rap-like"]
    assert config.distill.temperature == 3.0
    assert config.batch_size == 16
    with pytest.raises(ConfigError, match="peta-like"):
        load_config(AttributeTrainConfig, path, ["datasets=[{name='a', root='x', view='peta-like'}]"])
    with pytest.raises(ConfigError, match="unique"):
        load_config(AttributeTrainConfig, path, ["datasets=[{name='a', root='x'}, {name='a', root='y'}]"])
    with pytest.raises(ConfigError, match="unknown config key"):
        load_config(AttributeTrainConfig, path, ["distill.warmup=3"])
    with pytest.raises(ConfigError, match="mutual_start_epoch"):
        load_config(AttributeTrainConfig, path, ["distill.start_epoch=3", "distill.mutual_start_epoch=1"])
