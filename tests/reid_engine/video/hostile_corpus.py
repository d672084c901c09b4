"""A seeded corpus of hostile and broken uploads, generated from a few real clips.

Each file is what an upload folder would hold: real clips under lying names, truncations, bit flips,
garbage bursts, header damage, decompression bombs (tiny files declaring huge frames, many frames),
absurd frame rates and durations, HLS playlists and concat scripts pointing at a sentinel video that
lies outside the upload folder, and things that are not video at all.
"""

from __future__ import annotations

import ctypes
import os
import random
import struct
from dataclasses import dataclass
from pathlib import Path

import av
from videogen import write_video

EXTENSIONS = (".mp4", ".mkv", ".avi", ".webm", ".ts", ".mov", ".m4v", ".mts")


@dataclass(frozen=True)
class Hostile:
    path: Path
    kind: str


def _bases(folder: Path) -> dict[str, bytes]:
    """Real short clips in each container the product accepts."""
    folder.mkdir()
    specs = {
        "mp4": dict(codec="libx264", container_format="mp4"),
        "mp4fs": dict(codec="libx264", container_format="mp4", faststart=True),
        "mkv": dict(codec="libx264", container_format="matroska"),
        "avi": dict(codec="mjpeg", container_format="avi", pix_fmt="yuvj420p"),
        "ts": dict(codec="libx264", container_format="mpegts"),
        "mov": dict(codec="libx264", container_format="mov"),
        "flv": dict(codec="flv", container_format="flv"),
        "h264": dict(codec="libx264", container_format="h264"),
    }
    if "libvpx" in av.codecs_available:
        specs["webm"] = dict(codec="libvpx", container_format="webm")
    out = {}
    for name, spec in specs.items():
        path = folder / f"base.{name}"
        write_video(path, frames=16, noise=True, **spec)  # type: ignore[arg-type]
        out[name] = path.read_bytes()
    return out


def _patch_mjpeg_sizes(data: bytes, height: int, width: int) -> bytes:
    """Rewrite the frame size in every JPEG start-of-frame marker of an MJPEG AVI."""
    blob = bytearray(data)
    pos = blob.find(b"\xff\xc0")
    while pos != -1:
        struct.pack_into(">HH", blob, pos + 5, height, width)
        pos = blob.find(b"\xff\xc0", pos + 9)
    return bytes(blob)


def _patch_avi_rate(data: bytes, micro_s_per_frame: int, scale: int, rate: int) -> bytes:
    blob = bytearray(data)
    avih = blob.find(b"avih")
    struct.pack_into("<I", blob, avih + 8, micro_s_per_frame)
    strh = blob.find(b"strh")
    struct.pack_into("<II", blob, strh + 28, scale, rate)
    return bytes(blob)


def _patch_mp4_timescale(data: bytes, timescale: int, duration: int) -> bytes:
    blob = bytearray(data)
    pos = blob.find(b"mdhd")
    while pos != -1:
        if blob[pos + 4] == 0:  # version 0: 32-bit times
            struct.pack_into(">II", blob, pos + 16, timescale, duration)
        pos = blob.find(b"mdhd", pos + 4)
    return bytes(blob)


