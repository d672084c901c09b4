"""Reading one stretch of an untrusted video: every frame between two times, on the decoder's clock.

Evidence clips are cut from the source footage around a sighting. Far into a file the container is
sought to the keyframe before the stretch instead of decoding everything before it; the times are
those :func:`~reid_engine.video.decode.iter_frames` gives (seconds from the stream's start time), so
a tracklet's sampled box times address the same frames here.
"""

from __future__ import annotations

import math
import os
from collections.abc import Generator

import av.error
import numpy as np

from reid_engine.errors import VideoError
from reid_engine.types import Frame, VideoInfo
from reid_engine.video._container import (
    check_dims,
    check_file,
    local_path,
    open_input,
    prepare_decoder,
    to_video_error,
    video_stream,
)
from reid_engine.video.decode import iter_frames
from reid_engine.video.limits import DEFAULT_LIMITS, VideoLimits
from reid_engine.video.probe import probe_video

# Frames this close outside the stretch still belong to it (timestamps are rounded by containers).
_EDGE_S = 1e-3
# Seek this far before the stretch, so the decoder has a keyframe and any B-frame reordering settles.
_PRE_ROLL_S = 1.0


def iter_frames_between(
    path: str | os.PathLike[str],
    start_s: float,
    end_s: float,
    *,
    info: VideoInfo | None = None,
    limits: VideoLimits = DEFAULT_LIMITS,
    seek_min_s: float = 10.0,
) -> Generator[Frame, None, None]:
    """Every frame of the video whose time lies within ``start_s``..``end_s``, as RGB.

    Args:
        path: the video file.
        start_s, end_s: the stretch, in seconds from the start of the stream (``end_s >= start_s``).
        info: the result of :func:`probe_video` for this file; probed here when None.
        limits: limits enforced while decoding.
        seek_min_s: below this ``start_s`` (or when the stream has no timestamps) the file is decoded
            from its start, as :func:`iter_frames` does; from it on, the container is sought.

    Returns:
        A generator of :class:`~reid_engine.types.Frame` in time order. When the file was sought,
        ``index`` is estimated from the time and the nominal rate.

    Raises:
        ValueError: the stretch is not a finite, non-empty range (raised at call time).
        VideoError: while iterating, when the file cannot be read or a limit is exceeded.
    """
    if not (math.isfinite(start_s) and math.isfinite(end_s) and end_s >= start_s):
        raise ValueError(f"not a stretch of video: {start_s!r}..{end_s!r}")
    return _between(path, start_s, end_s, info=info, limits=limits, seek_min_s=seek_min_s)


def _between(
    path: str | os.PathLike[str],
    start_s: float,
    end_s: float,
    *,
    info: VideoInfo | None,
    limits: VideoLimits,
    seek_min_s: float,
) -> Generator[Frame, None, None]:
    local = local_path(path)
    if info is None:
        info = probe_video(local, limits=limits)
    if start_s >= seek_min_s:
        sought = _sought(local, start_s, end_s, info=info, limits=limits)
        guarded = _guard(sought)
        first = next(guarded, None)
        if first is not None:
            yield first
            yield from guarded
            return
        # No timestamps to seek by (or nothing found after the seek): decode from the start.
    frames = iter_frames(local, info=info, limits=limits)
    try:
        for frame in frames:
            if frame.pts_s > end_s + _EDGE_S:
                return
            if frame.pts_s >= start_s - _EDGE_S:
                yield frame
    finally:
        frames.close()


def _guard(frames: Generator[Frame, None, None]) -> Generator[Frame, None, None]:
    try:
        while True:
            try:
                frame = next(frames)
            except StopIteration:
                return
            except VideoError:
                raise
            except Exception as exc:  # noqa: BLE001 - the boundary where PyAV's exceptions become one
                raise to_video_error(exc) from None
            yield frame
    finally:
        frames.close()


def _sought(
    local: str, start_s: float, end_s: float, *, info: VideoInfo, limits: VideoLimits
) -> Generator[Frame, None, None]:
    check_file(local, limits)
    check_dims(info.width, info.height, limits)
    quarter_turns = -(info.rotation // 90)
    with open_input(local) as container:
        stream = video_stream(container)
        prepare_decoder(stream, limits, threaded=True)
        time_base, origin = stream.time_base, stream.start_time
        if not time_base or origin is None:
            return
        target = origin + int(max(0.0, start_s - _PRE_ROLL_S) / time_base)
        container.seek(target, stream=stream, backward=True, any_frame=False)
        for packet in container.demux(stream):
            try:
                decoded = packet.decode()
            except av.error.EOFError:
                return
            except av.error.FFmpegError:
                continue  # a corrupt packet: skipped, as the full decode does
            for av_frame in decoded:
                if av_frame.pts is None:
                    continue
                t = (av_frame.pts - origin) * time_base.numerator / time_base.denominator
                if t < start_s - _EDGE_S:
                    continue
                if t > end_s + _EDGE_S:
                    return
                check_dims(av_frame.width, av_frame.height, limits)
                image = av_frame.to_ndarray(format="rgb24")
                if quarter_turns % 4:
                    image = np.rot90(image, quarter_turns)
                yield Frame(index=round(t * info.fps), pts_s=float(t), image=np.ascontiguousarray(image))
