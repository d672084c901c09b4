from __future__ import annotations

from django.contrib import admin

from webapp.videos.models import Video


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ("original_name", "camera", "status", "recorded_at", "created_at", "uploaded_by")
    list_filter = ("status", "camera")
    readonly_fields = [f.name for f in Video._meta.fields]
