from __future__ import annotations

from typing import Any

from django.contrib import admin

from webapp.cases.access import scope_videos
from webapp.videos.models import Video


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ("original_name", "camera", "status", "recorded_at", "created_at", "uploaded_by")
    list_filter = ("status", "camera")
    readonly_fields = [f.name for f in Video._meta.fields]

    def get_queryset(self, request: Any) -> Any:
        # Admins see footage only through the cases they are members of, here as everywhere.
        return scope_videos(request.user, super().get_queryset(request))
