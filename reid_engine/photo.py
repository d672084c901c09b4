"""Embedding the person in one still photo: a crop of them, or a scene in which to find them first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from reid_engine.errors import ReidEngineError
from reid_engine.types import Frame

if TYPE_CHECKING:
    from reid_engine.detect.base import Detector
    from reid_engine.embed import Embedder

CROP_MAX_HEIGHT = 800
"""A person cut out of CCTV footage is taller than wide and rarely taller than this; a photo wider
than tall, or taller than this, is treated as a scene in which to find the person first."""


class NoPersonFoundError(ReidEngineError):
    """The detector found nobody in a photo of a scene."""


@dataclass(frozen=True, slots=True)
class PhotoEmbedding:
    """The query vectors of a photo.

    Attributes:
        appearance: float32 (dim,), L2-normalised appearance embedding (clothing included).
        identity: float32 (dim',), L2-normalised clothes-invariant embedding, or None without an
            identity embedder.
        box_xyxy: int (4,) the person's box in the photo when a detector found them (a scene), or
            None when the photo was taken to be a crop already.
    """

    appearance: np.ndarray
    identity: np.ndarray | None
    box_xyxy: tuple[int, int, int, int] | None


def box_pixels(box: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """A float (x1, y1, x2, y2) box as whole pixels inside a ``width`` x ``height`` image, at least
    one pixel wide and high."""
    x1 = int(np.clip(np.floor(box[0]), 0, width - 1))
    y1 = int(np.clip(np.floor(box[1]), 0, height - 1))
    x2 = int(np.clip(np.ceil(box[2]), x1 + 1, width))
    y2 = int(np.clip(np.ceil(box[3]), y1 + 1, height))
    return x1, y1, x2, y2


def embed_photo(
    image: np.ndarray,
    *,
    detector: Detector,
    embedder: Embedder,
    identity_embedder: Embedder | None = None,
    crop_max_height: int = CROP_MAX_HEIGHT,
) -> PhotoEmbedding:
    """Embed the person in a photo with both embedders.

    A photo wider than tall, or taller than ``crop_max_height``, is a scene: the detector runs and
    the largest person is taken. Anything else is taken to be a crop of the person already.

    Args:
        image: uint8 (H, W, 3) RGB.
        detector: finds people in a scene.
        embedder: the appearance embedder.
        identity_embedder: the clothes-invariant embedder, or None.
        crop_max_height: the tallest photo taken as a crop.

    Returns:
        The photo's vectors and where the person was found.

    Raises:
        NoPersonFoundError: the photo is a scene and the detector found nobody in it.
        ValueError: ``image`` is not an (H, W, 3) uint8 array.
    """
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 (H, W, 3) RGB image, got {image.dtype} {image.shape}")
    rgb = np.ascontiguousarray(image)
    height, width = rgb.shape[:2]
    box = None
    crop = rgb
    if width >= height or height > crop_max_height:
        found = detector.detect([Frame(index=0, pts_s=0.0, image=rgb)])[0]
        if len(found) == 0:
            raise NoPersonFoundError("no person found in the photo")
        boxes = found.boxes_xyxy
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        box = box_pixels(boxes[int(np.argmax(areas))], width, height)
        crop = np.ascontiguousarray(rgb[box[1] : box[3], box[0] : box[2]])
    appearance = embedder.embed([crop])[0].astype(np.float32)
    identity = None if identity_embedder is None else identity_embedder.embed([crop])[0].astype(np.float32)
    return PhotoEmbedding(appearance=appearance, identity=identity, box_xyxy=box)
