"""``scripts/subject_eval.py --quick``: tiny SynthCC sets, the product's two embedders, end to end."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[3]
DATA_DIR = Path(os.environ.get("LONGVIEW_DATA_DIR", ROOT / "var")).resolve()


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not (DATA_DIR / "models" / "mobilenetv2_imagenet.pt").is_file():
        pytest.fail(f"{DATA_DIR}/models/mobilenetv2_imagenet.pt is missing: run `make setup` first")
    data = tmp_path_factory.mktemp("subject")
    cmd = [sys.executable, str(ROOT / "scripts" / "subject_eval.py"), "--quick", "--json", "--data", str(data),
           "--seeds", "5", "6", "--rounds", "2"]
    env = {**os.environ, "LONGVIEW_DATA_DIR": str(DATA_DIR)}
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    first = json.loads(done.stdout)
    # A second run reads every seed's result from the cache and reports the same.
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT, check=False)
    assert json.loads(again.stdout) == first
    return dict(first)


def test_the_report_has_every_round_ranking_and_seed(report: dict[str, Any]) -> None:
    assert report["seeds"] == [5, 6]
    assert sorted(report["per_seed"]) == ["5", "6"]
    assert [e.split("-")[0] for e in report["embedders"]] == ["imagenet", "reid"]
    rounds = report["summary"]["rounds"]
    assert [r["round"] for r in rounds] == [0, 1, 2]
    for r in rounds:
        assert set(r["scores"]) == {"appearance", "identity", "both"}
        for scores in r["scores"].values():
            assert set(scores) == {"single", "subject", "gain", "bar"}
            for method in ("single", "subject"):
                for metric in ("rank1", "mAP"):
                    s = scores[method][metric]
                    assert 0.0 <= s["min"] <= s["mean"] <= s["max"] <= 1.0
                    assert s["std"] >= 0.0


def test_nothing_is_judged_before_the_first_round_and_the_subject_is_then_the_query(
    report: dict[str, Any],
) -> None:
    for result in report["per_seed"].values():
        start = result["rounds"][0]
        assert (start["confirmed"], start["rejected"], start["outfits"]) == (0.0, 0.0, 1.0)
        for scores in start["scores"].values():
            assert scores["subject"] == scores["single"]


def test_judging_accumulates_and_both_rankings_score_the_same_queries(report: dict[str, Any]) -> None:
    judge = report["investigator"]
    for result in report["per_seed"].values():
        rounds = result["rounds"]
        for before, after in itertools.pairwise(rounds):
            assert after["confirmed"] >= before["confirmed"]
            assert after["rejected"] >= before["rejected"]
            # Per lane and round at most `confirm` confirmations and `reject` rejections.
            assert after["confirmed"] - before["confirmed"] <= 2 * judge["confirm"]
            assert after["rejected"] - before["rejected"] <= 2 * judge["reject"]
            assert after["confirmed"] > 0  # every identity has more views than the query
        for r in rounds:
            assert 0.0 <= r["confirmed_other_clothes"] <= r["confirmed"]
            for scores in r["scores"].values():
                assert scores["subject"]["num_queries"] == scores["single"]["num_queries"]
                assert scores["subject"]["num_skipped"] == scores["single"]["num_skipped"]
