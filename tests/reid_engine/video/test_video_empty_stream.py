"""A container that declares a video stream but holds no frame: refused with a reason that says so."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from av.video.stream import VideoStream

from reid_engine.errors import VideoError
from reid_engine.video import iter_frames, probe_video


def write_empty_video(path: Path, *, codec: str, container_format: str, options: dict[str, str]) -> Path:
    """Write the container header and an empty video stream, as a recorder stopped at once does."""
    with av.open(str(path), "w", format=container_format, options=options) as out:
        stream = out.add_stream(codec, rate=10)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height = 160, 120
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        # Writes the header; closing without a packet muxed leaves the stream empty.
        out.start_encoding()
    return path


def declared_video_streams(path: Path) -> int:
    """Video streams plain PyAV sees in ``path``."""
    with av.open(str(path)) as container:
        return len(container.streams.video)


CASES = {
    # A fragmented MP4 (what a camera or a live recorder writes) carries its track in an empty moov.
    "fragmented-mp4": (
        "libx264",
        "mp4",
        {"movflags": "frag_keyframe+empty_moov"},
        "its video stream is empty",
    ),
    "avi": ("mjpeg", "avi", {}, "its video stream is empty"),
    # Matroska stores the track header, but FFmpeg's open runs out of file looking for a frame.
    "mkv": ("libx264", "matroska", {}, "the file ends before the first one"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_video_stream_without_frames_is_refused_as_having_no_frames(tmp_path: Path, case: str) -> None:
    codec, container_format, options, detail = CASES[case]
    path = write_empty_video(
        tmp_path / f"empty.{container_format}",
        codec=codec,
        container_format=container_format,
        options=options,
    )
    # The fixture really is a header with a video stream in it.
    if container_format == "matroska":
        assert b"V_MPEG4/ISO/AVC" in path.read_bytes()  # the track entry, which FFmpeg cannot open
    else:
        assert declared_video_streams(path) == 1
    pattern = rf"^video has no frames \({detail}\)$"
    with pytest.raises(VideoError, match=pattern) as probed:
        probe_video(path)
    with pytest.raises(VideoError, match=pattern):
        next(iter_frames(path))
    assert str(tmp_path) not in str(probed.value)


def test_a_plain_mp4_without_frames_has_no_video_stream_at_all(tmp_path: Path) -> None:
    # FFmpeg's MP4 muxer leaves an empty track out of the moov entirely.
    path = write_empty_video(tmp_path / "empty.mp4", codec="libx264", container_format="mp4", options={})
    assert declared_video_streams(path) == 0
    with pytest.raises(VideoError, match=r"^not a video file \(no video stream\)$"):
        probe_video(path)
