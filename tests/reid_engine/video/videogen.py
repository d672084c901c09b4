"""Writing small real video files with PyAV for the video tests, and what is known to be in them."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.stream import VideoStream

WIDTH, HEIGHT, FPS = 160, 120, 10


@dataclass(frozen=True)
class Clip:
    """A video written by a fixture and what is known to be in it."""

    path: Path
    frames: int
    fps: float
    width: int
    height: int
    codec: str


def frame_image(i: int, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """Frame ``i`` of a test clip: the top quarter white (to check orientation), the rest grey level i."""
    img = np.full((height, width, 3), (40 + 7 * i) % 200, dtype=np.uint8)
    img[: height // 4] = 255
    return img


def write_video(
    path: Path,
    *,
    codec: str,
    container_format: str | None = None,
    frames: int = 20,
    width: int = WIDTH,
    height: int = HEIGHT,
    fps: int = FPS,
    pix_fmt: str = "yuv420p",
    times_s: Sequence[float] | None = None,
    rotation_ccw: float | None = None,
    faststart: bool = False,
    noise: bool = False,
) -> Path:
    """Encodes a short synthetic clip; ``times_s`` gives explicit (variable-rate) frame times."""
    options = {"movflags": "faststart"} if faststart else {}
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", format=container_format, options=options) as out:
        stream = out.add_stream(codec, rate=fps)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        if codec == "libx264":
            stream.options = {"preset": "ultrafast"}
        if times_s is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation_ccw is not None:
            stream.set_display_rotation(rotation_ccw)
        count = len(times_s) if times_s is not None else frames
        for i in range(count):
            img = (
                rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
                if noise
                else frame_image(i, width, height)
            )
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            if times_s is not None:
                frame.pts = round(times_s[i] * 1000)
                frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def avi_chunks(data: bytes | bytearray) -> list[tuple[int, int]]:
    """(payload offset, payload size) of each stream chunk in an AVI file's movi list."""
    movi = data.find(b"movi")
    end = movi - 4 + struct.unpack_from("<I", data, movi - 4)[0]
    pos, chunks = movi + 4, []
    while pos + 8 <= end:
        tag, size = bytes(data[pos : pos + 4]), struct.unpack_from("<I", data, pos + 4)[0]
        if tag == b"LIST":
            pos += 12
            continue
        chunks.append((pos + 8, size))
        pos += 8 + size + (size & 1)
    return chunks
