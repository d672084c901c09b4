"""Admin pieces every app may use."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import actions as admin_actions
from django.db import transaction
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy

from webapp.core.exceptions import DomainError


class ReadOnlyAdmin(admin.ModelAdmin):
    """A record admins may read but never add, change or delete (audit records are append-only)."""

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


class ServiceDeleteAdmin(admin.ModelAdmin):
    """An admin whose deletions go through the app's service, and are refused with its reason.

    Subclasses give the reason an object may not be deleted (:meth:`delete_refusal`) and delete it
    through their service (:meth:`delete_model`). Deleting one object and the "delete selected"
    action then both show the refusals instead of the confirmation, and a refusal the service only
    raises while deleting (the object changed in between) ends as an error message with nothing
    deleted: every deletion of one request is one transaction.
    """

    actions = ["delete_selected"]

    def delete_refusal(self, request: Any, obj: Any) -> str | None:
        """Why ``request.user`` may not delete ``obj``, or None."""
        return None

    def get_deleted_objects(self, objs: Any, request: Any) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        refusals = [f"{obj}: {reason}" for obj in objs if (reason := self.delete_refusal(request, obj))]
        if protected and not refusals:
            refusals = ["rows that depend on it and cannot be deleted here"]
        # The refusals replace Django's list of protected rows, which would name rows the admin may
        # not see (footage of cases they are not a member of).
        return deleted, counts, perms_needed, refusals

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        with transaction.atomic():
            for obj in queryset:
                self.delete_model(request, obj)

    def delete_view(self, request: Any, object_id: str, extra_context: dict[str, Any] | None = None) -> Any:
        try:
            return super().delete_view(request, object_id, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return HttpResponseRedirect(request.path)

    @admin.action(permissions=["delete"], description=gettext_lazy("Delete selected %(verbose_name_plural)s"))
    def delete_selected(self, request: Any, queryset: Any) -> Any:
        """Django's own action (confirmation page, then :meth:`delete_queryset`), refusals caught."""
        try:
            with transaction.atomic():
                return admin_actions.delete_selected(self, request, queryset)
        except DomainError as exc:
            self.message_user(request, exc.detail, messages.ERROR)
            return None
