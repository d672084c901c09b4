"""Deleting cameras: refused while footage recorded by the camera exists, never half done."""

from __future__ import annotations

from django.db import transaction
from django.db.models import ProtectedError

from webapp.cameras.models import Camera
from webapp.core.exceptions import DomainError


def camera_delete_refusal(camera: Camera) -> str | None:
    """Why ``camera`` may not be deleted, or None.

    Footage and the people found in it keep their camera: the camera goes once its footage has been
    deleted (by a lead of each case holding it, or with its cases). The reason names no footage,
    since the admin asking may not be a member of the cases holding it.
    """
    if camera.videos.exists() or camera.tracklets.exists():
        return (
            f"camera {camera.name!r} still has footage; it can be deleted once all its footage "
            "has been deleted (by a lead of each case holding it)"
        )
    return None


def camera_delete(camera: Camera) -> None:
    """Delete a camera that has no footage (its walking times go with it).

    Raises:
        DomainError: 409 with the reason, when it has footage (also when footage arrived between the
            check and the deletion); nothing is deleted then.
    """
    with transaction.atomic():
        refusal = camera_delete_refusal(camera)
        if refusal is not None:
            raise DomainError(refusal, status_code=409)
        try:
            camera.delete()
        except ProtectedError:
            raise DomainError(
                f"camera {camera.name!r} still has footage; it can be deleted once all its footage has been deleted",
                status_code=409,
            ) from None
