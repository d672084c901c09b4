"""Fixtures shared by the whole suite: real footage and real video files written with PyAV."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import av
import pytest

REPO = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("LONGVIEW_DATA_DIR", REPO / "var")).resolve()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder set-up fills with model weights and demo footage."""
    return DATA_DIR


@pytest.fixture(scope="session")
def vtest_path() -> Path:
    """The real street scene (768x576, 10 fps, people walking) that set-up fetches."""
    path = DATA_DIR / "data" / "vtest.avi"
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make setup` first")
    return path


def write_clip(
    source: Path, dest: Path, *, start_s: float, seconds: float, faststart: bool = False
) -> Path:
    """Re-encode a stretch of ``source`` as H.264 mp4 (what a browser plays and a camera exports)."""
    with av.open(str(source)) as src, av.open(
        str(dest), "w", format="mp4", options={"movflags": "faststart"} if faststart else {}
    ) as out:
        in_stream = src.streams.video[0]
        fps = float(in_stream.average_rate or 10)
        stream = out.add_stream("libx264", rate=round(fps))
        stream.width = in_stream.codec_context.width
        stream.height = in_stream.codec_context.height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "26"}
        written = 0
        for index, frame in enumerate(src.decode(in_stream)):
            t = index / fps
            if t < start_s:
                continue
            if t >= start_s + seconds:
                break
            img = frame.to_ndarray(format="rgb24")
            new = av.VideoFrame.from_ndarray(img, format="rgb24")
            new.pts = written
            for packet in stream.encode(new):
                out.mux(packet)
            written += 1
        for packet in stream.encode():
            out.mux(packet)
    return dest


@pytest.fixture(scope="session")
def clip_factory(vtest_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Make (and cache) short H.264 clips of the real street scene."""
    folder = tmp_path_factory.mktemp("clips")

    def make(start_s: float = 0.0, seconds: float = 6.0, *, faststart: bool = False) -> Path:
        dest = folder / f"street_{start_s:g}_{seconds:g}{'_fs' if faststart else ''}.mp4"
        if not dest.exists():
            write_clip(vtest_path, dest, start_s=start_s, seconds=seconds, faststart=faststart)
        return dest

    return make


@pytest.fixture(scope="session")
def bad_files(clip_factory: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Inputs that must be refused: an empty file, text named .mp4, a truncated mp4."""
    folder = tmp_path_factory.mktemp("bad")
    empty = folder / "empty.mp4"
    empty.write_bytes(b"")
    text = folder / "notes.mp4"
    text.write_text("Witness statement: a man in a red jacket walked north at 09:14.\n" * 20)
    whole = clip_factory(0.0, 4.0).read_bytes()
    truncated = folder / "truncated.mp4"
    # The muxer writes the index (moov) last, so cutting the file loses it: unplayable.
    truncated.write_bytes(whole[: len(whole) * 6 // 10])
    return {"empty": empty, "text": text, "truncated": truncated}
