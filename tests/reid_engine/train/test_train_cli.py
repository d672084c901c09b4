"""``reid train`` then ``reid eval`` and ``reid export`` on a tiny SynthCC set, on the CPU."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from reid_engine.cli import main
from reid_engine.eval import evaluate
from reid_engine.eval.metrics import cosine_distance

TINY = """
seed = 3
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
modules = ["cal"]
classifier = "cosine"
cal = {{ start_epoch = 1 }}
[optim]
epochs = 2
warmup_epochs = 1
steps_per_epoch = 3
milestones = [1]
"""


@pytest.fixture(scope="module")
def tiny_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "images"
    argv = ["synth", "images", "--out", str(out), "--seed", "2", "--ids", "10", "--outfits", "2"]
    assert main([*argv, "--per-visit", "2", "--height", "64", "--width", "32", "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def config_file(tiny_set: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "tiny.toml"
    path.write_text(TINY.format(root=tiny_set), encoding="utf-8")
    return path


def test_train_eval_export_round_trip(
    config_file: Path, tiny_set: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    assert main(["train", "--config", str(config_file), "--out", str(out), "--quiet", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs"] == 2
    assert np.isfinite(summary["final_loss"])
    assert set(summary["scores"]) == {"general", "sc", "cc"}
    report = json.loads((out / "report.json").read_text())
    # CAL's adversarial term starts at epoch 1 (from 0), its clothes classifier at once.
    assert "cal" not in report["epochs"][0]["losses"]
    assert {"id", "triplet", "clothes", "cal"} <= set(report["epochs"][1]["losses"])

    feats = tmp_path / "feats.npz"
    argv = ["eval", "--checkpoint", str(out / "model.pt"), "--dataset", "synthcc", "--root", str(tiny_set)]
    assert main([*argv, "--save-features", str(feats), "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)["scores"]
    # The evaluation of the trained model gives what training reported at its end.
    assert scores["cc"]["rank1"] == pytest.approx(summary["scores"]["cc"]["rank1"])
    # Anyone can recompute the figures from the saved features.
    z = np.load(feats)
    dist = cosine_distance(z["query_features"], z["gallery_features"])
    again = evaluate(dist, z["query_pids"], z["gallery_pids"], z["query_camids"], z["gallery_camids"],
                     z["query_clothes_ids"], z["gallery_clothes_ids"], protocol="cc")
    assert again.rank(1) == pytest.approx(scores["cc"]["rank1"])
    assert again.mAP == pytest.approx(scores["cc"]["mAP"])

    assert main([*argv, "--protocol", "sc", "--rerank", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)["scores"]) == {"sc"}
    assert main([*argv, "--protocol", "cc", "--refine", "--json"]) == 0
    refined = json.loads(capsys.readouterr().out)
    assert refined["refine"] is True
    assert set(refined["scores"]) == {"cc"}
    assert main([*argv, "--rerank", "--refine"]) == 2
    assert "alternatives" in capsys.readouterr().err

    onnx = tmp_path / "model.onnx"
    assert main(["export", "--checkpoint", str(out / "model.pt"), "--out", str(onnx), "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["max_abs_diff"] < 1e-4
    assert onnx.stat().st_size == exported["bytes"]


def test_resume_continues_from_the_last_epoch(config_file: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(["train", "--config", str(config_file), "--out", str(out), "--quiet", "--set", "optim.epochs=1"]) == 0
    first = json.loads((out / "report.json").read_text())["epochs"]
    capsys.readouterr()
    # Without --resume a used folder is refused rather than overwritten.
    assert main(["train", "--config", str(config_file), "--out", str(out), "--quiet"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["train", "--config", str(config_file), "--out", str(out), "--quiet", "--resume"]) == 0
    epochs = json.loads((out / "report.json").read_text())["epochs"]
    assert len(epochs) == 2
    assert epochs[0] == first[0]


def test_bad_configs_fail_on_one_line(config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = [
        (["--set", "optim.learning_rate=0.1"], "unknown config key optim.learning_rate"),
        (["--set", "method.modules=['magic']"], "unknown method module"),
        (["--set", "data.ids_per_batch=50"], "fewer than data.ids_per_batch"),
        (["--set", "data.dataset=imagenet"], "unknown data set"),
    ]
    for i, (extra, message) in enumerate(cases):
        rc = main(["train", "--config", str(config_file), "--out", str(tmp_path / str(i)), "--quiet", *extra])
        err = capsys.readouterr().err
        assert rc == 2, err
        assert message in err
        assert err.count("\n") == 1
    rc = main(["eval", "--checkpoint", str(tmp_path / "none.pt"), "--dataset", "synthcc", "--root", str(tmp_path)])
    assert rc == 2
    assert "checkpoint not found" in capsys.readouterr().err
