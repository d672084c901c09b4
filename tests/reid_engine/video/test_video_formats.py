"""Recorder export formats, recognised by their content alone: each probes as what it is, decodes every
frame on the right clock, and a raw stream says where its frame times come from."""

from __future__ import annotations

import os
from pathlib import Path

import av
import numpy as np
import pytest

from reid_engine.errors import VideoError
from reid_engine.video import (
    ALLOWED_DEMUXERS,
    RAW_DEFAULT_FPS,
    DecodeStats,
    iter_frames,
    probe_video,
    timing_warning,
)
from tests.videoformats import EXPORTS, FPS, Export, source_frames, write_dhav, write_export

REPO = Path(__file__).resolve().parents[3]
VTEST = Path(os.environ.get("LONGVIEW_DATA_DIR", REPO / "var")).resolve() / "data" / "vtest.avi"
SECONDS = 2.0


@pytest.fixture(scope="session")
def street_frames() -> list[np.ndarray]:
    """Two seconds of the real street scene at a quarter of its size (192x144)."""
    if not VTEST.exists():
        pytest.fail(f"{VTEST} is missing: run `make setup` first")
    return source_frames(VTEST, start_s=0.0, seconds=SECONDS, scale=4)


@pytest.fixture(scope="session", params=EXPORTS, ids=[e.name for e in EXPORTS])
def export_file(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, street_frames: list[np.ndarray]
) -> tuple[Export, Path]:
    export: Export = request.param
    # Uploads are stored under a generated name: only the content can say what the file is.
    path = tmp_path_factory.mktemp("exports") / "upload.video"
    return export, write_export(export, path, street_frames)


def _rate(export: Export) -> float:
    return RAW_DEFAULT_FPS if export.timestamps == "default_rate" else FPS


def test_the_pyav_build_reads_dahua_dav() -> None:
    assert "dhav" in av.formats_available
    assert "dhav" in ALLOWED_DEMUXERS


def test_each_export_probes_as_what_its_content_is(export_file: tuple[Export, Path]) -> None:
    export, path = export_file
    info = probe_video(path)

    assert (info.container, info.codec, info.timestamps) == (export.container, export.codec, export.timestamps)
    assert (info.width, info.height) == (192, 144)
    assert info.fps == pytest.approx(_rate(export))
    # MPEG program streams estimate their duration from the first and last timestamps they find.
    assert info.duration_s == pytest.approx(SECONDS * FPS / _rate(export), abs=0.35)
    assert info.as_dict()["timestamps"] == export.timestamps


def test_each_export_decodes_every_frame_on_its_clock(export_file: tuple[Export, Path]) -> None:
    export, path = export_file
    stats = DecodeStats()
    times = [frame.pts_s for frame in iter_frames(path, stats=stats)]

    assert len(times) == SECONDS * FPS
    assert stats.frames_skipped == 0
    assert not stats.truncated
    step = 1 / _rate(export)
    assert times == pytest.approx([i * step for i in range(len(times))], abs=1e-3)


def test_a_raw_stream_says_where_its_frame_times_come_from(export_file: tuple[Export, Path]) -> None:
    export, path = export_file
    note = timing_warning(probe_video(path))
    codec = {"h264": "H.264", "hevc": "H.265"}.get(export.codec)
    if export.timestamps == "stream_rate":
        assert note == f"raw {codec} stream without timestamps: frame times counted at the 10 fps the stream declares"
    elif export.timestamps == "default_rate":
        assert note == (
            f"raw {codec} stream without timestamps or a declared frame rate: frame times counted at a default "
            "25 fps, so times and the duration may be off"
        )
    else:
        assert note is None


def test_a_dav_cut_short_decodes_the_frames_before_the_cut(tmp_path: Path, street_frames: list[np.ndarray]) -> None:
    whole = write_dhav(tmp_path / "whole.dav", street_frames).read_bytes()
    cut = tmp_path / "cut.dav"
    cut.write_bytes(whole[: len(whole) * 6 // 10])

    info = probe_video(cut)
    frames = list(iter_frames(cut, info=info))

    assert info.container == "dhav"
    assert 5 <= len(frames) < SECONDS * FPS
    assert info.duration_s == pytest.approx(len(frames) / FPS, abs=0.15)


@pytest.mark.parametrize(
    "data",
    [
        b"DHAV\xfd" + bytes(range(256)) * 4,  # the magic, then no frame
        b"DHAV\xfd\0\0\0" + (0).to_bytes(4, "little") + (12).to_bytes(4, "little") + bytes(2000),  # a frame shorter than its header
    ],
    ids=["garbage-after-magic", "impossible-frame-length"],
)
def test_a_dav_with_nothing_decodable_is_refused_with_a_reason(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "broken.dav"
    path.write_bytes(data)
    with pytest.raises(VideoError) as refused:
        probe_video(path)
    assert "\n" not in str(refused.value)
    assert str(refused.value).startswith(("unsupported", "video has no frames", "not a video file"))
