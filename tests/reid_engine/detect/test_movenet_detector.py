"""MoveNet MultiPose on real footage: people, keypoints in the right places, and its model files."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from reid_engine.config import config_from_dict
from reid_engine.detect import (
    DetectorConfig,
    MoveNetConfig,
    MoveNetDetector,
    build_detector,
)
from reid_engine.detect.movenet_assets import extract_movenet
from reid_engine.errors import ConfigError, ResourceMissingError
from reid_engine.types import Detections, Frame

MODEL_FILES = ("movenet-multipose.json", "movenet-multipose.bin")
NOSE_EYES, HIPS, ANKLES = [0, 1, 2], [11, 12], [15, 16]
CheckDetections = Callable[..., None]  # the ``check_detections`` fixture


@pytest.fixture(scope="module")
def detector(data_dir: Path) -> MoveNetDetector:
    built = build_detector(DetectorConfig(kind="movenet", num_threads=1), data_dir=data_dir)
    assert isinstance(built, MoveNetDetector)
    return built


@pytest.fixture(scope="module")
def frames(vtest_frames: dict[int, Frame]) -> list[Frame]:
    return [vtest_frames[i] for i in (0, 250, 600)]


@pytest.fixture(scope="module")
def results(detector: MoveNetDetector, frames: list[Frame]) -> list[Detections]:
    return detector.detect(frames)


def test_movenet_finds_the_walkers_in_real_vtest_frames(
    results: list[Detections], frames: list[Frame], check_detections: CheckDetections
) -> None:
    for dets, frame in zip(results, frames, strict=True):
        check_detections(dets, frame, keypoints=True)
    confident = [int((d.scores >= 0.5).sum()) for d in results]
    # By eye: frame 0 shows 3 walkers; frames 250 and 600 show 8 and 6 (all clearly visible).
    assert confident[0] >= 3
    assert confident[1] >= 5
    assert confident[2] >= 5
    heights = np.concatenate([d.boxes_xyxy[:, 3] - d.boxes_xyxy[:, 1] for d in results])
    assert ((heights > 40) & (heights < 250)).all()


def test_visible_keypoints_lie_inside_their_person_box(
    detector: MoveNetDetector, results: list[Detections]
) -> None:
    for dets in results:
        assert dets.keypoints is not None
        for box, kps in zip(dets.boxes_xyxy, dets.keypoints, strict=True):
            seen = kps[kps[:, 2] >= detector.config.min_keypoint_score]
            assert len(seen) >= 5
            assert (seen[:, 0] >= box[0] - 0.5).all()
            assert (seen[:, 0] <= box[2] + 0.5).all()
            assert (seen[:, 1] >= box[1] - 0.5).all()
            assert (seen[:, 1] <= box[3] + 0.5).all()


def test_upright_people_have_head_above_hips_above_ankles(results: list[Detections]) -> None:
    checked = 0
    for dets in results:
        assert dets.keypoints is not None
        for score, kps in zip(dets.scores, dets.keypoints, strict=True):
            needed = NOSE_EYES + HIPS + ANKLES
            if score < 0.5 or (kps[needed, 2] < 0.3).any():
                continue
            head, hips, ankles = (kps[group, 1].mean() for group in (NOSE_EYES, HIPS, ANKLES))
            assert head < hips < ankles
            checked += 1
    assert checked >= 8


def test_movenet_gives_a_frame_in_a_batch_what_it_gives_the_frame_alone(
    detector: MoveNetDetector, frames: list[Frame], results: list[Detections]
) -> None:
    # ``results`` came from one batch of all frames; frame 250 again, on its own, must match it.
    (single,) = detector.detect([frames[1]])
    np.testing.assert_array_equal(results[1].boxes_xyxy, single.boxes_xyxy)
    np.testing.assert_array_equal(results[1].scores, single.scores)
    np.testing.assert_array_equal(results[1].keypoints, single.keypoints)


def test_movenet_maps_a_portrait_crop_back_to_frame_pixels(
    detector: MoveNetDetector,
    frames: list[Frame],
    results: list[Detections],
    check_detections: CheckDetections,
) -> None:
    # The right third of frame 600 as its own (portrait) frame: letterboxed differently, the people
    # wholly inside it must come back at the same places, shifted by the crop's offset.
    x0 = 512
    crop = Frame(index=600, pts_s=60.0, image=np.ascontiguousarray(frames[2].image[:, x0:]))
    (dets,) = detector.detect([crop])
    check_detections(dets, crop, keypoints=True)
    full = results[2]
    inside = full.boxes_xyxy[(full.boxes_xyxy[:, 0] > x0 + 5) & (full.scores >= 0.5)]
    assert len(inside) >= 2
    shifted = dets.boxes_xyxy + np.array([x0, 0, x0, 0], dtype=np.float32)
    for box in inside:
        inter_w = np.clip(np.minimum(shifted[:, 2], box[2]) - np.maximum(shifted[:, 0], box[0]), 0, None)
        inter_h = np.clip(np.minimum(shifted[:, 3], box[3]) - np.maximum(shifted[:, 1], box[1]), 0, None)
        inter = inter_w * inter_h
        areas = (shifted[:, 2] - shifted[:, 0]) * (shifted[:, 3] - shifted[:, 1])
        iou = inter / (areas + (box[2] - box[0]) * (box[3] - box[1]) - inter)
        assert iou.max() > 0.6


def test_the_graphs_own_six_people_find_no_more_than_the_default(
    data_dir: Path, frames: list[Frame], results: list[Detections], check_detections: CheckDetections
) -> None:
    six = MoveNetDetector(MoveNetConfig(max_people=6), data_dir=data_dir, num_threads=1)
    (dets,) = six.detect(frames[1:2])
    check_detections(dets, frames[1], keypoints=True)
    assert len(dets) <= 6
    assert (dets.scores >= 0.5).sum() <= (results[1].scores >= 0.5).sum()
    # Frame 250 holds 7 walkers; the published graph's 6 slots cannot report them all.
    assert (results[1].scores >= 0.5).sum() >= 7


def test_missing_or_corrupt_model_files_raise_resource_missing(tmp_path: Path) -> None:
    config = DetectorConfig(kind="movenet")
    with pytest.raises(ResourceMissingError, match="not found"):
        build_detector(config, data_dir=tmp_path)
    folder = tmp_path / "models" / "movenet"
    folder.mkdir(parents=True)
    for name in MODEL_FILES:
        (folder / name).write_bytes(b"not the model")
    with pytest.raises(ResourceMissingError, match="sha256"):
        build_detector(config, data_dir=tmp_path)


def test_movenet_needs_a_data_dir_and_validates_its_config() -> None:
    with pytest.raises(ValueError, match="data_dir"):
        build_detector(DetectorConfig(kind="movenet"))
    cfg = config_from_dict(DetectorConfig, {"kind": "movenet", "movenet": {"input_long_side": 640}})
    assert cfg.movenet.input_long_side == 640
    with pytest.raises(ConfigError):
        config_from_dict(DetectorConfig, {"kind": "movenet", "movenet": {"input_long_side": 500}})
    with pytest.raises(ConfigError):
        config_from_dict(DetectorConfig, {"movenet": {"max_people": 0}})


def make_tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_extract_movenet_takes_both_files_out_of_the_npm_tarball(data_dir: Path, tmp_path: Path) -> None:
    model_dir = data_dir / "models" / "movenet"
    members = {f"package/models/{name}": (model_dir / name).read_bytes() for name in MODEL_FILES}
    members["package/models/other.json"] = b"{}"
    tgz = make_tarball(tmp_path / "human-models-3.0.4.tgz", members)
    json_path, bin_path = extract_movenet(tgz, tmp_path / "data" / "models" / "movenet")
    assert json_path.read_bytes() == members[f"package/models/{MODEL_FILES[0]}"]
    assert bin_path.read_bytes() == members[f"package/models/{MODEL_FILES[1]}"]
    assert sorted(p.name for p in json_path.parent.iterdir()) == sorted(MODEL_FILES)
    # Where set-up puts them is where the detector's default config looks.
    assert build_detector(DetectorConfig(kind="movenet"), data_dir=tmp_path / "data").name


def test_extract_movenet_refuses_a_tampered_or_incomplete_tarball(tmp_path: Path) -> None:
    tampered = make_tarball(
        tmp_path / "bad.tgz",
        {f"package/models/{name}": b"tampered" for name in MODEL_FILES},
    )
    with pytest.raises(ResourceMissingError, match="sha256"):
        extract_movenet(tampered, tmp_path / "dest")
    assert not (tmp_path / "dest" / MODEL_FILES[0]).exists()
    incomplete = make_tarball(tmp_path / "short.tgz", {"package/models/other.json": b"{}"})
    with pytest.raises(ResourceMissingError, match="has no"):
        extract_movenet(incomplete, tmp_path / "dest")
    with pytest.raises(ResourceMissingError, match="cannot read"):
        extract_movenet(tmp_path / "absent.tgz", tmp_path / "dest")
