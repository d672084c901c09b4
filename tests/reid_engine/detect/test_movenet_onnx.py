"""MoveNet run by onnxruntime from the exported graph against the TF.js interpreter, on real frames."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from reid_engine.detect import MoveNetConfig, MoveNetDetector
from reid_engine.detect.movenet_onnx import is_current, onnx_path
from reid_engine.errors import ResourceMissingError
from reid_engine.types import Frame

# Stated tolerance: both runtimes compute the same float32 graph, so boxes and keypoints agree to
# well under a pixel and scores to 1e-3 (measured on these frames: 1e-4 px, 2e-6 in score).
PIXELS = 0.5
SCORE = 1e-3


def _exported(data_dir: Path) -> Path:
    path = onnx_path(data_dir, 512, 384, MoveNetConfig().max_people)
    if not is_current(path, MoveNetConfig()):
        pytest.fail(f"{path} is missing or stale: run scripts/setup.sh")
    return path


def test_onnxruntime_matches_the_interpreter_on_vtest_frames(
    data_dir: Path, vtest_frames: dict[int, Frame]
) -> None:
    _exported(data_dir)
    frames = [vtest_frames[i] for i in (0, 120, 250, 400, 600, 790)]
    reference = MoveNetDetector(MoveNetConfig(runtime="torch"), data_dir=data_dir, num_threads=1)
    fast = MoveNetDetector(MoveNetConfig(runtime="onnxruntime"), data_dir=data_dir, num_threads=1)
    people = 0
    for want, got in zip(reference.detect(frames), fast.detect(frames), strict=True):
        assert len(got) == len(want)
        assert got.keypoints is not None
        assert want.keypoints is not None
        np.testing.assert_allclose(got.boxes_xyxy, want.boxes_xyxy, atol=PIXELS)
        np.testing.assert_allclose(got.scores, want.scores, atol=SCORE)
        np.testing.assert_allclose(got.keypoints[..., :2], want.keypoints[..., :2], atol=PIXELS)
        np.testing.assert_allclose(got.keypoints[..., 2], want.keypoints[..., 2], atol=SCORE)
        people += len(want)
    assert people >= 18  # real people on every frame, not six empty lists
    assert fast.runtime.startswith("onnxruntime")
    assert reference.runtime == "torch"


def test_asking_for_onnxruntime_without_an_export_is_a_clear_error(
    data_dir: Path, vtest_frames: dict[int, Frame], tmp_path: Path
) -> None:
    shutil.copytree(data_dir / "models" / "movenet", tmp_path / "models" / "movenet")
    with pytest.raises(ResourceMissingError, match="export_movenet"):
        MoveNetDetector(MoveNetConfig(runtime="onnxruntime"), data_dir=tmp_path)
    # "auto" falls back to the interpreter and still finds people.
    auto = MoveNetDetector(MoveNetConfig(runtime="auto"), data_dir=tmp_path, num_threads=1)
    assert len(auto.detect([vtest_frames[250]])[0]) > 0
    assert auto.runtime == "torch"


def test_an_altered_export_is_refused(data_dir: Path, vtest_frames: dict[int, Frame], tmp_path: Path) -> None:
    source = _exported(data_dir)
    shutil.copytree(data_dir / "models" / "movenet", tmp_path / "models" / "movenet")
    dest = onnx_path(tmp_path, 512, 384, MoveNetConfig().max_people)
    dest.parent.mkdir(parents=True)
    shutil.copy(source.with_suffix(".json"), dest.with_suffix(".json"))
    data = bytearray(source.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dest.write_bytes(bytes(data))
    detector = MoveNetDetector(MoveNetConfig(runtime="onnxruntime"), data_dir=tmp_path)
    with pytest.raises(ResourceMissingError, match="stale"):
        detector.detect([vtest_frames[0]])
