"""Photos to search by: checked and stored by the web process, turned into query embeddings by a
search worker, and deleted when their search ends.

The web process only reads the photo with Pillow; the detector and embedders run in the worker
(through :func:`webapp.core.engine.get_pipeline`, which loads torch there and never here).
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError

from reid_engine.photo import PhotoEmbedding, embed_photo
from webapp.core.engine import get_pipeline
from webapp.core.exceptions import DomainError

logger = logging.getLogger(__name__)

MAX_PHOTO_BYTES = 10 * 1024**2
MAX_PHOTO_SIDE = 4096
PHOTO_FOLDER = "search-photos"

_SIGNATURES: dict[bytes, tuple[str, str]] = {
    b"\xff\xd8\xff": ("JPEG", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("PNG", ".png"),
}


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


def photo_embeddings(name: str) -> PhotoEmbedding:
    """Embed the person in a stored photo with both embedders (worker side); see
    :func:`reid_engine.photo.embed_photo`.

    Raises:
        NoPersonFoundError: the photo is a scene and the detector found nobody in it.
        OSError: the stored photo is gone or unreadable.
    """
    with Image.open(photo_path(name)) as image:
        rgb = np.asarray(image.convert("RGB"), dtype=np.uint8)
    pipeline = get_pipeline()
    embedded = embed_photo(
        rgb, detector=pipeline.detector, embedder=pipeline.embedder, identity_embedder=pipeline.identity_embedder
    )
    logger.info("photo %s: %dx%d, %s", name, rgb.shape[1], rgb.shape[0], "scene" if embedded.box_xyxy else "crop")
    return embedded
