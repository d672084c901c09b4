"""``reid ingest``: a JSON summary on success, one line and exit code 2 on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import pytest

from reid_engine.mot import read_mot

REPO = Path(__file__).resolve().parents[3]


def _reid(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reid_engine.cli", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "LONGVIEW_DATA_DIR": str(data_dir)},
        timeout=300,
    )


@pytest.mark.slow
def test_ingest_json_summarises_every_person_found_and_writes_mot(
    clip_factory: Callable[..., Path], data_dir: Path, tmp_path: Path
) -> None:
    mot = tmp_path / "tracks.txt"
    sheet = tmp_path / "sheet.png"
    out = _reid(
        "ingest",
        str(clip_factory(0.0, 6.0)),
        "--json",
        "--mot",
        str(mot),
        "--sheet",
        str(sheet),
        data_dir=data_dir,
    )
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    rows = read_mot(mot)
    assert len(rows) == summary["mot_lines"] == sum(t["frames"] for t in summary["tracklets"])
    assert set(rows[:, 1].astype(int)) == {t["track_id"] for t in summary["tracklets"]}
    assert rows[:, 0].min() >= 1
    assert (rows[:, 4] > 0).all()
    assert (rows[:, 5] > 0).all()
    image = cv2.imread(str(sheet))
    assert image is not None
    assert image.shape[1] == 1600
    assert set(summary["stage_seconds"]) == {"decode", "gate", "detect", "track", "crops", "embed", "proxy"}
    assert summary["video"]["width"] == 768
    assert summary["frames_decoded"] >= 25  # 6 s sampled at 5 fps
    assert len(summary["tracklets"]) >= 2
    for t in summary["tracklets"]:
        assert 0 <= t["start_s"] <= t["end_s"] <= 6.1
        assert 1 <= t["best_crops"] <= 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "/nonexistent/video.mp4"], "no such file"),
        (["ingest", "{text}"], "not a video file"),
        (["ingest", "{text}", "--set", "colour=red"], "unknown config key colour"),
        (["ingest", "{text}", "--set", "sample_fps=-1"], "sample_fps must be positive"),
        (["ingest"], "the following arguments are required"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    args: list[str], message: str, tmp_path: Path, data_dir: Path
) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 10)
    out = _reid(*[a.replace("{text}", str(text)) for a in args], data_dir=data_dir)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert message in lines[0]


@pytest.mark.slow
def test_bench_ingest_reports_stages_and_the_ratio_to_decoding_alone(
    clip_factory: Callable[..., Path], data_dir: Path
) -> None:
    out = _reid(
        "bench", "ingest", str(clip_factory(0.0, 4.0)), "--json", "--set", "sample_fps=2", data_dir=data_dir
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["frames_processed"] == 8
    assert report["ratio_to_decode_only"] > 1
    assert report["realtime_factor"] == pytest.approx(4.0 / report["wall_s"], rel=0.05)
    assert set(report["ms_per_frame"]) == {"decode", "gate", "detect", "track", "crops", "embed", "proxy"}
    assert sum(report["ms_per_frame"].values()) <= report["ms_per_frame_total"] * 1.01
    decisions = report["frame_decisions"]
    assert sum(decisions.values()) == 8
    assert report["frames_detected_fraction"] == pytest.approx(decisions["detect"] / 8, abs=1e-3)
    assert report["detector_runtime"].startswith("onnxruntime")
    assert report["peak_rss_mb"] > 100
