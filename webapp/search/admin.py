from __future__ import annotations

from typing import Any

from django.contrib import admin

from webapp.cases.access import scope_by_case
from webapp.core.admin import ReadOnlyAdmin
from webapp.search.models import SearchRecord


@admin.register(SearchRecord)
class SearchRecordAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "case", "query_description", "status", "result_count", "first_batch_ms")
    list_filter = ("status", "user")

    def get_queryset(self, request: Any) -> Any:
        # Admins read the searches of cases they are members of; the ledger holds every search.
        return scope_by_case(request.user, super().get_queryset(request))