def build_corpus(root: Path, sentinel: Path, seed: int = 2026) -> list[Hostile]:
    """Write the corpus under ``root / "uploads"``; ``sentinel`` is a video outside that folder."""
    rng = random.Random(seed)
    bases = _bases(root / "bases")
    uploads = root / "uploads"
    uploads.mkdir()
    files: list[Hostile] = []

    def add(kind: str, data: bytes | str, ext: str) -> None:
        path = uploads / f"{len(files):04d}-{kind}{ext}"
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        files.append(Hostile(path, kind))

    for name, data in bases.items():
        add(f"{name}-intact", data, f".{name}")
        for ext in rng.sample(EXTENSIONS, 3):  # lying extensions: the content decides, never the name
            add(f"{name}-named{ext[1:]}", data, ext)
        for _ in range(8):
            add(f"{name}-truncated", data[: rng.randrange(1, len(data))], f".{name}")
        for flips in (1, 1, 4, 16, 64, 256):
            blob = bytearray(data)
            for _ in range(flips):
                blob[rng.randrange(len(blob))] ^= 1 << rng.randrange(8)
            add(f"{name}-flip{flips}", bytes(blob), f".{name}")
        for _ in range(3):
            blob = bytearray(data)
            start, size = rng.randrange(len(blob)), rng.randrange(16, 2048)
            burst = bytes(size) if rng.random() < 0.5 else rng.randbytes(size)
            blob[start : start + size] = burst[: len(blob) - start]
            add(f"{name}-burst", bytes(blob), f".{name}")
        for _ in range(3):
            blob = bytearray(data)
            for _ in range(8):
                blob[rng.randrange(min(256, len(blob)))] = rng.randrange(256)
            add(f"{name}-header", bytes(blob), f".{name}")
        add(f"{name}-doubled", data + data, f".{name}")
        add(f"{name}-prefixed", rng.randbytes(rng.randrange(1, 600)) + data, f".{name}")

    # Bombs and absurd headers.
    for height, width in ((65535, 65535), (1, 65535), (65535, 1), (8000, 8000), (4321, 7681), (0, 0), (16, 0)):
        add(f"mjpeg-dims-{width}x{height}", _patch_mjpeg_sizes(bases["avi"], height, width), ".avi")
    for us, scale, rate in ((0, 0, 0), (1, 1, 1_000_000_000), (4_000_000_000, 1_000_000_000, 1), (1, 0, 25),
                            (100_000, 1, 0), (33_333, 0xFFFFFFFF, 0xFFFFFFFF)):
        add(f"avi-rate-{scale}-{rate}", _patch_avi_rate(bases["avi"], us, scale, rate), ".avi")
    for timescale, duration in ((1, 0xFFFFFFFF), (0xFFFFFFFF, 1), (0, 0), (1, 1), (90000, 0xFFFFFFFF), (7, 3)):
        add(f"mp4-timescale-{timescale}-{duration}", _patch_mp4_timescale(bases["mp4"], timescale, duration), ".mp4")
    bomb = root / "bases" / "bomb.mp4"
    write_video(bomb, codec="libx264", frames=30, width=3840, height=2160)  # flat frames: ~40 KB, 750 MB decoded
    add("bomb-4k", bomb.read_bytes(), ".mp4")
    many = root / "bases" / "many.mkv"
    write_video(many, codec="libx264", container_format="matroska", frames=3000, width=16, height=16, fps=1000)
    add("bomb-frames", many.read_bytes(), ".mkv")

    # Files pointing at other files: each would make an unrestricted FFmpeg decode the sentinel.
    rel = os.path.relpath(sentinel, uploads)
    targets = (str(sentinel), rel, f"file:{sentinel}", f"file://{sentinel}", "http://127.0.0.1:9/x.ts")
    for target in targets:
        playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{target}\n#EXT-X-ENDLIST\n"
        for prefix in ("", "\ufeff", "  \n", "\r\n"):
            for ext in (".mp4", ".m3u8", ".ts"):
                add("hls", prefix + playlist, ext)
        add("ffconcat", f"ffconcat version 1.0\nfile '{target}'\n", ".mp4")
        add("ffconcat-bom", f"\ufeffffconcat version 1.0\nfile '{target}'\n", ".mkv")
        add("concat-list", f"file '{target}'\n", ".txt.mp4")
        add("hls-master", f"#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n{target}\n", ".mp4")
        add("hls-binary-tail", f"#EXTM3U\n#EXTINF:2,\n{target}\n".encode() + bytes(64), ".mp4")
    add("concat-protocol-name", bases["mp4"], ".mp4")
    # A name FFmpeg would read as a protocol if it were passed on as given, not as an absolute path.
    files[-1].path.rename(uploads / "concat:x.mp4|subfile,,start,0,end,0,,:x.mp4")
    files[-1] = Hostile(uploads / "concat:x.mp4|subfile,,start,0,end,0,,:x.mp4", "protocol-name")

    # Not video at all.
    add("empty", b"", ".mp4")
    add("zeros", bytes(100_000), ".mp4")
    add("ones", b"\xff" * 50_000, ".avi")
    add("text", "Witness statement: a man in a red jacket walked north.\n" * 50, ".mp4")
    add("html", "<!doctype html><html><body><video src='x.mp4'></video></body></html>", ".mp4")
    add("json", '{"camera": 3, "file": "clip.mp4"}', ".mkv")
    add("svg", "<svg xmlns='http://www.w3.org/2000/svg'><image href='file:///etc/passwd'/></svg>", ".mov")
    for _ in range(6):
        add("random", rng.randbytes(rng.choice((16, 700, 9000, 120_000))), rng.choice(EXTENSIONS))
    for magic in (b"\x1aE\xdf\xa3", b"RIFF\x00\x00\x00\x00AVI ", b"\x00\x00\x00\x18ftypmp42", b"G", b"FLV\x01",
                  b"\x00\x00\x01\xba", b"\x00\x00\x00\x01\x67", b"DHAV", b"0&\xb2u\x8ef\xcf\x11"):
        add("magic-only", magic, ".mp4")
        add("magic-then-random", magic + rng.randbytes(5000), ".mp4")
    return files


IN_OPEN, IN_ACCESS = 0x20, 0x01


class OpenWatch:
    """Counts opens and reads of files in one folder, seen by the kernel (inotify), whoever does them."""

    def __init__(self, folder: Path) -> None:
        self._libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK)
        if self._fd < 0 or self._libc.inotify_add_watch(self._fd, os.fsencode(folder), IN_OPEN | IN_ACCESS) < 0:
            raise OSError(ctypes.get_errno(), "inotify is unavailable")

    def events(self) -> int:
        count = 0
        while True:
            try:
                data = os.read(self._fd, 65536)
            except BlockingIOError:
                return count
            pos = 0
            while pos < len(data):
                _, _, _, length = struct.unpack_from("iIII", data, pos)
                pos += 16 + length
                count += 1

    def close(self) -> None:
        os.close(self._fd)
