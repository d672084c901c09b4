"""Scene videos: decodable H.264, MOTChallenge ground truth consistent with the track list."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest

from reid_engine.data.synthcc import load_synthcc_scenes
from reid_engine.synth.scenes import SceneSetConfig, generate_scenes


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenes")
    cfg = SceneSetConfig(
        seed=4, ids=4, outfits=2, cameras=2, duration=4.0, fps=5.0, people=4, width=320, height=180
    )
    generate_scenes(out, cfg)
    return out


def test_each_camera_has_an_h264_video_with_the_planned_frames(scenes: Path) -> None:
    videos = load_synthcc_scenes(scenes)
    assert [v.camid for v in videos] == [0, 1]
    for v in videos:
        with av.open(str(v.video)) as container:
            stream = container.streams.video[0]
            assert stream.codec_context.name == "h264"
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        assert len(frames) == v.frames == 20
        assert frames[0].shape == (180, 320, 3)


def test_ground_truth_rows_follow_the_motchallenge_format_and_match_the_tracks(scenes: Path) -> None:
    for v in load_synthcc_scenes(scenes):
        gt = np.loadtxt(v.gt_path, delimiter=",", ndmin=2)
        assert gt.shape[1] == 9
        assert gt[:, 0].min() >= 1
        assert gt[:, 0].max() <= v.frames
        assert set(gt[:, 1].astype(int)) == set(v.tracks)
        assert (gt[:, 4] > 0).all()
        assert (gt[:, 5] > 0).all()
        assert ((gt[:, 8] >= 0) & (gt[:, 8] <= 1)).all()
        assert (gt[:, 6] == 1).all()
        assert (gt[:, 7] == 1).all()
        for t in v.tracks.values():
            rows = gt[gt[:, 1] == t.track_id]
            assert rows[:, 0].min() == t.first_frame
            assert rows[:, 0].max() == t.last_frame
            assert "upper_colour" in t.attributes


def test_people_reappear_on_other_cameras_in_other_clothes(scenes: Path) -> None:
    videos = load_synthcc_scenes(scenes)
    clothes = {}
    for v in videos:
        for t in v.tracks.values():
            clothes.setdefault(t.pid, set()).add((v.camid, t.clothes_id))
    multi = [c for c in clothes.values() if len({cam for cam, _ in c}) > 1]
    assert multi, "someone should be seen by both cameras"
    assert any(len({cl for _, cl in c}) > 1 for c in multi)
    meta = json.loads((scenes / "meta.json").read_text())
    assert meta["kind"] == "synthcc-scenes"


def test_same_seed_gives_byte_identical_videos_and_ground_truth(tmp_path: Path) -> None:
    cfg = SceneSetConfig(
        seed=9, ids=3, outfits=2, cameras=1, duration=2.0, fps=5.0, people=3, width=192, height=128
    )
    generate_scenes(tmp_path / "a", cfg)
    generate_scenes(tmp_path / "b", cfg)
    for name in ("cam0/video.mp4", "cam0/gt/gt.txt", "cam0/tracks.json", "meta.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
