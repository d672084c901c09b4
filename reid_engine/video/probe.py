"""Probe an untrusted video: container, codec, size, rate, duration and rotation, before bulk decoding."""

from __future__ import annotations

import logging
import math
import os
import time
from dataclasses import dataclass
from fractions import Fraction

import av
import av.error
from av.container import InputContainer
from av.packet import Packet
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from reid_engine.errors import VideoError
from reid_engine.types import VideoInfo
from reid_engine.video._container import (
    RAW_DEMUXERS,
    check_dims,
    check_file,
    local_path,
    open_input,
    prepare_decoder,
    reason,
    to_video_error,
    video_stream,
)
from reid_engine.video.limits import DEFAULT_LIMITS, VideoLimits, format_duration

logger = logging.getLogger(__name__)

# Rates outside this range are time bases or garbage, not frame rates.
_MAX_SANE_FPS = 1000.0
# Corrupt packets tolerated before the first frame decodes; a stream cut mid-GOP needs a few.
_MAX_PROBE_ERRORS = 200
# Share of the probe budget spent counting the packets of a stream that declares no duration.
_COUNT_BUDGET_FRACTION = 0.25

RAW_DEFAULT_FPS = 25.0
"""The rate frame times of a raw H.264/H.265 stream are counted at when its bitstream declares none:
FFmpeg's own default for raw streams, and the PAL rate most recorders outside North America use."""

_CODEC_NAMES = {"h264": "H.264", "hevc": "H.265"}
# Demuxers whose declared duration is too coarse to use: DHAV's comes from the recorder's clock in the
# first and last frames, to the second (a 2 s export says 1 s). Their packets are counted instead.
_COARSE_DURATION_DEMUXERS = ("dhav",)


@dataclass(kw_only=True)
class _Scan:
    """What reading the start of the video stream found."""

    first_frame: VideoFrame | None = None
    packets: int = 0
    first_pts_s: float | None = None
    last_pts_s: float | None = None
    bytes_read: int = 0
    complete: bool = False
    errors: int = 0
    last_error: str | None = None


def probe_video(path: str | os.PathLike[str], *, limits: VideoLimits = DEFAULT_LIMITS) -> VideoInfo:
    """Inspects a video file and decodes its first frame, refusing anything unusable or hostile.

    Only whitelisted demuxers that read a single local file are used (see ``ALLOWED_DEMUXERS``), so a
    playlist or concat script under any name cannot make FFmpeg read another file. Frame rate, duration
    and frame count come from the container when it declares them; otherwise they are estimated from the
    stream's packets (a raw H.264 elementary stream declares none).

    Args:
        path: the file to probe.
        limits: size, dimension, duration and frame-count limits, and the probing time budget.

    Returns:
        What the file holds. ``rotation`` is the clockwise rotation, in degrees, that displays the frames
        upright (the display matrix of phone videos, or the legacy ``rotate`` tag); ``width`` and
        ``height`` are the stored size, before rotation.

    Raises:
        VideoError: the file is missing, empty, too large, not a video, an unsupported or corrupt video,
            beyond a limit, or takes longer than ``limits.probe_timeout_s`` to probe. The message is one
            short line meant for the person who uploaded the file.
    """
    local = local_path(path)
    size_bytes = check_file(local, limits)
    deadline = time.monotonic() + limits.probe_timeout_s
    try:
        with open_input(local, timeout_s=limits.probe_timeout_s) as container:
            info = _inspect(container, size_bytes=size_bytes, limits=limits, deadline=deadline)
    except VideoError:
        raise
    except av.error.ExitError:
        # AVERROR_EXIT comes only from the interrupt callback that enforces the timeout.
        raise VideoError(_timeout_message(limits)) from None
    except Exception as exc:  # noqa: BLE001 - the one boundary where PyAV's many exception types become one
        raise to_video_error(exc) from None
    logger.debug("probed %s: %s", local, info)
    return info


def _timeout_message(limits: VideoLimits) -> str:
    return f"video took longer than {limits.probe_timeout_s:g} s to probe"


