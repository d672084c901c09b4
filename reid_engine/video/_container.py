"""Opening untrusted files with PyAV: file checks, demuxer whitelist, and translation into VideoError."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager

import av
import av.error
from av.container import InputContainer
from av.stream import Disposition
from av.video.stream import VideoStream

from reid_engine.errors import VideoError
from reid_engine.video.limits import VideoLimits, format_bytes

logger = logging.getLogger(__name__)

# Demuxers that read only the file they were given. Everything else is refused when the file is opened:
# hls, dash and concat would follow references inside an upload and read any file the worker can read,
# image2 expands patterns, and the network demuxers have no business here. "mov" also covers mp4/3gp,
# "matroska" covers webm, "mpeg" is the program stream many NVR exports use, "dhav" is Dahua's .dav.
ALLOWED_DEMUXERS: tuple[str, ...] = (
    "mov",
    "matroska",
    "avi",
    "mpegts",
    "mpeg",
    "flv",
    "asf",
    "h264",
    "hevc",
    "dhav",
)

# Raw elementary streams: no container, so no timestamps and no duration.
RAW_DEMUXERS: tuple[str, ...] = ("h264", "hevc")

_CONTAINER_OPTIONS: dict[str, str] = {
    "format_whitelist": ",".join(ALLOWED_DEMUXERS),
    # Belt and braces: even a whitelisted demuxer may only ever open plain local files.
    "protocol_whitelist": "file",
}

# FFmpeg recognises these scripts by their first bytes whatever the file is called; they are refused by the
# whitelist anyway, this only gives the user a clearer reason.
_SCRIPT_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"#EXTM3U", "an HLS playlist"),
    (b"ffconcat", "an FFmpeg concat script"),
)

# Pixels a decoder may pad a frame by (macroblocks, superblocks) when it checks max_pixels.
_CODED_PADDING = 128

UNSUPPORTED_FORMAT = (
    "unsupported video format (accepted: MP4/MOV, MKV/WebM, AVI, MPEG-TS/PS, FLV, ASF, DAV, raw H.264/H.265)"
)


def local_path(path: str | os.PathLike[str]) -> str:
    """The absolute path FFmpeg is given.

    An absolute path starts with "/", so FFmpeg can never read a prefix such as ``concat:`` or ``subfile,``
    in a file name as a protocol.
    """
    return os.path.abspath(os.fsdecode(path))


def check_file(path: str, limits: VideoLimits) -> int:
    """Checks that ``path`` is a non-empty regular file within the size limit that is not a playlist.

    Returns:
        The file size in bytes.

    Raises:
        VideoError: the file is missing, unreadable, empty, too large or a playlist/script.
    """
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            # A FIFO or device would block or never end; a directory is a caller mistake.
            raise VideoError("not a regular file")
        if st.st_size == 0:
            raise VideoError("empty file")
        if st.st_size > limits.max_bytes:
            raise VideoError(
                f"file is {format_bytes(st.st_size)}; the limit is {format_bytes(limits.max_bytes)}"
            )
        with open(path, "rb") as fh:
            head = fh.read(512)
    except FileNotFoundError:
        raise VideoError("file not found") from None
    except OSError as exc:
        raise VideoError(f"cannot read file: {exc.strerror or type(exc).__name__}") from None
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    for magic, what in _SCRIPT_MAGIC:
        if head.startswith(magic):
            raise VideoError(f"not a video file (it is {what})")
    if _looks_like_text(head):
        raise VideoError("not a video file (it is a text document)")
    return st.st_size


def _looks_like_text(head: bytes) -> bool:
    # Every accepted container has binary bytes (box sizes, chunk sizes, sync codes) in its first
    # few dozen bytes, so a head that decodes as printable text is never a video.
    if not head or b"\0" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # A multi-byte character cut at the end of the head is still text.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.97 * len(text)


@contextmanager
def open_input(path: str, *, timeout_s: float | None = None) -> Iterator[InputContainer]:
    """Opens ``path`` for reading with the demuxer and protocol whitelists, and closes it on exit.

    Args:
        path: absolute path from :func:`local_path`.
        timeout_s: interrupt FFmpeg when opening, or any single read, takes longer; None for no limit.

    Raises:
        VideoError: the container format is not on the whitelist, or the file ends before any frame.
        av.error.FFmpegError: anything else FFmpeg reports; the caller's boundary translates it.
    """
    try:
        container = av.open(
            path,
            mode="r",
            container_options=dict(_CONTAINER_OPTIONS),
            # Broken metadata must not raise UnicodeDecodeError from a property access later.
            metadata_errors="replace",
            timeout=None if timeout_s is None else (timeout_s, timeout_s),
        )
    except av.error.ArgumentError:
        # EINVAL from avformat_open_input with only whitelist options set means the probed demuxer
        # is not on the whitelist (FFmpeg logs "Format not on whitelist").
        raise VideoError(UNSUPPORTED_FORMAT) from None
    except av.error.EOFError:
        # Opening reads the headers and looks at the first packets; running out of file there
        # means there is no frame at all (an MKV or WebM closed before its first frame, or a file
        # cut inside its header).
        raise VideoError("video has no frames (the file ends before the first one)") from None
    try:
        yield container
    finally:
        container.close()


def video_stream(container: InputContainer) -> VideoStream:
    """The first real video stream (cover art does not count).

    Raises:
        VideoError: there is none, or FFmpeg has no decoder for it.
    """
    for stream in container.streams.video:
        if stream.disposition & Disposition.attached_pic:
            continue
        if stream.codec_context is None:
            # FFmpeg has no decoder; PyAV then exposes no codec name either.
            raise VideoError("unsupported video codec")
        return stream
    raise VideoError("not a video file (no video stream)")


def check_dims(width: int, height: int, limits: VideoLimits) -> None:
    """Raises VideoError when a frame size is unknown or beyond the limits (either orientation)."""
    if width <= 0 or height <= 0:
        raise VideoError("unsupported or corrupt video: frame size unknown")
    w_max, h_max = limits.max_width, limits.max_height
    if not ((width <= w_max and height <= h_max) or (width <= h_max and height <= w_max)):
        raise VideoError(f"video is {width}x{height} pixels; the limit is {w_max}x{h_max}")


def prepare_decoder(stream: VideoStream, limits: VideoLimits, *, threaded: bool) -> None:
    """Sets decoder options; must run before the first packet is decoded, when PyAV opens the codec."""
    # max_pixels makes FFmpeg refuse to allocate a frame far beyond our limit, so a bitstream that grows
    # mid-stream fails one packet instead of exhausting memory. Decoders check the coded size, padded to
    # whole macroblocks or superblocks (up to 128 px), so leave that margin; check_dims is the exact check.
    max_pixels = (limits.max_width + _CODED_PADDING) * (limits.max_height + _CODED_PADDING)
    stream.codec_context.options = {"max_pixels": str(max_pixels)}
    if threaded:
        stream.codec_context.thread_type = "AUTO"


def reason(exc: BaseException) -> str:
    """A short, path-free description of an exception for a user-facing message."""
    if isinstance(exc, av.error.FFmpegError | OSError) and exc.strerror:
        text = str(exc.strerror)
        return text[:1].lower() + text[1:]
    if isinstance(exc, MemoryError):
        return "out of memory while decoding"
    return f"unreadable data ({type(exc).__name__})"


def to_video_error(exc: Exception) -> VideoError:
    """Translates anything PyAV raised on bad input into one VideoError, logging the original."""
    if isinstance(exc, av.error.FFmpegError):
        logger.info("FFmpeg rejected a video: %r", exc)
    else:
        # PyAV raises IndexError, UnicodeDecodeError and friends on some garbage; keep the traceback
        # in the log since the user only sees a one-line reason.
        logger.warning("unexpected %s while reading a video", type(exc).__name__, exc_info=exc)
    return VideoError(f"unsupported or corrupt video: {reason(exc)}")
