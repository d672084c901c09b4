"""``reid bench index`` runs end to end and reports what the issue asks for, as one JSON object."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_bench_index_reports_build_memory_latency_and_recall_as_json() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reid_engine.cli", "bench", "index", "--n", "20000", "--dim", "64", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert {"n", "dim", "k", "data", "index", "build_s", "memory", "search", "targets"} <= set(report)
    assert report["n"] == 20000
    assert report["dim"] == 64
    assert "synthetic" in report["data"]
    assert report["index"]["kind"] == "ivf_flat"
    assert {"rss_growth_mb", "peak_rss_mb", "index_estimate_mb"} <= set(report["memory"])
    assert set(report["search"]) == {"unfiltered", "filter_1pct", "filter_10pct"}
    for mode in report["search"].values():
        assert {"p50_ms", "p99_ms", "recall@10", "recall@100", "short_queries"} <= set(mode)
        assert mode["short_queries"] == 0
        assert mode["recall@100"] >= 0.9
    assert report["search"]["filter_1pct"]["allowed_fraction"] == 0.01


def test_bench_index_refuses_a_non_positive_size() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "reid_engine.cli", "bench", "index", "--n", "0", "--dim", "64"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
        check=False,
    )
    assert result.returncode == 2
    assert "must be positive" in result.stderr
