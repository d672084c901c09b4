"""The pictures of an evidence package: a sighting's clip cut from the source footage and its still,
with the subject's box drawn and, when asked, every other person found in the footage pixelated.

Boxes are the tracklets' sampled boxes (``[frame_index, t_s, x1, y1, x2, y2]`` in source pixels at
the analysis rate), interpolated to each frame's time as the review player does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from reid_engine.errors import VideoError
from reid_engine.types import Frame, VideoInfo
from reid_engine.video.clip import iter_frames_between
from reid_engine.video.writer import ProxyWriter

Box = tuple[float, float, float, float]
# A box is held this long before a tracklet's first sample and after its last (the player's margin).
BOX_MARGIN_S = 0.3
# Other people are redacted over a longer margin, and over a box grown by this fraction each side:
# the tracker may find a person a little late, and a box rarely covers hair and feet.
REDACT_MARGIN_S = 1.0
REDACT_GROW = 0.12
SUBJECT_COLOUR = (255, 212, 0)  # RGB, the review player's box colour
CLIP_CRF = 20
STILL_QUALITY = 92


def box_at(boxes: Sequence[Sequence[float]], t: float, margin_s: float = BOX_MARGIN_S) -> Box | None:
    """The box of a tracklet at time ``t``, linearly interpolated between its samples; None outside
    its span (more than ``margin_s`` before its first sample or after its last)."""
    if not boxes or t < boxes[0][1] - margin_s or t > boxes[-1][1] + margin_s:
        return None
    i = 0
    while i < len(boxes) - 1 and boxes[i + 1][1] <= t:
        i += 1
    a, b = boxes[i], boxes[min(i + 1, len(boxes) - 1)]
    span = b[1] - a[1]
    w = min(1.0, max(0.0, (t - a[1]) / span)) if span > 0 else 0.0
    x1, y1, x2, y2 = (a[k] + w * (b[k] - a[k]) for k in (2, 3, 4, 5))
    return (x1, y1, x2, y2)


def best_sample(boxes: Sequence[Sequence[float]]) -> Sequence[float]:
    """The sample a still is taken at: the largest box, the one nearest the middle among equals."""
    if not boxes:
        raise ValueError("a tracklet without boxes has no still")
    middle = (boxes[0][1] + boxes[-1][1]) / 2
    return max(boxes, key=lambda r: (round((r[4] - r[2]) * (r[5] - r[3])), -abs(r[1] - middle)))


def _clamp(box: Box, width: int, height: int, grow: float = 0.0) -> tuple[int, int, int, int] | None:
    x1, y1, x2, y2 = box
    dx, dy = grow * (x2 - x1), grow * (y2 - y1)
    a = max(0, math.floor(x1 - dx))
    b = max(0, math.floor(y1 - dy))
    c = min(width, math.ceil(x2 + dx))
    d = min(height, math.ceil(y2 + dy))
    return (a, b, c, d) if c > a and d > b else None


def pixelate(image: np.ndarray, box: Box) -> None:
    """Pixelate ``box`` of ``image`` in place, in blocks of about an eighth of the box's height (at
    least 8 px): a face or a logo inside is not recognisable, the outline of a person stays."""
    h, w = image.shape[:2]
    region = _clamp(box, w, h, REDACT_GROW)
    if region is None:
        return
    a, b, c, d = region
    block = max(8, (d - b) // 8)
    roi = image[b:d, a:c]
    small = cv2.resize(roi, (max(1, (c - a) // block), max(1, (d - b) // block)), interpolation=cv2.INTER_AREA)
    image[b:d, a:c] = cv2.resize(small, (c - a, d - b), interpolation=cv2.INTER_NEAREST)


def draw_box(image: np.ndarray, box: Box) -> None:
    """Draw the subject's box on ``image`` (RGB) in place, its line scaled to the frame."""
    h, w = image.shape[:2]
    region = _clamp(box, w, h)
    if region is None:
        return
    thickness = max(2, round(max(w, h) / 320))
    cv2.rectangle(image, region[:2], (region[2] - 1, region[3] - 1), SUBJECT_COLOUR, thickness)


