"""Scoring on the real labelled set, on hand-worked numbers, and ``reid eval-attributes --dataset real-labelled``."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pytest

from reid_engine.attributes.gate import load_gate
from reid_engine.attributes.real_eval import FoundCrops, save_crops
from reid_engine.attributes.real_labelled import RealLabelledTrack
from reid_engine.attributes.real_scoring import (
    balanced_accuracy,
    bootstrap_intervals,
    majority_class,
    score_attribute,
)
from reid_engine.cli import main as reid_main
from reid_engine.types import Crop
from tests.reid_engine.attributes.test_real_labelled import record, write_set


def test_balanced_accuracy_is_the_mean_recall_of_the_classes_present() -> None:
    truth = np.array([0, 0, 0, 0, 1, 1, 2])
    pred = np.array([0, 0, 0, 1, 1, 0, -1])  # class 0: 3/4, class 1: 1/2, class 2: 0/1 (no answer)
    assert balanced_accuracy(truth, pred) == pytest.approx((0.75 + 0.5 + 0.0) / 3)
    # Binary: (TPR + TNR) / 2, the label-based mA.
    assert balanced_accuracy(np.array([1, 1, 0, 0, 0]), np.array([1, 0, 0, 0, 1])) == pytest.approx((0.5 + 2 / 3) / 2)
    assert majority_class(truth) == 0
    assert majority_class(np.array([2, 1, 1, 2])) == 1  # a tie goes to the value first in the schema
    assert balanced_accuracy(truth, np.zeros_like(truth)) == pytest.approx(1 / 3)


def test_the_bootstrap_is_seeded_and_brackets_the_score() -> None:
    truth = np.array([0] * 10 + [1] * 10)
    pred = np.array([0] * 9 + [1] + [1] * 7 + [0] * 3)
    base = np.zeros_like(truth)
    (lo, hi), (mlo, mhi) = bootstrap_intervals(truth, pred, base, resamples=500, seed=3)
    assert ((lo, hi), (mlo, mhi)) == bootstrap_intervals(truth, pred, base, resamples=500, seed=3)
    assert balanced_accuracy(truth, pred) == pytest.approx(0.8)
    assert lo < 0.8 < hi
    assert mlo < 0.3 < mhi
    perfect = bootstrap_intervals(truth, truth, base, resamples=200)
    assert perfect[0] == (1.0, 1.0)
    assert perfect[1] == (0.5, 0.5)


def track(i: int, **labels: Any) -> RealLabelledTrack:
    cannot = frozenset(k for k, v in labels.items() if v == "cannot tell")
    return RealLabelledTrack(video="v.avi", track_id=i, frames=(0, 1), boxes=((0, (0.0, 0.0, 1.0, 1.0)),),
                             attributes=MappingProxyType({k: v for k, v in labels.items() if k not in cannot}),
                             cannot_tell=cannot, other=frozenset())


def colour(value: str) -> dict[str, dict[str, float]]:
    return {"upper_colour": {value: 0.9, "grey": 0.1} if value != "grey" else {"grey": 1.0}}


def test_cannot_tell_and_unfound_tracks_are_skipped_and_a_good_predictor_passes() -> None:
    tracks = [track(i, upper_colour="black") for i in range(8)] + [track(i, upper_colour="red") for i in range(8, 12)]
    tracks += [track(12, upper_colour="cannot tell"), track(13, upper_colour="blue")]
    preds: list[Any] = [colour("black")] * 8 + [colour("red")] * 3 + [colour("black"), colour("red"), None]
    s = score_attribute("upper_colour", tracks, preds, predicted=True, resamples=400)
    assert (s.n, s.cannot_tell, s.values) == (12, 1, {"black": 8, "red": 4})
    assert s.mA == pytest.approx((1.0 + 0.75) / 2)
    assert s.accuracy == pytest.approx(11 / 12)
    assert (s.baseline_mA, s.baseline_accuracy, s.majority) == (0.5, pytest.approx(8 / 12), "black")
    assert s.answered == 1.0
    assert s.ci is not None
    assert s.ci[0] > 0.5
    assert s.passed, s.reason


def test_a_predictor_no_better_than_the_majority_does_not_pass() -> None:
    tracks = [track(i, upper_colour="black") for i in range(10)] + [track(i, upper_colour="red") for i in range(10, 14)]
    preds: list[Any] = [colour("black")] * 14
    s = score_attribute("upper_colour", tracks, preds, predicted=True, resamples=200)
    assert s.mA == pytest.approx(0.5) == s.baseline_mA
    assert not s.passed
    assert "baseline" in s.reason


@pytest.mark.parametrize(
    ("labels", "reason"),
    [(["black"] * 5 + ["red"] * 4, "only 9 labelled tracks"), (["black"] * 12, "every labelled track is black")],
)
def test_too_few_tracks_or_a_single_value_do_not_pass(labels: list[str], reason: str) -> None:
    tracks = [track(i, upper_colour=v) for i, v in enumerate(labels)]
    preds: list[Any] = [colour(v) for v in labels]
    s = score_attribute("upper_colour", tracks, preds, predicted=True, resamples=200)
    assert s.mA == 1.0
    assert not s.passed
    assert reason in s.reason


def test_an_attribute_the_predictor_does_not_give_is_not_estimated() -> None:
    tracks = [track(i, gender="male" if i % 3 else "female") for i in range(12)]
    s = score_attribute("gender", tracks, [{}] * 12, predicted=False)
    assert s.mA is None
    assert s.baseline_mA == 0.5
    assert not s.passed
    assert s.reason == "the predictor does not estimate it"


RED, BLUE, GREY = (200, 30, 30), (30, 50, 190), (128, 128, 128)


def person(upper: tuple[int, int, int], lower: tuple[int, int, int]) -> Crop:
    img = np.full((128, 64, 3), GREY, np.uint8)
    img[20:70, 6:58] = upper
    img[70:124, 8:56] = lower
    return Crop(frame_index=0, pts_s=0.0, box_xyxy=np.zeros(4, np.float32), image=img, quality=1.0)


def run_cli(*argv: str) -> dict[str, Any]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert reid_main(["eval-attributes", *argv]) == 0
    return json.loads(out.getvalue())


def test_the_command_scores_the_colour_namer_from_saved_crops_and_writes_the_gate(tmp_path: Path) -> None:
    box = [(0, [0.0, 0.0, 10.0, 20.0])]
    colours = [("red", "blue", RED, BLUE)] * 6 + [("blue", "red", BLUE, RED)] * 6
    root = write_set(tmp_path / "set", [record(i, box, upper_colour=u, lower_colour=lo)
                                        for i, (u, lo, _, _) in enumerate(colours)])
    crops = tmp_path / "crops.npz"
    save_crops(crops, FoundCrops(crops=tuple((person(cu, cl),) * 2 for _, _, cu, cl in colours),
                                 pipeline={"settings_sha256": "abc"}))
    gate = tmp_path / "gate.json"
    out = run_cli("--dataset", "real-labelled", "--root", str(root), "--crops", str(crops),
                  "--resamples", "200", "--write-gate", str(gate), "--json")
    rows = {r["attribute"]: r for r in out["attributes"]}
    assert (out["predictor"], out["tracks"], out["found"], out["stale_pipeline"]) == ("colour-namer", 12, 12, [])
    assert rows["upper_colour"]["mA"] == 1.0
    assert rows["upper_colour"]["n"] == 12
    assert rows["upper_colour"]["baseline_mA"] == 0.5
    assert out["estimated"] == ["upper_colour", "lower_colour"]
    assert rows["gender"]["reason"] == "the predictor does not estimate it"
    loaded = load_gate(gate)
    assert loaded.estimated == ("upper_colour", "lower_colour")
    assert loaded.figures["upper_colour"]["n"] == 12
    assert "--crops" not in json.loads(gate.read_text())["command"]
    table = io.StringIO()
    with contextlib.redirect_stdout(table):
        assert reid_main(["eval-attributes", "--dataset", "real-labelled", "--root", str(root), "--crops", str(crops),
                          "--resamples", "200", "--table"]) == 0
    lines = table.getvalue().splitlines()
    assert len(lines) == 2 + len(rows)
    assert lines[2 + list(rows).index("upper_colour")].startswith("| upper_colour | 12 | 0 | 0 | red 6, blue 6 | 1.000 | 0.500 |")
    assert lines[2 + list(rows).index("gender")].endswith("| no: the predictor does not estimate it |")


def test_the_network_predictor_needs_a_checkpoint(capsys: pytest.CaptureFixture[str]) -> None:
    assert reid_main(["eval-attributes", "--dataset", "real-labelled", "--predictor", "network", "--json"]) == 2
    assert "needs --checkpoint" in capsys.readouterr().err


def test_the_shipped_gate_is_what_the_evaluation_wrote() -> None:
    gate = load_gate()
    assert gate.error == ""
    assert gate.predictor == "colour-namer"
    for name, row in gate.figures.items():
        assert row["passed"] == (name in gate.estimated)
        if row["passed"]:
            assert row["ci"][0] > row["baseline_mA"]
            assert row["n"] >= 10


def test_the_command_scores_an_attribute_network_on_every_labelled_attribute(tmp_path: Path) -> None:
    import torch

    from reid_engine.attributes.model import build_attribute_net, save_attribute_model
    from reid_engine.models.reid_net import ModelConfig

    torch.manual_seed(0)
    model = build_attribute_net(ModelConfig(backbone="resnet18", pretrained=False))
    checkpoint = tmp_path / "model.pt"
    save_attribute_model(checkpoint, model, size_hw=(64, 32), meta={})
    box = [(0, [0.0, 0.0, 10.0, 20.0])]
    root = write_set(tmp_path / "set", [record(i, box, gender="male" if i % 2 else "female") for i in range(4)])
    crops = tmp_path / "crops.npz"
    save_crops(crops, FoundCrops(crops=tuple((person(RED, BLUE),) for _ in range(4)), pipeline={}))
    out = run_cli("--dataset", "real-labelled", "--root", str(root), "--crops", str(crops), "--checkpoint",
                  str(checkpoint), "--resamples", "100", "--json")
    rows = {r["attribute"]: r for r in out["attributes"]}
    assert out["predictor"] == "network"
    assert all(r["predicted"] for r in rows.values())
    assert rows["gender"]["n"] == 4
    assert rows["gender"]["mA"] == 0.5  # one answer for four identical crops: right for one gender only
    assert rows["gender"]["reason"].startswith("only 4 labelled tracks")
    assert out["estimated"] == []
