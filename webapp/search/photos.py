"""Photos to search by: checked and stored by the web process, turned into query embeddings by a
search worker, and deleted when their search ends.

The web process only reads the photo with Pillow; the detector and embedders run in the worker
(through :func:`webapp.core.engine.get_pipeline`, which loads torch there and never here).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

from webapp.core.exceptions import DomainError

logger = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 10 * 1024**2
MAX_PHOTO_SIDE = 4096
PHOTO_FOLDER = "search-photos"
# A person cut out of CCTV footage is taller than wide and rarely this tall; anything wider, or
# taller than this, is treated as a scene in which to find the person first.
CROP_MAX_HEIGHT = 800

_SIGNATURES: dict[bytes, tuple[str, str]] = {
    b"\xff\xd8\xff": ("JPEG", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("PNG", ".png"),
}


class NoPersonFound(Exception):
    """The detector found nobody in a photo of a scene."""


@dataclass(frozen=True, slots=True)
class PhotoEmbeddings:
    """The query vectors of a photo.

    Attributes:
        vector: float32 (dim,), L2-normalised appearance embedding (the same-outfit lane).
        identity_vector: float32 (dim',), L2-normalised clothes-invariant embedding, or None when
            the pipeline has no identity model.
        detected: whether the person was found by the detector (the photo was a scene).
    """

    vector: np.ndarray
    identity_vector: np.ndarray | None
    detected: bool


def _human_bytes(n: int) -> str:
    return f"{n / 1024**2:.1f} MB"


def photo_check(upload: UploadedFile) -> str:
    """Check an uploaded photo: JPEG or PNG by its first bytes, at most 10 MB and 4096 px a side,
    and fully decodable. Returns the file extension to store it under.

    Raises:
        DomainError: 400 naming what is wrong.
    """
    size = upload.size or 0
    if size <= 0:
        raise DomainError("the photo is empty")
    if size > MAX_PHOTO_BYTES:
        raise DomainError(f"the photo is {_human_bytes(size)}; the limit is {_human_bytes(MAX_PHOTO_BYTES)}")
    upload.seek(0)
    head = upload.read(8)
    kind = next((v for magic, v in _SIGNATURES.items() if head.startswith(magic)), None)
    if kind is None:
        raise DomainError("the photo must be a JPEG or PNG image")
    upload.seek(0)
    try:
        with Image.open(upload) as image:
            # The size is in the header: refuse a huge image before decoding a single pixel.
            width, height = image.size
            if width > MAX_PHOTO_SIDE or height > MAX_PHOTO_SIDE:
                raise DomainError(
                    f"the photo is {width}×{height} pixels; the limit is {MAX_PHOTO_SIDE} pixels a side"
                )
            if image.format != kind[0]:
                raise DomainError("the photo must be a JPEG or PNG image")
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DomainError("the photo could not be decoded; is the file complete?") from None
    finally:
        upload.seek(0)
    return kind[1]


def photo_store(upload: UploadedFile, extension: str) -> str:
    """Save a checked photo under the media folder with a generated name; returns that name."""
    name = f"{uuid.uuid4().hex}{extension}"
    path = photo_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return name


def photo_path(name: str) -> Path:
    """Where a stored photo lies; ``name`` is one :func:`photo_store` generated."""
    if Path(name).name != name:
        raise ValueError(f"not a stored photo's name: {name!r}")
    return Path(settings.MEDIA_ROOT) / PHOTO_FOLDER / name


def photo_delete(name: str) -> None:
    """Remove a stored photo (a search's photo is kept no longer than the search)."""
    photo_path(name).unlink(missing_ok=True)


def photo_embeddings(name: str) -> PhotoEmbeddings:
    """Embed the person in a stored photo with both embedders (worker side).

    A photo wider than tall, or taller than :data:`CROP_MAX_HEIGHT`, is a scene: the detector runs
    and the largest person is taken. Anything else is taken to be a crop of the person already.

    Raises:
        NoPersonFound: the photo is a scene and the detector found nobody in it.
        OSError: the stored photo is gone or unreadable.
    """
    from reid_engine.types import Frame
    from webapp.core.engine import get_pipeline

    with Image.open(photo_path(name)) as image:
        rgb = np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
    pipeline = get_pipeline()
    height, width = rgb.shape[:2]
    detected = width >= height or height > CROP_MAX_HEIGHT
    crop = rgb
    if detected:
        found = pipeline.detector.detect([Frame(index=0, pts_s=0.0, image=rgb)])[0]
        if len(found) == 0:
            raise NoPersonFound("no person found in the photo")
        boxes = found.boxes_xyxy
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        x1, y1, x2, y2 = boxes[int(np.argmax(areas))]
        left, top = int(np.clip(np.floor(x1), 0, width - 1)), int(np.clip(np.floor(y1), 0, height - 1))
        right = int(np.clip(np.ceil(x2), left + 1, width))
        bottom = int(np.clip(np.ceil(y2), top + 1, height))
        crop = np.ascontiguousarray(rgb[top:bottom, left:right])
    vector = pipeline.embedder.embed([crop])[0].astype(np.float32)
    identity = None
    if pipeline.identity_embedder is not None:
        identity = pipeline.identity_embedder.embed([crop])[0].astype(np.float32)
    logger.info("photo %s: %dx%d, %s, crop %dx%d", name, width, height, "scene" if detected else "crop", *crop.shape[1::-1])
    return PhotoEmbeddings(vector=vector, identity_vector=identity, detected=detected)
