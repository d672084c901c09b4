"""Decode an untrusted video into RGB frames, sampled by timestamp, surviving corrupt packets and bombs."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass

import av.error
import numpy as np
from av.container import InputContainer
from av.packet import Packet
from av.video.frame import VideoFrame
from av.video.stream import VideoStream

from reid_engine.errors import VideoError
from reid_engine.types import Frame, VideoInfo
from reid_engine.video._container import (
    check_dims,
    check_file,
    local_path,
    open_input,
    prepare_decoder,
    reason,
    to_video_error,
    video_stream,
)
from reid_engine.video.limits import DEFAULT_LIMITS, VideoLimits, format_bytes
from reid_engine.video.probe import probe_video

logger = logging.getLogger(__name__)

# A frame within this many seconds before a sampling slot fills it; absorbs float rounding of timestamps.
_SLOT_TOLERANCE_S = 1e-3
# Corrupt packets tolerated before anything decodes, so a file of garbage behind a valid header ends early.
_MAX_LEADING_ERRORS = 200


@dataclass(kw_only=True)
class DecodeStats:
    """Counters that :func:`iter_frames` fills while it is iterated.

    Attributes:
        frames_decoded: frames yielded.
        frames_skipped: packets or frames the decoder rejected as corrupt, skipped.
        decoded_bytes: RGB bytes yielded (H × W × 3 per frame), the quantity ``max_decoded_bytes`` bounds.
        last_error: the last decode or read error, as a short reason, or None.
        frames_seen: frames the decoder produced, including those sampling dropped.
        end_s: time just past the last decoded frame, in seconds from the start of the stream.
        truncated: the stream ended clearly before the duration the probe found (cut upload, read
            error); the frames before the cut were still yielded.
    """

    frames_decoded: int = 0
    frames_skipped: int = 0
    decoded_bytes: int = 0
    last_error: str | None = None
    frames_seen: int = 0
    end_s: float = 0.0
    truncated: bool = False


def iter_frames(
    path: str | os.PathLike[str],
    *,
    info: VideoInfo | None = None,
    sample_fps: float | None = None,
    limits: VideoLimits = DEFAULT_LIMITS,
    stats: DecodeStats | None = None,
) -> Generator[Frame, None, None]:
    """Decodes a video lazily into RGB frames, optionally sampled at about ``sample_fps``.

    Sampling follows presentation timestamps, not frame counts: the first frame at or after each slot
    ``k / sample_fps`` seconds is kept, so a variable-frame-rate video is sampled evenly in time. Frames
    that sampling drops are never converted to RGB. Corrupt packets in the middle are skipped and counted
    in ``stats.frames_skipped``; a file cut short yields the frames before the cut and sets
    ``stats.truncated``. Compare ``stats`` with ``info`` to warn the user.

    Args:
        path: the video file.
        info: the result of :func:`probe_video` for this file; probed here when None.
        sample_fps: frames per second to keep, > 0; None keeps every frame.
        limits: limits enforced while decoding: frame size, ``max_frames`` (every decoded frame counts)
            and ``max_decoded_bytes`` (RGB bytes yielded).
        stats: filled while iterating, if given.

    Returns:
        A generator of :class:`~reid_engine.types.Frame`; ``close()`` it to release the file early.
        ``index`` is the frame's position in the source stream (frames decoded or skipped as corrupt
        before it), ``pts_s`` its time from the start of the stream (strictly increasing), ``image``
        uint8 (H, W, 3) RGB, rotated upright by ``info.rotation``.

    Raises:
        ValueError: ``sample_fps`` is not positive (raised at call time).
        VideoError: while iterating, when the file cannot be probed or opened, nothing at all can be
            decoded, or a limit is exceeded (for example a decompression bomb).
    """
    if sample_fps is not None and not (math.isfinite(sample_fps) and sample_fps > 0):
        raise ValueError(f"sample_fps must be a positive number or None, got {sample_fps!r}")
    return _guarded(
        path,
        info=info,
        sample_fps=sample_fps,
        limits=limits,
        stats=stats if stats is not None else DecodeStats(),
    )


def _guarded(
    path: str | os.PathLike[str],
    *,
    info: VideoInfo | None,
    sample_fps: float | None,
    limits: VideoLimits,
    stats: DecodeStats,
) -> Generator[Frame, None, None]:
    # Only the decoder is guarded, never the consumer's code between two frames.
    inner = _decode(path, info=info, sample_fps=sample_fps, limits=limits, stats=stats)
    try:
        while True:
            try:
                frame = next(inner)
            except StopIteration:
                return
            except VideoError:
                raise
            except Exception as exc:  # noqa: BLE001 - the one boundary where PyAV's exceptions become one
                raise to_video_error(exc) from None
            yield frame
            # The consumer holds the frame now; a second reference here would keep one more image alive
            # while the next is decoded.
            del frame
    finally:
        inner.close()


def _decode(
    path: str | os.PathLike[str],
    *,
    info: VideoInfo | None,
    sample_fps: float | None,
    limits: VideoLimits,
    stats: DecodeStats,
) -> Generator[Frame, None, None]:
    local = local_path(path)
    if info is None:
        info = probe_video(local, limits=limits)
    else:
        check_file(local, limits)
        # The caller's info may come from a probe under other limits.
        check_dims(info.width, info.height, limits)
    with open_input(local) as container:
        stream = video_stream(container)
        prepare_decoder(stream, limits, threaded=True)
        yield from _frames(container, stream, info=info, sample_fps=sample_fps, limits=limits, stats=stats)
    _check_end(info, stats)


def _packets(container: InputContainer, stream: VideoStream, stats: DecodeStats) -> Iterator[Packet | None]:
    """The stream's packets; a read error ends them with None, which flushes the decoder."""
    demuxer = container.demux(stream)
    while True:
        try:
            packet = next(demuxer)
        except StopIteration:
            return
        except av.error.FFmpegError as exc:
            # Past the header a read error means a cut or damaged file: keep what decoded so far.
            stats.last_error = f"read error: {reason(exc)}"
            logger.info("read error after %d frames: %r", stats.frames_seen, exc)
            yield None
            return
        yield packet


