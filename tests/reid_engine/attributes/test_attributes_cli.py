"""``reid train-attributes`` on two tiny SynthCC sets with different schema views, then
``reid eval-attributes --save-predictions``, whose file the PAR metrics re-score to the same numbers."""

from __future__ import annotations

import argparse
import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from reid_engine.attributes.metrics import load_predictions, multi_hot_names, par_metrics, predict_multi_hot
from reid_engine.attributes.model import load_attribute_model
from reid_engine.attributes.schema import SCHEMA
from reid_engine.attributes.views import view_attributes
from reid_engine.cli import attributes_cmd
from reid_engine.cli import main as reid_main
from reid_engine.errors import ReidEngineError

TINY = """
seed = 1
threads = 1
height = 64
width = 32
batch_size = 8
calibration_fraction = 0.25

[[datasets]]
name = "a"
root = "{a}"
view = "pa100k-like"

[[datasets]]
name = "b"
root = "{b}"
view = "rap-like"

[model]
backbone = "resnet18"
pretrained = false

[optim]
epochs = 1
warmup_epochs = 0
steps_per_epoch = 3

[augment]
pad = 4
erase = 0.0

[distill]
start_epoch = 0
mutual_start_epoch = 0
"""


def run(argv: list[str]) -> int:
    """Parse and dispatch as the ``reid`` entry point does, over a parser of the attribute commands."""
    parser = argparse.ArgumentParser(prog="reid")
    attributes_cmd.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.handler(args))


@pytest.fixture(scope="module")
def tiny_sets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("par")
    out = []
    for name, seed in (("a", 5), ("b", 6)):
        root = base / name
        argv = ["synth", "images", "--out", str(root), "--seed", str(seed), "--ids", "8", "--outfits", "2"]
        assert reid_main([*argv, "--per-visit", "2", "--height", "64", "--width", "32", "--quiet"]) == 0
        out.append(root)
    return out[0], out[1]


@pytest.fixture(scope="module")
def trained(tiny_sets: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    base = tmp_path_factory.mktemp("run")
    config = base / "tiny.toml"
    config.write_text(TINY.format(a=tiny_sets[0], b=tiny_sets[1]), encoding="utf-8")
    out = base / "out"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert run(["train-attributes", "--config", str(config), "--out", str(out), "--quiet", "--json"]) == 0
    return out, json.loads(buffer.getvalue())


def test_train_attributes_writes_a_calibrated_model_and_a_report(trained: tuple[Path, dict]) -> None:
    out, summary = trained
    assert summary["epochs"] == 1
    # Distillation starts at epoch 0 here, so every term of MDFF-PAttr ran.
    assert set(summary["final_losses"]) == {"student", "teachers", "distill", "mutual"}
    assert all(np.isfinite(v) for v in summary["final_losses"].values())
    report = json.loads((out / "report.json").read_text())
    assert report["coverage"]["a"] == sorted(view_attributes("pa100k-like"))
    assert report["coverage"]["b"] == sorted(view_attributes("rap-like"))
    assert report["held_out_images"] > 0
    assert set(report["held_out"]) == {"a", "b"}
    model, size_hw, meta = load_attribute_model(out / "model.pt")
    assert size_hw == (64, 32)
    assert [d["view"] for d in meta["datasets"]] == ["pa100k-like", "rap-like"]
    temps = dict(zip(SCHEMA.names, model.temperatures.tolist(), strict=True))
    assert temps == pytest.approx(meta["calibration"]["temperatures"], abs=1e-3)


def test_eval_attributes_predictions_file_rescores_to_the_printed_metrics(
    trained: tuple[Path, dict], tiny_sets: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, _ = trained
    npz = tmp_path / "pred.npz"
    argv = ["eval-attributes", "--checkpoint", str(out / "model.pt"), "--dataset", "synthcc",
            "--root", str(tiny_sets[0]), "--view", "pa100k-like", "--json", "--save-predictions", str(npz)]
    assert run(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["split"] == "test"
    assert printed["items"] > 0
    assert set(printed["per_attribute_mA"]) == set(SCHEMA.names)
    assert 0.0 <= printed["ece"] <= 1.0

    saved = load_predictions(npz)
    assert saved.attribute_names == multi_hot_names()
    assert saved.probabilities.shape == (printed["items"], len(multi_hot_names()))
    # The view masks every slot of the attributes a pa100k-like set does not label.
    for j, name in enumerate(saved.attribute_names):
        labelled = name.split("=")[0] in view_attributes("pa100k-like")
        assert saved.label_mask[:, j].all() == labelled
        assert saved.label_mask[:, j].any() == labelled
    again = par_metrics(predict_multi_hot(saved.probabilities), saved.labels, saved.label_mask,
                        names=saved.attribute_names)
    for key in ("mA", "accuracy", "precision", "recall", "f1"):
        assert printed[key] == pytest.approx(getattr(again, key), abs=1e-9)


def test_train_attributes_refuses_a_non_empty_output_folder(trained: tuple[Path, dict], tmp_path: Path) -> None:
    out, _ = trained
    config = tmp_path / "c.toml"
    config.write_text('[[datasets]]\nname = "a"\nroot = "x"\n', encoding="utf-8")
    with pytest.raises(ReidEngineError, match="is not empty"):
        run(["train-attributes", "--config", str(config), "--out", str(out)])


def test_eval_attributes_rejects_a_reid_checkpoint(
    tiny_sets: tuple[Path, Path], tmp_path: Path
) -> None:
    junk = tmp_path / "junk.pt"
    torch.save({"format": "longview-reid-model/1"}, junk)
    argv = ["eval-attributes", "--checkpoint", str(junk), "--dataset", "synthcc", "--root", str(tiny_sets[0])]
    with pytest.raises(ReidEngineError, match="not a Longview attribute model"):
        run(argv)
