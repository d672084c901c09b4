"""The ledger in the admin: readable, never editable."""

from __future__ import annotations

from django.contrib import admin

from webapp.audit.models import AuditEntry
from webapp.core.admin import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "username", "case_id", "action", "object_type", "client_address")
    list_filter = ("action",)
    search_fields = ("username", "justification")