def _frames(
    container: InputContainer,
    stream: VideoStream,
    *,
    info: VideoInfo,
    sample_fps: float | None,
    limits: VideoLimits,
    stats: DecodeStats,
) -> Iterator[Frame]:
    clock = _Clock(stream, fps=info.fps, use_pts=info.timestamps == "container")
    step_s = None if sample_fps is None else 1.0 / sample_fps
    next_slot_s = 0.0
    quarter_turns = -(info.rotation // 90)  # np.rot90 turns counter-clockwise; info.rotation is clockwise
    source_index = 0
    for packet in _packets(container, stream, stats):
        try:
            decoded = stream.decode(packet)
        except av.error.EOFError:
            break
        except av.error.FFmpegError as exc:
            stats.frames_skipped += 1
            stats.last_error = reason(exc)
            source_index += 1
            if stats.frames_seen == 0 and stats.frames_skipped >= _MAX_LEADING_ERRORS:
                break
            continue
        for av_frame in decoded:
            index = source_index
            source_index += 1
            stats.frames_seen += 1
            if stats.frames_seen > limits.max_frames:
                raise VideoError(
                    f"video has more than {limits.max_frames} frames; the limit is {limits.max_frames}"
                )
            check_dims(av_frame.width, av_frame.height, limits)
            t = clock.seconds(av_frame)
            stats.end_s = t + clock.frame_s
            if step_s is not None:
                if t + _SLOT_TOLERANCE_S < next_slot_s:
                    continue
                next_slot_s = (math.floor((t + _SLOT_TOLERANCE_S) / step_s) + 1) * step_s
            yield Frame(index=index, pts_s=t, image=_to_rgb(av_frame, quarter_turns, limits, stats))
    if stats.frames_seen == 0:
        detail = f" ({stats.last_error})" if stats.last_error else ""
        raise VideoError(f"unsupported or corrupt video: no frame could be decoded{detail}")


def _to_rgb(av_frame: VideoFrame, quarter_turns: int, limits: VideoLimits, stats: DecodeStats) -> np.ndarray:
    nbytes = av_frame.width * av_frame.height * 3
    if stats.decoded_bytes + nbytes > limits.max_decoded_bytes:
        # Checked before converting, so the bomb never gets its RGB buffer.
        raise VideoError(
            f"video decodes to more than {format_bytes(limits.max_decoded_bytes)} of images; "
            f"the limit is {format_bytes(limits.max_decoded_bytes)}"
        )
    image = av_frame.to_ndarray(format="rgb24")
    if quarter_turns % 4:
        image = np.rot90(image, quarter_turns)
    stats.decoded_bytes += nbytes
    stats.frames_decoded += 1
    return np.ascontiguousarray(image)


class _Clock:
    """Turns frame timestamps into strictly increasing seconds from the start of the stream."""

    def __init__(self, stream: VideoStream, *, fps: float, use_pts: bool = True) -> None:
        self.frame_s = 1.0 / fps
        tb = stream.time_base if use_pts else None
        self._num, self._den = (tb.numerator, tb.denominator) if tb else (0, 0)
        self._start = stream.start_time
        self._last: float | None = None

    def seconds(self, frame: VideoFrame) -> float:
        pts = frame.pts
        if pts is not None and self._den:
            if self._start is None:
                self._start = pts
            # Integer product then one true division: exact to the float, unlike pts * float(time_base).
            t = (pts - self._start) * self._num / self._den
        else:
            # Raw elementary streams carry no timestamps (any a parser makes up would follow the demuxer's
            # default rate, not the probed one): count nominal frame intervals.
            t = 0.0 if self._last is None else self._last + self.frame_s
        if self._last is None:
            t = max(t, 0.0)
        elif not t > self._last:
            # Broken or repeated timestamps: keep time moving so sampling and tracking stay sane.
            t = self._last + self.frame_s
        self._last = t
        return t


def _check_end(info: VideoInfo, stats: DecodeStats) -> None:
    # Two frames or 2% of the declared duration of slack: containers round, and a longer audio track can
    # stretch a container-level duration a little.
    slack = max(2 / info.fps, 0.02 * info.duration_s)
    if stats.end_s < info.duration_s - slack:
        stats.truncated = True
        logger.info(
            "video ended at %.2f s of the %.2f s its header declares (%d frames seen, %d skipped)",
            stats.end_s,
            info.duration_s,
            stats.frames_seen,
            stats.frames_skipped,
        )
