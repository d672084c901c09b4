"""probe_video on well-formed files of each container, and the limits it enforces."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from videogen import Clip

from reid_engine.errors import VideoError
from reid_engine.video import VideoLimits, probe_video


def test_probe_reads_size_rate_duration_and_frame_count_of_each_container(any_clip: Clip) -> None:
    info = probe_video(any_clip.path)

    assert info.codec == any_clip.codec
    assert (info.width, info.height) == (any_clip.width, any_clip.height)
    assert info.fps == pytest.approx(any_clip.fps)
    assert info.duration_s == pytest.approx(any_clip.frames / any_clip.fps, abs=0.05)
    assert info.frame_count == any_clip.frames
    assert info.size_bytes == any_clip.path.stat().st_size
    assert info.rotation == 0


def test_probe_accepts_path_as_string(mp4_clip: Clip) -> None:
    assert probe_video(str(mp4_clip.path)).frame_count == mp4_clip.frames


def test_probe_reports_clockwise_rotation_from_the_display_matrix(rotated_clip: Clip) -> None:
    info = probe_video(rotated_clip.path)

    assert info.rotation == 90
    # The stored size is reported, before rotation.
    assert (info.width, info.height) == (rotated_clip.width, rotated_clip.height)


def test_probe_estimates_rate_duration_and_count_of_a_raw_h264_stream(raw_h264_clip: Clip) -> None:
    info = probe_video(raw_h264_clip.path)

    assert info.container == "h264"
    assert info.fps == pytest.approx(raw_h264_clip.fps)
    assert info.frame_count == raw_h264_clip.frames
    assert info.duration_s == pytest.approx(raw_h264_clip.frames / raw_h264_clip.fps)


def test_probe_of_the_street_scene_matches_its_known_size_rate_and_length(vtest_avi: Path) -> None:
    info = probe_video(vtest_avi)

    assert (info.width, info.height) == (768, 576)
    assert info.fps == pytest.approx(10.0, rel=0.01)
    assert info.frame_count == pytest.approx(795, abs=2)
    assert info.duration_s == pytest.approx(79.5, abs=0.5)


def test_probe_refuses_frames_wider_than_the_limit(mp4_clip: Clip) -> None:
    with pytest.raises(VideoError, match=r"^video is 160x120 pixels; the limit is 100x4320$"):
        probe_video(mp4_clip.path, limits=VideoLimits(max_width=100))


def test_probe_accepts_a_frame_size_within_the_limits_turned_sideways(mp4_clip: Clip) -> None:
    info = probe_video(mp4_clip.path, limits=VideoLimits(max_width=120, max_height=160))

    assert (info.width, info.height) == (160, 120)


def test_probe_refuses_a_file_over_the_size_limit(mp4_clip: Clip) -> None:
    with pytest.raises(VideoError, match=r"^file is .* the limit is 1\.0 KiB$"):
        probe_video(mp4_clip.path, limits=VideoLimits(max_bytes=1024))


def test_probe_refuses_a_video_longer_than_the_limit(mp4_clip: Clip) -> None:
    with pytest.raises(VideoError, match=r"^video is 2 s long; the limit is 1 s$"):
        probe_video(mp4_clip.path, limits=VideoLimits(max_duration_s=1.0))


def test_probe_refuses_a_video_with_more_frames_than_the_limit(mp4_clip: Clip) -> None:
    with pytest.raises(VideoError, match=r"^video has 20 frames; the limit is 5$"):
        probe_video(mp4_clip.path, limits=VideoLimits(max_frames=5))


def test_probe_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match=r"^file not found$"):
        probe_video(tmp_path / "nope.mp4")


def test_probe_refuses_a_directory(tmp_path: Path) -> None:
    with pytest.raises(VideoError, match=r"^not a regular file$"):
        probe_video(tmp_path)


def test_probe_gives_up_when_its_time_budget_is_spent(mp4_clip: Clip) -> None:
    with pytest.raises(VideoError, match=r"took longer than 1e-09 s to probe"):
        probe_video(mp4_clip.path, limits=VideoLimits(probe_timeout_s=1e-9))


@pytest.mark.parametrize("field", ["max_bytes", "max_width", "max_frames", "probe_timeout_s"])
@pytest.mark.parametrize("value", [0, -1])
def test_video_limits_refuse_values_that_are_not_positive(field: str, value: int) -> None:
    with pytest.raises(ValueError, match=field):
        VideoLimits(**{field: value})


def test_importing_the_video_package_pulls_in_neither_torch_nor_a_web_framework() -> None:
    code = (
        "import sys, reid_engine.video; "
        "banned = {'torch', 'django', 'rest_framework', 'channels', 'celery', 'webapp'}; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in banned))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"
