"""The two roles: admins manage cameras and users; investigators upload and search footage."""

from __future__ import annotations

from typing import Any

INVESTIGATOR_GROUP = "investigator"
ADMIN_GROUP = "admin"


def is_admin(user: Any) -> bool:
    return bool(user and user.is_authenticated and (user.is_superuser or user.is_staff))


def is_investigator(user: Any) -> bool:
    """Admins can do everything investigators can."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return is_admin(user) or user.groups.filter(name=INVESTIGATOR_GROUP).exists()
