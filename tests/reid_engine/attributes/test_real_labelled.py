"""The real labelled set: its loader, re-finding its people, and the guard that keeps it out of training."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from reid_engine.attributes.real_labelled import (
    CANNOT_TELL,
    FORMAT,
    LABELLED_ATTRIBUTES,
    REAL_LABELLED_DIR,
    RealLabelledError,
    is_real_labelled,
    load_real_labelled,
    match_tracks,
)
from reid_engine.attributes.schema import SCHEMA
from reid_engine.data.registry import load_training_dataset
from reid_engine.data.synthcc import DatasetError

LABELS: dict[str, Any] = {
    "gender": "female", "age_group": "adult", "hair_length": "long", "glasses": CANNOT_TELL, "hat": False,
    "backpack": False, "handbag": True, "shoulder_bag": False, "upper_type": "other", "sleeve_length": "long",
    "upper_colour": "red", "lower_type": "jeans", "lower_colour": "blue",
}


def write_set(folder: Path, tracks: list[dict[str, Any]], video: str = "street.avi") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    doc = {"kind": FORMAT, "video": video, "pipeline": {"settings_sha256": "abc"}, "tracks": tracks}
    (folder / f"{Path(video).stem}.json").write_text(json.dumps(doc))
    return folder


def record(track_id: int, boxes: list[tuple[int, list[float]]], **labels: Any) -> dict[str, Any]:
    return {"track_id": track_id, "frames": [boxes[0][0], boxes[-1][0]],
            "boxes": [{"frame": f, "box": b} for f, b in boxes], "labels": {**LABELS, **labels}}


def test_the_loader_reads_labels_and_keeps_cannot_tell_and_other_out_of_the_scored_labels(tmp_path: Path) -> None:
    root = write_set(tmp_path / "set", [record(4, [(0, [0, 0, 10, 20]), (8, [2, 0, 12, 20])])])
    loaded = load_real_labelled(root)
    (track,) = loaded.tracks
    assert (track.video, track.track_id, track.frames) == ("street.avi", 4, (0, 8))
    assert track.boxes == ((0, (0.0, 0.0, 10.0, 20.0)), (8, (2.0, 0.0, 12.0, 20.0)))
    assert track.cannot_tell == {"glasses"}
    assert track.other == {"upper_type"}
    assert "glasses" not in track.attributes
    assert "upper_type" not in track.attributes
    assert track.attributes["handbag"] is True
    assert track.attributes["upper_colour"] == "red"
    SCHEMA.validate(track.attributes)
    assert loaded.pipelines == {"street.avi": {"settings_sha256": "abc"}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"gender": None}, "no label for gender"),
        ({"upper_colour": "teal"}, "'teal' is not one of"),
        ({"hat": "yes"}, "hat is binary"),
    ],
)
def test_the_loader_refuses_a_record_without_a_valid_label_for_every_attribute(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    root = write_set(tmp_path / "set", [record(1, [(0, [0, 0, 10, 20])], **change)])
    with pytest.raises(RealLabelledError, match=message):
        load_real_labelled(root)


def test_the_loader_refuses_an_empty_folder_and_a_foreign_file(tmp_path: Path) -> None:
    with pytest.raises(RealLabelledError, match="no real labelled set"):
        load_real_labelled(tmp_path)
    (tmp_path / "x.json").write_text(json.dumps({"kind": "something else"}))
    with pytest.raises(RealLabelledError, match="not a longview-real-labelled/1 file"):
        load_real_labelled(tmp_path)


def test_the_shipped_set_labels_every_attribute_of_every_track() -> None:
    loaded = load_real_labelled()
    assert len(loaded.tracks) == 27
    assert {t.video for t in loaded.tracks} == {"vtest.avi", "bus.jpg"}
    assert loaded.stills == {"bus.jpg"}
    assert len({(t.video, t.track_id) for t in loaded.tracks}) == 27
    for t in loaded.tracks:
        assert set(t.attributes) | t.cannot_tell | t.other == set(LABELLED_ATTRIBUTES)
        assert t.boxes
        assert all(t.frames[0] <= f <= t.frames[1] for f, _ in t.boxes)


def tracklet(frames: list[int], boxes: list[list[float]]) -> Any:
    return SimpleNamespace(frame_indices=np.asarray(frames), boxes_xyxy=np.asarray(boxes, np.float32))


def test_each_record_finds_the_tracklet_whose_boxes_overlap_its_anchors() -> None:
    root_tracks = [
        SimpleNamespace(boxes=((0, (0.0, 0.0, 10.0, 20.0)), (4, (10.0, 0.0, 20.0, 20.0)))),
        SimpleNamespace(boxes=((0, (50.0, 0.0, 60.0, 20.0)),)),
        SimpleNamespace(boxes=((0, (200.0, 0.0, 210.0, 20.0)),)),  # nobody there
    ]
    near = tracklet([0, 2, 4], [[1, 0, 11, 20], [5, 0, 15, 20], [10, 0, 20, 20]])
    other = tracklet([0, 2], [[50, 0, 60, 20], [52, 0, 62, 20]])
    half = tracklet([0], [[0, 0, 10, 20]])  # matches the first record's first anchor only: mean IoU 0.5 - 0
    found = match_tracks(root_tracks, [half, other, near])  # type: ignore[arg-type]
    assert found == {0: near, 1: other}


def test_training_loaders_refuse_the_real_labelled_set_and_copies_of_it(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="evaluation only"):
        load_training_dataset("synthcc", REAL_LABELLED_DIR)
    with pytest.raises(DatasetError, match="evaluation only"):
        load_training_dataset("synthcc", REAL_LABELLED_DIR / "vtest.json")
    copy = tmp_path / "copied"
    shutil.copytree(REAL_LABELLED_DIR, copy)
    with pytest.raises(DatasetError, match="evaluation only"):
        load_training_dataset("synthcc", copy)
    assert is_real_labelled(copy)
    assert not is_real_labelled(tmp_path / "elsewhere")
    with pytest.raises(DatasetError, match="not a SynthCC set") as info:
        load_training_dataset("synthcc", tmp_path / "elsewhere")
    assert "evaluation only" not in str(info.value)


def test_attribute_training_refuses_a_config_naming_the_real_labelled_set(tmp_path: Path) -> None:
    from reid_engine.attributes.training import (
        AttributeDatasetConfig,
        AttributeTrainConfig,
        load_training_data,
    )

    config = AttributeTrainConfig(datasets=(AttributeDatasetConfig(name="real", root=str(REAL_LABELLED_DIR)),))
    with pytest.raises(DatasetError, match="evaluation only"):
        load_training_data(config)


def test_the_people_of_the_labelled_still_are_found_again_by_the_shipped_detector(data_dir: Path) -> None:
    from reid_engine.attributes.real_eval import find_crops

    image = data_dir / "data" / "bus.jpg"
    if not image.exists():
        pytest.fail(f"{image} is missing: run `make setup` first")
    loaded = load_real_labelled(REAL_LABELLED_DIR / "ultralytics_bus.json")
    found = find_crops(loaded, image.parent, data_dir=data_dir)
    assert found.found == len(loaded.tracks) == 3
    for rec, crops in zip(loaded.tracks, found.crops, strict=True):
        assert crops is not None
        (crop,) = crops
        assert crop.keypoints is not None
        assert crop.image.shape[0] == pytest.approx(rec.boxes[0][1][3] - rec.boxes[0][1][1], abs=2)
