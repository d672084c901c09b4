from __future__ import annotations

from django.contrib import admin

from webapp.cameras.models import Camera, Gallery


class CameraInline(admin.TabularInline):
    model = Camera
    extra = 0
    fields = ("name", "location")


@admin.register(Gallery)
class GalleryAdmin(admin.ModelAdmin):
    list_display = ("name", "description", "created_at")
    search_fields = ("name",)
    inlines = [CameraInline]


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    list_display = ("name", "location", "gallery", "created_at")
    list_filter = ("gallery",)
    search_fields = ("name", "location")
