"""Footage in the admin: read-only rows, deleted only through the same service and rule as the API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from webapp.audit.ledger import client_address_of
from webapp.cases.access import scope_videos
from webapp.core.admin import ServiceDeleteAdmin
from webapp.videos import services
from webapp.videos.models import Video


@admin.register(Video)
class VideoAdmin(ServiceDeleteAdmin):
    list_display = ("original_name", "camera", "status", "recorded_at", "created_at", "uploaded_by")
    list_filter = ("status", "camera")
    readonly_fields = [f.name for f in Video._meta.fields]

    def get_queryset(self, request: Any) -> Any:
        # Admins see footage only through the cases they are members of, here as everywhere.
        return scope_videos(request.user, super().get_queryset(request))

    def delete_refusal(self, request: Any, obj: Video) -> str | None:
        refusal = services.video_delete_refusal(user=request.user, video=obj)
        return None if refusal is None else refusal.detail

    def delete_model(self, request: Any, obj: Video) -> None:
        # File, review copy, thumbnails, people, index entries and the ledger, as the API's deletion.
        services.video_delete_as(user=request.user, video=obj, client_address=client_address_of(request))
