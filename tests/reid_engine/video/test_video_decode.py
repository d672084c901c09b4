"""iter_frames on well-formed files: counts, indices, timestamps, sampling by time, rotation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from videogen import Clip, frame_image, write_video

from reid_engine.video import DecodeStats, iter_frames, probe_video


def test_iter_frames_yields_every_frame_with_index_size_and_time(any_clip: Clip) -> None:
    stats = DecodeStats()
    frames = list(iter_frames(any_clip.path, stats=stats))

    assert [f.index for f in frames] == list(range(any_clip.frames))
    assert [f.pts_s for f in frames] == pytest.approx([i / any_clip.fps for i in range(any_clip.frames)])
    for frame in frames:
        assert frame.image.shape == (any_clip.height, any_clip.width, 3)
        assert frame.image.dtype == np.uint8
        assert frame.image.flags.c_contiguous
    assert stats.frames_decoded == stats.frames_seen == any_clip.frames
    assert stats.frames_skipped == 0
    assert stats.decoded_bytes == any_clip.frames * any_clip.width * any_clip.height * 3
    assert not stats.truncated
    assert stats.last_error is None


def test_iter_frames_returns_the_pictures_that_were_encoded(mkv_clip: Clip) -> None:
    frames = list(iter_frames(mkv_clip.path))

    for frame in frames[:: len(frames) // 4]:
        expected = frame_image(frame.index).astype(np.int16)
        assert np.abs(frame.image.astype(np.int16) - expected).mean() < 4


def test_iter_frames_samples_every_fifth_frame_at_2_fps_from_a_10_fps_clip(avi_clip: Clip) -> None:
    stats = DecodeStats()
    frames = list(iter_frames(avi_clip.path, sample_fps=2.0, stats=stats))

    assert [f.index for f in frames] == [0, 5, 10, 15, 20, 25]
    assert [f.pts_s for f in frames] == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
    assert stats.frames_decoded == 6
    assert stats.frames_seen == avi_clip.frames
    # Dropped frames are never converted to RGB.
    assert stats.decoded_bytes == 6 * avi_clip.width * avi_clip.height * 3


def test_iter_frames_samples_a_variable_frame_rate_video_evenly_in_time(tmp_path: Path) -> None:
    # One second at 25 fps, then two seconds at 4 fps: a frame-count sampler would crowd the first second.
    times = [i / 25 for i in range(25)] + [1.0 + i / 4 for i in range(8)]
    path = write_video(tmp_path / "vfr.mkv", codec="libx264", times_s=times)

    kept = [f.pts_s for f in iter_frames(path, sample_fps=2.0)]

    slots = [k / 2 for k in range(6)]
    assert kept == pytest.approx([min(t for t in times if t >= slot - 1e-6) for slot in slots])


def test_iter_frames_keeps_every_frame_when_sampling_faster_than_the_source(mp4_clip: Clip) -> None:
    frames = list(iter_frames(mp4_clip.path, sample_fps=30.0))

    assert len(frames) == mp4_clip.frames


def test_iter_frames_turns_a_rotated_video_upright(rotated_clip: Clip) -> None:
    frames = list(iter_frames(rotated_clip.path))

    assert len(frames) == rotated_clip.frames
    image = frames[0].image
    assert image.shape == (rotated_clip.width, rotated_clip.height, 3)
    assert image.flags.c_contiguous
    # Turned 90 degrees clockwise, the white top band of the stored frame becomes the right edge.
    assert image[:, -10:].mean() > 240
    assert image[:, :10].mean() < 100


def test_iter_frames_counts_nominal_intervals_when_the_stream_has_no_timestamps(raw_h264_clip: Clip) -> None:
    frames = list(iter_frames(raw_h264_clip.path))

    assert len(frames) == raw_h264_clip.frames
    assert [f.pts_s for f in frames] == pytest.approx([i / raw_h264_clip.fps for i in range(len(frames))])


def test_iter_frames_uses_the_info_it_is_given(mp4_clip: Clip) -> None:
    info = probe_video(mp4_clip.path)

    frames = list(iter_frames(mp4_clip.path, info=info, sample_fps=5.0))

    assert [f.index for f in frames] == list(range(0, mp4_clip.frames, 2))


def test_iter_frames_can_be_abandoned_part_way(mp4_clip: Clip) -> None:
    frames = iter_frames(mp4_clip.path)

    first = next(frames)
    frames.close()

    assert first.index == 0


@pytest.mark.parametrize("sample_fps", [0.0, -2.0, float("nan")])
def test_iter_frames_refuses_a_sample_rate_that_is_not_positive_when_called(
    mp4_clip: Clip, sample_fps: float
) -> None:
    with pytest.raises(ValueError, match="sample_fps"):
        iter_frames(mp4_clip.path, sample_fps=sample_fps)


def test_iter_frames_of_the_street_scene_decodes_every_frame(vtest_avi: Path) -> None:
    stats = DecodeStats()
    count = sum(1 for _ in iter_frames(vtest_avi, sample_fps=1.0, stats=stats))

    assert count == 80
    assert stats.frames_seen == 795
    assert stats.frames_skipped == 0
    assert not stats.truncated