def stamp_time(image: np.ndarray, at: datetime) -> None:
    """Burn the wall-clock time of the frame into its top left corner, white on a dark band."""
    text = at.strftime("%Y-%m-%d %H:%M:%S.") + f"{at.microsecond // 100000}"
    scale = max(0.4, image.shape[1] / 1600)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.rectangle(image, (0, 0), (tw + 8, th + base + 8), (0, 0, 0), -1)
    cv2.putText(image, text, (4, th + 4), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)


@dataclass(frozen=True, kw_only=True)
class Picture:
    """What to draw on the frames of one sighting.

    Attributes:
        subject_boxes: the sighting's tracklet's sampled boxes.
        others: the sampled boxes of every other person found in the same footage (redacted when
            ``redact``); the subject's other tracklets in the footage are not among them.
        redact: pixelate the others.
        recorded_at: wall-clock time of the footage's first frame (for the burned-in time).
    """

    subject_boxes: Sequence[Sequence[float]]
    others: Sequence[Sequence[Sequence[float]]]
    redact: bool
    recorded_at: datetime

    def render(self, frame: Frame) -> np.ndarray:
        """The frame as it goes into the package: others pixelated (when asked), the subject's box
        drawn (the subject itself is never pixelated, even where another person's box overlaps it),
        the time burned in."""
        image = frame.image.copy()
        subject = box_at(self.subject_boxes, frame.pts_s)
        if self.redact:
            for boxes in self.others:
                other = box_at(boxes, frame.pts_s, REDACT_MARGIN_S)
                if other is not None:
                    pixelate(image, other)
            if subject is not None:
                region = _clamp(subject, image.shape[1], image.shape[0])
                if region is not None:
                    a, b, c, d = region
                    image[b:d, a:c] = frame.image[b:d, a:c]
        if subject is not None:
            draw_box(image, subject)
        stamp_time(image, self.recorded_at + timedelta(seconds=frame.pts_s))
        return image


@dataclass(frozen=True, kw_only=True)
class CutResult:
    """One sighting's clip, written, and its still, encoded.

    Attributes:
        clip_start_s, clip_end_s: the clip's first and last frame times in the source footage.
        frames: frames written to the clip.
        still_jpeg: the still, JPEG bytes.
        still_t_s: the still's time in the source footage.
    """

    clip_start_s: float
    clip_end_s: float
    frames: int
    still_jpeg: bytes
    still_t_s: float


def cut_sighting(
    source: Path, clip_path: Path, *, info: VideoInfo, start_s: float, end_s: float, still_t_s: float,
    picture: Picture,
) -> CutResult:
    """Cut ``start_s``..``end_s`` of ``source`` into an H.264 mp4 at ``clip_path`` (full size, the
    source's rate, index at the front so a browser plays it at once), drawing ``picture`` on every
    frame; the frame nearest ``still_t_s`` becomes the still.

    Raises:
        VideoError: the source cannot be read, or has no frame in the stretch.
    """
    first: float | None = None
    last = 0.0
    written = 0
    still: np.ndarray | None = None
    still_at = 0.0
    # Frames come rotated upright; the probe's size is the coded one.
    width, height = (info.height, info.width) if info.rotation in (90, 270) else (info.width, info.height)
    writer = ProxyWriter(clip_path, source_width=width, source_height=height, max_width=width,
                         fps_hint=info.fps, crf=CLIP_CRF)
    with writer:
        for frame in iter_frames_between(source, start_s, end_s, info=info):
            image = picture.render(frame)
            if first is None:
                first = frame.pts_s
            last = frame.pts_s
            writer.write(Frame(index=frame.index, pts_s=frame.pts_s - first, image=image))
            written += 1
            if still is None or abs(frame.pts_s - still_t_s) < abs(still_at - still_t_s):
                still, still_at = image, frame.pts_s
    if first is None or still is None:
        raise VideoError(f"the footage has no frame between {start_s:.1f} s and {end_s:.1f} s")
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(still, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, STILL_QUALITY])
    if not ok:
        raise VideoError("the still could not be encoded")
    return CutResult(clip_start_s=first, clip_end_s=last, frames=written, still_jpeg=jpeg.tobytes(),
                     still_t_s=still_at)
