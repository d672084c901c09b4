"""Scoring every camera of a scene set: per camera and pooled, from track files or the pipeline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from reid_engine.cli import main
from reid_engine.eval.mot import score_mot_many, tracklet_rows
from reid_engine.synth.scenes import SceneSetConfig, generate_scenes
from reid_engine.types import Tracklet


def _walk(track_id: int, x0: float, frames: range) -> list[list[float]]:
    return [[f, track_id, x0 + 5 * f, 50, 20, 60] for f in frames]


GT = np.asarray(_walk(1, 0, range(1, 21)) + _walk(2, 300, range(1, 21)), dtype=np.float64)


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenes") / "set"
    generate_scenes(out, SceneSetConfig(seed=3, cameras=2, duration=2.0, people=3, width=320, height=180))
    return out


def cli_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)


def test_overall_scores_pool_the_counts_of_every_sequence() -> None:
    frames = range(1, 21)
    scores = score_mot_many({"a": (GT, GT.copy(), frames), "b": (GT, np.zeros((0, 6)), frames)})
    assert scores["a"]["idf1"] == pytest.approx(1.0)
    assert scores["b"]["recall"] == 0.0
    overall = scores["overall"]
    assert overall["num_objects"] == 80
    assert overall["num_misses"] == 40
    assert overall["mota"] == pytest.approx(0.5)
    assert overall["recall"] == pytest.approx(0.5)
    assert overall["idf1"] == pytest.approx(2 * 40 / (80 + 40), abs=1e-4)
    with pytest.raises(ValueError, match="overall"):
        score_mot_many({"overall": (GT, GT, frames)})


def test_tracklet_rows_number_frames_from_one_with_width_and_height() -> None:
    t = Tracklet(
        track_id=4,
        frame_indices=np.array([0, 2], np.int64),
        timestamps_s=np.array([0.0, 0.2]),
        boxes_xyxy=np.array([[10, 20, 30, 60], [12, 20, 32, 61]], np.float32),
        scores=np.ones(2, np.float32),
        best_crops=(),
    )
    np.testing.assert_allclose(tracklet_rows([t]), [[1, 4, 10, 20, 20, 40], [3, 4, 12, 20, 20, 41]])
    assert tracklet_rows([]).shape == (0, 6)


def test_eval_mot_scores_every_camera_of_a_scene_set_from_track_files(
    scenes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Ground truth as the predictions: perfect on each camera and overall.
    for cam in ("cam0", "cam1"):
        shutil.copy(scenes / cam / "gt" / "gt.txt", tmp_path / f"{cam}.txt")
    out = cli_json(["eval-mot", "--scenes", str(scenes), "--pred-dir", str(tmp_path), "--json"], capsys)
    assert sorted(out["cameras"]) == ["cam0", "cam1"]
    assert out["tracks_from"] == "files"
    assert out["frames_evaluated"] == 2 * 10  # 2 s at 5 fps, per camera
    for scores in [*out["cameras"].values(), out["overall"]]:
        assert scores["idf1"] == pytest.approx(1.0)
        assert scores["mota"] == pytest.approx(1.0)
    total = sum(c["num_objects"] for c in out["cameras"].values())
    assert out["overall"]["num_objects"] == total > 0


def test_eval_mot_refuses_a_prediction_folder_missing_a_camera(
    scenes: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(scenes / "cam0" / "gt" / "gt.txt", tmp_path / "cam0.txt")
    assert main(["eval-mot", "--scenes", str(scenes), "--pred-dir", str(tmp_path)]) == 2
    assert "no tracks for cam1" in capsys.readouterr().err
    assert main(["eval-mot", "--scenes", str(scenes), "--gt", str(tmp_path / "cam0.txt")]) == 2
    assert main(["eval-mot", "--gt", str(tmp_path / "cam0.txt")]) == 2
    assert "give --gt, --pred and --video, or --scenes" in capsys.readouterr().err


def test_eval_mot_runs_the_pipeline_on_every_camera_when_no_tracks_are_given(
    scenes: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    torch.set_num_threads(1)
    out = cli_json(
        ["eval-mot", "--scenes", str(scenes), "--data-dir", str(data_dir), "--set", "detector.kind='hog'"],
        capsys,
    )
    assert out["tracks_from"] == "hog-people-svm"
    assert out["sample_fps"] == 5.0
    assert sorted(out["cameras"]) == ["cam0", "cam1"]
    assert out["overall"]["num_objects"] == sum(c["num_objects"] for c in out["cameras"].values())
    assert 0.0 <= out["overall"]["recall"] <= 1.0
