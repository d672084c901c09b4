"""The load benchmark (``scripts/load.py``) at a tiny size: it starts its own stack and reports clean JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.stack import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(180)]


def test_load_benchmark_tiny_run_reports_every_figure_without_server_errors() -> None:
    args = [sys.executable, "scripts/load.py", "--json", "--clients", "5", "--search-clients", "2", "--rates", "2",
            "--seconds", "5", "--seed-seconds", "6", "--upload-seconds", "3", "--grace", "30"]
    done = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=170)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)

    assert report["machine"]["cores"] >= 1
    assert report["time"]
    assert report["seed"]["people"] > 0
    [row] = report["rates"]
    assert row["rate"] == 2
    assert row["searches"]["sent"] == 10
    assert row["searches"]["done"] + row["searches"]["failed"] + row["searches"]["unfinished"] == 10
    for figure in ("first_batch_ms", "final_ms"):
        assert set(row[figure]) == {"p50", "p95", "p99"}
    assert row["first_batch_ms"]["p50"] <= row["first_batch_ms"]["p99"]
    assert row["websocket"]["clients"] == 5
    assert row["websocket"]["received_per_client"]["min"] > 0, "no subscriber saw the upload's ingest"
    assert set(row["errors"]) == {"error_messages", "http_5xx", "dropped_connections", "refused_connections",
                                  "server_tracebacks"}
    assert report["server_errors"] == 0, row["errors"]
    assert report["lost_messages"] == 0
    assert report["audit_chain_ok"]
    assert "breaks_at" in report
