"""Hostile and broken input: every case ends in a VideoError with a short reason, or in counted partial output."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import av
import numpy as np
import pytest
from av.audio.stream import AudioStream
from videogen import Clip, avi_chunks, write_video

import reid_engine.video._container as container_module
from reid_engine.errors import VideoError
from reid_engine.video import DecodeStats, VideoLimits, iter_frames, probe_video
from reid_engine.video._container import open_input


def assert_refused(path: Path, pattern: str) -> str:
    """Both entry points refuse ``path`` with the same one-line reason that does not leak the path."""
    with pytest.raises(VideoError, match=pattern) as probed:
        probe_video(path)
    with pytest.raises(VideoError, match=pattern):
        next(iter_frames(path))
    message = str(probed.value)
    assert "\n" not in message
    assert str(path.parent) not in message
    return message


def decodes_unrestricted(path: Path) -> int:
    """Frames plain PyAV decodes from ``path`` with no whitelist: proof that a fixture is a real leak."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_probe_refuses_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.write_bytes(b"")

    assert_refused(path, r"^empty file$")


def test_probe_refuses_a_text_file_named_mp4(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("Witness statement: a man in a red jacket walked north at 09:14.\n" * 20)

    assert_refused(path, r"^not a video file \(it is a text document\)$")


def test_probe_refuses_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "random.mp4"
    path.write_bytes(np.random.default_rng(7).integers(0, 256, 64_000, dtype=np.uint8).tobytes())

    assert_refused(path, r"^unsupported or corrupt video: ")


def test_probe_refuses_hls_playlist_named_mp4(tmp_path: Path, avi_clip: Clip) -> None:
    playlist = tmp_path / "upload.mp4"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:3.0,\n{avi_clip.path}\n#EXT-X-ENDLIST\n")

    assert_refused(playlist, r"^not a video file \(it is an HLS playlist\)$")


def test_demuxer_whitelist_alone_refuses_an_hls_playlist_that_plain_pyav_would_follow(
    tmp_path: Path, mp4_clip: Clip
) -> None:
    # Named .m3u8, FFmpeg itself detects the playlist; the first-bytes check is bypassed on purpose here.
    playlist = tmp_path / "upload.m3u8"
    playlist.write_text(
        f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{mp4_clip.path.name}\n#EXT-X-ENDLIST\n"
    )
    os.symlink(mp4_clip.path, tmp_path / mp4_clip.path.name)
    assert decodes_unrestricted(playlist) == mp4_clip.frames

    with pytest.raises(VideoError, match=r"^unsupported video format"), open_input(str(playlist)):
        pass


def test_probe_refuses_ffconcat_script_named_mp4(tmp_path: Path, avi_clip: Clip) -> None:
    script = tmp_path / "upload.mp4"
    # The concat demuxer's safe mode refuses absolute paths, so the leak uses a relative one.
    script.write_text(f"ffconcat version 1.0\nfile '{avi_clip.path.name}'\n")
    os.symlink(avi_clip.path, tmp_path / avi_clip.path.name)
    assert decodes_unrestricted(script) == avi_clip.frames

    assert_refused(script, r"^not a video file \(it is an FFmpeg concat script\)$")
    with pytest.raises(VideoError, match=r"^unsupported video format"), open_input(str(script)):
        pass


def test_truncated_mp4_with_its_index_first_decodes_partially_and_is_flagged(
    tmp_path: Path, faststart_mp4: Clip
) -> None:
    data = faststart_mp4.path.read_bytes()
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])

    info = probe_video(path)  # the index still describes the whole video
    stats = DecodeStats()
    frames = list(iter_frames(path, info=info, stats=stats))

    assert info.frame_count == faststart_mp4.frames
    assert 0 < len(frames) < faststart_mp4.frames
    assert [f.index for f in frames] == list(range(len(frames)))
    assert stats.frames_decoded == len(frames)
    assert stats.truncated
    assert stats.end_s < info.duration_s * 0.75