def _inspect(
    container: InputContainer, *, size_bytes: int, limits: VideoLimits, deadline: float
) -> VideoInfo:
    stream = video_stream(container)
    codec = stream.codec_context
    if codec.width and codec.height:
        # Before decoding anything: a header claiming a huge frame must not get a buffer allocated.
        check_dims(codec.width, codec.height, limits)
    prepare_decoder(stream, limits, threaded=False)

    declared_duration = None if container.format.name in _COARSE_DURATION_DEMUXERS else _declared_duration_s(
        container, stream
    )
    declared_frames = stream.frames if stream.frames > 0 else None
    timestamps = "container"
    if container.format.name in RAW_DEMUXERS:
        # No timestamps at all, and the demuxer's average rate is its default whatever the stream says:
        # only the rate in the bitstream's own timing information (H.264/H.265 VUI) counts.
        timestamps = "stream_rate"
        fps = _sane_rate(codec.framerate)
    else:
        fps = _declared_fps(stream, timestamps_known=declared_duration is not None)
    need_scan = fps is None or (declared_duration is None and declared_frames is None)

    scan = _scan(container, stream, need_scan=need_scan, limits=limits, deadline=deadline)
    first = scan.first_frame
    if first is None and scan.complete and scan.packets == 0 and scan.errors == 0:
        # A stream header with nothing behind it: a recording stopped before its first frame
        # (fragmented MP4 with an empty moov, MKV or AVI closed at once).
        raise VideoError("video has no frames (its video stream is empty)")
    if first is None:
        detail = f" ({scan.last_error})" if scan.last_error else ""
        raise VideoError(f"unsupported or corrupt video: no frame could be decoded{detail}")
    check_dims(first.width, first.height, limits)

    if timestamps != "container" and fps is None:
        # The decoder may read the timing information only with the first frame.
        fps = _sane_rate(codec.framerate)
        if fps is None:
            fps, timestamps = RAW_DEFAULT_FPS, "default_rate"
    if fps is None:
        fps = _measured_fps(scan, first)
    if fps is None:
        raise VideoError("unsupported or corrupt video: frame rate unknown")

    duration_s = declared_duration
    frame_count = declared_frames
    if duration_s is None and frame_count is not None:
        duration_s = frame_count / fps
    if duration_s is None:
        frame_count = _scanned_frame_count(scan, size_bytes)
        duration_s = frame_count / fps
        if scan.first_pts_s is not None and scan.last_pts_s is not None and scan.complete:
            duration_s = max(duration_s, scan.last_pts_s - scan.first_pts_s + 1 / fps)
    if frame_count is None:
        frame_count = max(1, round(duration_s * fps))
    if not duration_s > 0:
        raise VideoError("unsupported or corrupt video: duration unknown")

    if duration_s > limits.max_duration_s:
        raise VideoError(
            f"video is {format_duration(duration_s)} long; the limit is {format_duration(limits.max_duration_s)}"
        )
    if frame_count > limits.max_frames:
        raise VideoError(f"video has {frame_count} frames; the limit is {limits.max_frames}")

    return VideoInfo(
        container=container.format.name,
        codec=codec.name,
        width=first.width,
        height=first.height,
        fps=fps,
        duration_s=duration_s,
        frame_count=frame_count,
        size_bytes=size_bytes,
        rotation=_rotation(stream, first),
        timestamps=timestamps,
    )


def timing_warning(info: VideoInfo) -> str | None:
    """What the user should know about the frame times of a stream without timestamps, or None.

    Every time the engine reports for such a stream (a person's span, a sighting's clip) is counted
    from its first frame at ``info.fps``.
    """
    name = _CODEC_NAMES.get(info.codec, info.codec)
    if info.timestamps == "stream_rate":
        return f"raw {name} stream without timestamps: frame times counted at the {info.fps:g} fps the stream declares"
    if info.timestamps == "default_rate":
        return (
            f"raw {name} stream without timestamps or a declared frame rate: frame times counted at a default "
            f"{info.fps:g} fps, so times and the duration may be off"
        )
    return None


def _declared_duration_s(container: InputContainer, stream: VideoStream) -> float | None:
    if stream.duration and stream.time_base and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    if container.duration and container.duration > 0:
        # The container's duration may include a longer audio track; it is the best there is.
        return container.duration / av.time_base
    return None


def _sane_rate(rate: Fraction | None) -> float | None:
    if rate is None or rate.denominator == 0:
        return None
    value = float(rate)
    return value if 0 < value <= _MAX_SANE_FPS else None


