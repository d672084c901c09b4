"""Writing browser-playable H.264 previews of the frames the pipeline analysed."""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from types import TracebackType

import av
import cv2
import numpy as np

from reid_engine.errors import VideoError
from reid_engine.types import Frame

logger = logging.getLogger(__name__)

_TIME_BASE = Fraction(1, 1000)


class ProxyWriter:
    """Encodes frames at their true timestamps into a small H.264 mp4 that seeks well in browsers.

    Timestamps are kept in milliseconds, so sampled (uneven) frames play at the right moments and a
    tracklet's ``start_s``/``end_s`` address the same instants in the proxy as in the source.

    Args:
        path: output file (``.mp4``).
        source_width, source_height: frame size of the source video.
        max_width: the proxy is scaled down to at most this width (even dimensions, as yuv420p needs).
        fps_hint: nominal rate for the encoder's rate control.
        crf: x264 quality (lower is better; 28 is compact and fine for review).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        source_width: int,
        source_height: int,
        max_width: int = 640,
        fps_hint: float = 5.0,
        crf: int = 28,
    ) -> None:
        scale = min(1.0, max_width / max(source_width, 1))
        self.width = max(2, int(source_width * scale) // 2 * 2)
        self.height = max(2, int(source_height * scale) // 2 * 2)
        self.scale_x = self.width / source_width
        self.scale_y = self.height / source_height
        self._last_pts = -1
        try:
            # faststart moves the index to the front, so playback starts before the whole file loads.
            self._container = av.open(os.fspath(path), "w", format="mp4", options={"movflags": "+faststart"})
            self._stream = self._container.add_stream("libx264", rate=max(1, round(fps_hint)))
        except (av.error.FFmpegError, ValueError) as exc:
            raise VideoError(f"cannot write a preview video: {exc}") from None
        self._stream.width = self.width
        self._stream.height = self.height
        self._stream.pix_fmt = "yuv420p"
        self._stream.time_base = _TIME_BASE
        self._stream.codec_context.time_base = _TIME_BASE
        self._stream.options = {"preset": "veryfast", "crf": str(crf), "tune": "zerolatency"}

    def write(self, frame: Frame) -> None:
        pts = round(frame.pts_s * 1000)
        if pts <= self._last_pts:
            pts = self._last_pts + 1
        self._last_pts = pts
        image = frame.image
        if image.shape[1] != self.width or image.shape[0] != self.height:
            image = cv2.resize(image, (self.width, self.height), interpolation=cv2.INTER_AREA)
        out = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
        out.pts = pts
        out.time_base = _TIME_BASE
        for packet in self._stream.encode(out):
            self._container.mux(packet)

    def close(self) -> None:
        if self._container is None:
            return
        try:
            for packet in self._stream.encode():
                self._container.mux(packet)
        finally:
            self._container.close()
            self._container = None  # type: ignore[assignment]

    def __enter__(self) -> ProxyWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
