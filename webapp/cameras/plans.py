"""Site plans: an uploaded drawing is checked with Pillow before anything is stored, kept under the
media folder by its storage key, and removed with its row."""

from __future__ import annotations

import uuid

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from PIL import Image, UnidentifiedImageError

from webapp.cameras.models import Camera, SitePlan
from webapp.core.exceptions import DomainError

MAX_PLAN_BYTES = 20 * 1024**2
MAX_PLAN_SIDE = 8000
# Pillow's format name -> the ``image_type`` a plan is stored under (and its file's ending).
_TYPES = {"PNG": "png", "JPEG": "jpeg"}
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}


def _megabytes(n: int) -> str:
    return f"{n / 1024**2:.1f} MB"


def plan_check(upload: UploadedFile) -> tuple[str, int, int]:
    """Check an uploaded site plan: a PNG or JPEG of at most 20 MB and 8000 pixels a side that
    decodes completely. Returns its image type (``"png"`` or ``"jpeg"``), width and height.

    Raises:
        DomainError: 400 naming what is wrong.
    """
    size = upload.size or 0
    if size <= 0:
        raise DomainError("the plan image is empty")
    if size > MAX_PLAN_BYTES:
        raise DomainError(f"the plan image is {_megabytes(size)}; the limit is {_megabytes(MAX_PLAN_BYTES)}")
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            kind = _TYPES.get(image.format or "")
            if kind is None:
                raise DomainError("the plan must be a PNG or JPEG image")
            # The size is in the header: refuse a huge image before decoding a single pixel.
            width, height = image.size
            if width > MAX_PLAN_SIDE or height > MAX_PLAN_SIDE:
                raise DomainError(f"the plan image is {width}×{height} pixels; the limit is {MAX_PLAN_SIDE} a side")
            image.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()  # verify() reads the structure; a truncated file only fails on decoding
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise DomainError("the plan is not a PNG or JPEG image that can be read; is the file complete?") from None
    finally:
        upload.seek(0)
    return kind, width, height


def plan_create(*, name: str, width_m: float | None, upload: UploadedFile) -> SitePlan:
    """Check the image, then store the plan's row and file together (neither without the other).

    Raises:
        DomainError: 400 for an image :func:`plan_check` refuses; 409 for a name already taken.
    """
    kind, width, height = plan_check(upload)
    plan = SitePlan(name=name, width_m=width_m, image_type=kind, width_px=width, height_px=height,
                    storage_key=uuid.uuid4())
    path = plan.file_path
    partial = path.with_name(f".{path.name}.part")
    try:
        with transaction.atomic():
            plan.save()
            path.parent.mkdir(parents=True, exist_ok=True)
            with partial.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            partial.replace(path)
    except IntegrityError:
        raise DomainError(f"there is already a site plan named {name!r}", status_code=409) from None
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        partial.unlink(missing_ok=True)
    return plan


def plan_delete(plan: SitePlan) -> None:
    """Delete a plan and its file; its cameras lose their point on it (they keep any latitude/longitude)."""
    path = plan.file_path
    with transaction.atomic():
        Camera.objects.filter(plan=plan).update(plan=None, plan_x=None, plan_y=None)
        plan.delete()
        transaction.on_commit(lambda: path.unlink(missing_ok=True))