def _declared_fps(stream: VideoStream, *, timestamps_known: bool) -> float | None:
    rates = [stream.average_rate, stream.guessed_rate, stream.base_rate]
    if not timestamps_known:
        # Without real timestamps (raw H.264/H.265) the average rate is the demuxer's default of 25,
        # while the guessed rate reads the bitstream's own timing information.
        rates = [stream.guessed_rate, stream.average_rate, stream.base_rate]
    for rate in rates:
        value = _sane_rate(rate)
        if value is not None:
            return value
    return None


def _scan(
    container: InputContainer,
    stream: VideoStream,
    *,
    need_scan: bool,
    limits: VideoLimits,
    deadline: float,
) -> _Scan:
    """Decodes the first frame and, when the container declares too little, counts packets to the end."""
    scan = _Scan()
    count_until = deadline
    for packet in container.demux(stream):
        now = time.monotonic()
        if scan.first_frame is None and now > deadline:
            raise VideoError(_timeout_message(limits))
        if scan.first_frame is not None and now > count_until:
            logger.info("stopped counting packets after %d; estimating the rest", scan.packets)
            return scan
        if packet.size:
            _count(scan, packet)
            if scan.packets > limits.max_frames:
                raise VideoError(
                    f"video has more than {limits.max_frames} frames; the limit is {limits.max_frames}"
                )
        if scan.first_frame is None:
            try:
                frames = stream.decode(packet)
            except av.error.EOFError:
                frames = []
            except av.error.FFmpegError as exc:
                scan.errors += 1
                scan.last_error = reason(exc)
                if scan.errors >= _MAX_PROBE_ERRORS:
                    return scan
                continue
            if frames:
                scan.first_frame = frames[0]
                if not need_scan:
                    return scan
                # Counting a long raw stream could take the whole budget; a quarter of it gives a good
                # extrapolation and keeps the probe quick.
                count_until = min(deadline, now + limits.probe_timeout_s * _COUNT_BUDGET_FRACTION)
    scan.complete = True
    return scan


def _count(scan: _Scan, packet: Packet) -> None:
    scan.packets += 1
    scan.bytes_read = max(scan.bytes_read, (packet.pos or 0) + packet.size)
    ts = packet.pts if packet.pts is not None else packet.dts
    if ts is not None and packet.time_base is not None:
        t = float(ts * packet.time_base)
        scan.first_pts_s = t if scan.first_pts_s is None else min(scan.first_pts_s, t)
        scan.last_pts_s = t if scan.last_pts_s is None else max(scan.last_pts_s, t)


def _measured_fps(scan: _Scan, first: VideoFrame) -> float | None:
    if scan.packets >= 2 and scan.first_pts_s is not None and scan.last_pts_s is not None:
        span = scan.last_pts_s - scan.first_pts_s
        if span > 0:
            value = _sane_rate(Fraction(scan.packets - 1) / Fraction(span))
            if value is not None:
                return value
    if first.duration and first.time_base:
        return _sane_rate(1 / (first.duration * first.time_base))
    return None


def _scanned_frame_count(scan: _Scan, size_bytes: int) -> int:
    if scan.complete or scan.bytes_read <= 0:
        return max(1, scan.packets)
    # The time budget ran out: extrapolate from how far into the file the packets reached.
    return max(1, math.ceil(scan.packets * size_bytes / scan.bytes_read))


def _rotation(stream: VideoStream, first: VideoFrame) -> int:
    """Clockwise display rotation in degrees, one of 0, 90, 180, 270."""
    # FFmpeg copies the stream's display matrix onto each decoded frame; PyAV reports it counter-clockwise.
    clockwise = -float(first.rotation)
    if not clockwise:
        tag = stream.metadata.get("rotate", "0")
        try:
            clockwise = float(tag)
        except ValueError:
            logger.info("ignoring unreadable rotate tag %r", tag)
            clockwise = 0.0
    if not math.isfinite(clockwise):
        return 0
    quarter = round(clockwise / 90) % 4
    if abs(clockwise - round(clockwise / 90) * 90) > 1:
        logger.info("display rotation %.1f degrees rounded to %d", clockwise, quarter * 90)
    return quarter * 90
