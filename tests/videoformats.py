"""Writing the formats recorders export, from real frames, with PyAV (and Dahua's DHAV framing by hand).

What each file is known to hold is kept next to how it is made, so the engine's probe tests and the
web's upload tests check the same things.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.stream import VideoStream

FPS = 10


@dataclass(frozen=True)
class Export:
    """One way recorders hand footage over, and what the engine must read it as.

    Attributes:
        name: the file name it is written under (its extension is what an investigator receives).
        muxer: PyAV's output format, or ``"dhav"`` for the hand-made DHAV framing.
        encoder: PyAV's video encoder.
        container: the demuxer the probe must name.
        codec: the decoder the probe must name.
        timestamps: the probe's ``timestamps``.
        options: encoder options.
    """

    name: str
    muxer: str
    encoder: str
    container: str
    codec: str
    timestamps: str = "container"
    options: dict[str, str] = field(default_factory=dict)


MP4 = "mov,mp4,m4a,3gp,3g2,mj2"
# x265's timing information off: a raw stream that declares no frame rate at all.
_NO_TIMING = {"x265-params": "vui-timing-info=0"}

EXPORTS: tuple[Export, ...] = (
    Export("dahua.dav", "dhav", "libx264", "dhav", "h264"),
    Export("export.264", "h264", "libx264", "h264", "h264", "stream_rate"),
    Export("export.265", "hevc", "libx265", "hevc", "hevc", "stream_rate"),
    Export("untimed.hevc", "hevc", "libx265", "hevc", "hevc", "default_rate", _NO_TIMING),
    Export("export.asf", "asf", "msmpeg4", "asf", "msmpeg4"),
    Export("export.wmv", "asf", "wmv2", "asf", "wmv2"),
    Export("export.mpg", "vob", "mpeg2video", "mpeg", "mpeg2video"),
    Export("nvr.ps", "mpeg", "libx264", "mpeg", "h264"),
    Export("export.flv", "flv", "libx264", "flv", "h264"),
    Export("export.ts", "mpegts", "libx264", "mpegts", "h264"),
    Export("export.mts", "mpegts", "libx265", "mpegts", "hevc"),
    Export("hevc.mkv", "matroska", "libx265", "matroska,webm", "hevc"),
    Export("hevc.mp4", "mp4", "libx265", MP4, "hevc"),
)
"""Every export format the upload accepts that can be generated here, one file each."""


def source_frames(source: Path, *, start_s: float, seconds: float, scale: int = 1) -> list[np.ndarray]:
    """RGB frames of ``source`` (a 10 fps video) from ``start_s`` for ``seconds``, ``scale`` times smaller."""
    frames = []
    with av.open(str(source)) as src:
        stream = src.streams.video[0]
        width, height = stream.codec_context.width // scale, stream.codec_context.height // scale
        for index, frame in enumerate(src.decode(stream)):
            t = index / FPS
            if t < start_s:
                continue
            if t >= start_s + seconds:
                break
            frames.append(frame.reformat(width=width, height=height, format="rgb24").to_ndarray())
    return frames


def write_export(export: Export, dest: Path, frames: Sequence[np.ndarray], *, fps: int = FPS) -> Path:
    """Encodes ``frames`` as ``export`` describes, at ``fps``."""
    if export.muxer == "dhav":
        return write_dhav(dest, frames, fps=fps)
    height, width = frames[0].shape[:2]
    with av.open(str(dest), "w", format=export.muxer) as out:
        stream = out.add_stream(export.encoder, rate=fps)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = _encoder_options(export.encoder, export.options)
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return dest


def _encoder_options(encoder: str, extra: dict[str, str]) -> dict[str, str]:
    options = dict(extra)
    if encoder in ("libx264", "libx265"):
        options.setdefault("preset", "ultrafast")
    if encoder == "libx265":
        options["x265-params"] = ":".join(p for p in (options.get("x265-params"), "log-level=error") if p)
    return options


# ---- Dahua DHAV ----
#
# A .dav file is a sequence of frames, each framed as (little-endian):
#   "DHAV", type (0xFD video key frame, 0xFC other video frame, 0xF0 audio), subtype, channel,
#   sub-number, frame number (u32), frame length (u32: header, extension, payload and trailer),
#   date (u32: seconds 6 bits, minutes 6, hours 5, day 5, month 4, years since 2000 6),
#   milliseconds (u16), extension length (u8), header checksum (u8: sum of the 23 bytes before it),
#   extension fields (0x81: codec and frame rate; 0x82: width and height), the payload (an H.264
#   access unit, Annex B), then "dhav" and the frame length again.
# This is the layout FFmpeg's dhav demuxer reads; real recorders add fields (audio, motion data,
# the "DAHUA" file header) that this writer does not produce.

_DHAV_H264 = 0x02


def write_dhav(
    dest: Path, frames: Sequence[np.ndarray], *, fps: int = FPS, start: tuple[int, ...] = (2026, 11, 2, 9, 0, 0)
) -> Path:
    """Writes ``frames`` as H.264 in DHAV framing, a key frame every second with its SPS and PPS."""
    height, width = frames[0].shape[:2]
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base, codec.framerate = Fraction(1, fps), Fraction(fps)
    codec.options = {"preset": "ultrafast", "x264-params": f"keyint={fps}:repeat-headers=1:bframes=0"}
    ext = bytes([0x81, 0, _DHAV_H264, fps, 0x82, 0, 0, 0]) + struct.pack("<HH", width, height)
    with dest.open("wb") as out:
        for number, packet in enumerate(_encoded(codec, frames)):
            ms = number * 1000 // fps
            key = bool(packet.is_keyframe)
            out.write(_dhav_frame(0xFD if key else 0xFC, number, ms, bytes(packet), ext if key else b"", start))
    return dest


def _encoded(codec: av.CodecContext, frames: Sequence[np.ndarray]) -> Iterator[av.Packet]:
    for index, image in enumerate(frames):
        frame = av.VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = index
        yield from codec.encode(frame)
    yield from codec.encode(None)


def _dhav_frame(kind: int, number: int, ms: int, payload: bytes, ext: bytes, start: tuple[int, ...]) -> bytes:
    length = 24 + len(ext) + len(payload) + 8
    head = bytearray(b"DHAV" + bytes([kind, 0, 0, 0]))
    head += struct.pack("<III", number, length, _dhav_date(start, ms // 1000))
    head += struct.pack("<HBB", ms % 65536, len(ext), 0)
    head[23] = sum(head[:23]) & 0xFF
    return bytes(head) + ext + payload + b"dhav" + struct.pack("<I", length)


def _dhav_date(start: tuple[int, ...], plus_s: int) -> int:
    year, month, day, hour, minute, second = start
    second += plus_s
    minute, second = minute + second // 60, second % 60
    hour, minute = hour + minute // 60, minute % 60
    return second | minute << 6 | hour << 12 | day << 17 | month << 22 | (year - 2000) << 26
