"""The ledger in the admin: readable, never editable."""

from __future__ import annotations

from django.contrib import admin

from webapp.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ("seq", "at", "username", "case_id", "action", "object_type", "client_address")
    list_filter = ("action",)
    search_fields = ("username", "justification")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
