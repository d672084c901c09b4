from __future__ import annotations

from typing import Any

from django.contrib import admin

from webapp.cases.access import scope_by_case
from webapp.search.models import SearchRecord


@admin.register(SearchRecord)
class SearchRecordAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "query_description", "status", "result_count", "first_batch_ms")
    list_filter = ("status", "user")
    readonly_fields = [f.name for f in SearchRecord._meta.fields]

    def get_queryset(self, request: Any) -> Any:
        return scope_by_case(request.user, super().get_queryset(request))

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        # The audit trail is append-only, even for admins.
        return False
