"""DRF permissions for the two roles."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from webapp.accounts.roles import is_admin, is_investigator


class IsInvestigator(BasePermission):
    message = "You need the investigator or admin role."

    def has_permission(self, request: Any, view: Any) -> bool:
        return is_investigator(request.user)


class IsAdminOrReadOnly(BasePermission):
    message = "Only admins can change this."

    def has_permission(self, request: Any, view: Any) -> bool:
        if request.method in SAFE_METHODS:
            return is_investigator(request.user)
        return is_admin(request.user)