def test_truncated_mp4_with_its_index_at_the_end_is_refused(tmp_path: Path, mp4_clip: Clip) -> None:
    data = mp4_clip.path.read_bytes()
    assert data.find(b"moov") > data.find(b"mdat")
    path = tmp_path / "cut.mp4"
    path.write_bytes(data[: len(data) // 2])

    assert_refused(path, r"^unsupported or corrupt video: invalid data found when processing input$")


def test_truncated_avi_decodes_the_frames_before_the_cut(tmp_path: Path, avi_clip: Clip) -> None:
    data = avi_clip.path.read_bytes()
    path = tmp_path / "cut.avi"
    path.write_bytes(data[: len(data) // 2])

    stats = DecodeStats()
    frames = list(iter_frames(path, stats=stats))

    assert 0 < len(frames) < avi_clip.frames
    assert [f.index for f in frames] == list(range(len(frames)))
    assert stats.truncated


def test_corrupt_frames_in_the_middle_of_an_avi_are_skipped_and_counted(
    tmp_path: Path, avi_clip: Clip
) -> None:
    data = bytearray(avi_clip.path.read_bytes())
    rng = np.random.default_rng(1)
    for offset, size in avi_chunks(data)[10:12]:
        data[offset : offset + size] = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    path = tmp_path / "damaged.avi"
    path.write_bytes(data)

    stats = DecodeStats()
    frames = list(iter_frames(path, stats=stats))

    assert [f.index for f in frames] == [i for i in range(avi_clip.frames) if i not in (10, 11)]
    assert [f.pts_s for f in frames] == pytest.approx([f.index / avi_clip.fps for f in frames])
    assert stats.frames_skipped == 2
    assert stats.frames_decoded == avi_clip.frames - 2
    assert stats.last_error == "invalid data found when processing input"
    assert not stats.truncated


def test_a_burst_of_garbage_across_avi_chunk_headers_loses_only_nearby_frames(
    tmp_path: Path, avi_clip: Clip
) -> None:
    data = bytearray(avi_clip.path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 3000] = np.random.default_rng(2).integers(0, 256, 3000, dtype=np.uint8).tobytes()
    path = tmp_path / "burst.avi"
    path.write_bytes(data)

    stats = DecodeStats()
    frames = list(iter_frames(path, stats=stats))

    assert avi_clip.frames - 3 <= len(frames) < avi_clip.frames
    assert stats.frames_decoded + stats.frames_skipped <= avi_clip.frames
    assert all(a.pts_s < b.pts_s for a, b in zip(frames, frames[1:], strict=False))


def test_probe_refuses_a_frame_size_beyond_the_limit_claimed_by_the_file(
    tmp_path: Path, avi_clip: Clip
) -> None:
    # A 30 KB file whose AVI header and JPEG frame headers all claim 9000x100 pixels.
    data = bytearray(avi_clip.path.read_bytes())
    struct.pack_into("<II", data, data.find(b"avih") + 8 + 32, 9000, 100)
    struct.pack_into("<ii", data, data.find(b"strf") + 8 + 4, 9000, 100)
    for offset, size in avi_chunks(data):
        sof = data.find(b"\xff\xc0", offset, offset + size)
        struct.pack_into(">HH", data, sof + 5, 100, 9000)
    path = tmp_path / "wide.avi"
    path.write_bytes(data)

    assert_refused(path, r"^video is 9000x100 pixels; the limit is 7680x4320$")


def test_probe_refuses_frames_too_large_for_the_decoder_to_allocate(tmp_path: Path, avi_clip: Clip) -> None:
    data = bytearray(avi_clip.path.read_bytes())
    for offset, size in avi_chunks(data):
        sof = data.find(b"\xff\xc0", offset, offset + size)
        struct.pack_into(">HH", data, sof + 5, 60000, 60000)
    path = tmp_path / "huge.avi"
    path.write_bytes(data)

    assert_refused(path, r"^unsupported or corrupt video: ")


def test_decompression_bomb_is_stopped_while_decoding(tmp_path: Path) -> None:
    path = write_video(tmp_path / "bomb.mp4", codec="libx264", frames=30, width=1280, height=720)
    frame_bytes = 1280 * 720 * 3
    assert path.stat().st_size * 100 < 30 * frame_bytes
    limits = VideoLimits(max_decoded_bytes=5 * frame_bytes)

    stats = DecodeStats()
    frames = iter_frames(path, limits=limits, stats=stats)
    with pytest.raises(VideoError, match=r"^video decodes to more than 13\.2 MiB of images"):
        for _ in frames:
            pass

    assert stats.frames_decoded == 5
    assert stats.decoded_bytes == 5 * frame_bytes


def test_decoding_stops_at_the_frame_limit_when_the_header_undercounts(mp4_clip: Clip) -> None:
    info = probe_video(mp4_clip.path)  # as if the header had declared few frames
    stats = DecodeStats()

    with pytest.raises(VideoError, match=r"^video has more than 5 frames; the limit is 5$"):
        for _ in iter_frames(
            mp4_clip.path, info=info, sample_fps=1.0, limits=VideoLimits(max_frames=5), stats=stats
        ):
            pass
    assert stats.frames_seen == 6


def test_decoding_refuses_info_beyond_its_own_limits(mp4_clip: Clip) -> None:
    info = probe_video(mp4_clip.path)

    with pytest.raises(VideoError, match=r"^video is 160x120 pixels; the limit is 100x100$"):
        next(iter_frames(mp4_clip.path, info=info, limits=VideoLimits(max_width=100, max_height=100)))


@pytest.mark.parametrize(
    "error",
    [
        IndexError("list index out of range"),
        UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
        OSError(5, "Input/output error"),
        av.error.InvalidDataError(1094995529, "Invalid data found when processing input"),
    ],
    ids=["IndexError", "UnicodeDecodeError", "OSError", "InvalidDataError"],
)
def test_any_exception_pyav_raises_on_garbage_becomes_a_video_error(
    monkeypatch: pytest.MonkeyPatch, mp4_clip: Clip, error: Exception
) -> None:
    def broken_open(*args: object, **kwargs: object) -> None:
        raise error

    # PyAV is the boundary: these are exception types it was measured to raise on hostile files.
    monkeypatch.setattr(container_module.av, "open", broken_open)

    with pytest.raises(VideoError, match=r"^unsupported or corrupt video: ") as probed:
        probe_video(mp4_clip.path)
    assert probed.value.__cause__ is None
    assert probed.value.__suppress_context__
    with pytest.raises(VideoError, match=r"^unsupported or corrupt video: "):
        next(iter_frames(mp4_clip.path))


def test_probe_refuses_a_codec_ffmpeg_cannot_decode(tmp_path: Path, avi_clip: Clip) -> None:
    path = tmp_path / "unknown.avi"
    path.write_bytes(avi_clip.path.read_bytes().replace(b"MJPG", b"ZZZZ"))

    assert_refused(path, r"^unsupported video codec$")


def test_probe_refuses_a_file_with_no_video_stream(tmp_path: Path) -> None:
    path = tmp_path / "sound.mkv"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        assert isinstance(stream, AudioStream)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 8000), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)

    assert_refused(path, r"^not a video file \(no video stream\)$")
