from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from webapp.cameras.models import Camera, Gallery, SitePlan
from webapp.cameras.plans import plan_delete


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
    list_display = ("name", "location", "gallery", "latitude", "longitude", "plan", "created_at")
    list_filter = ("gallery", "plan")
    search_fields = ("name", "location")
    fieldsets = (
        (None, {"fields": ("name", "location", "description", "gallery")}),
        ("Position", {
            "fields": (("latitude", "longitude"), "plan", ("plan_x", "plan_y")),
            "description": "Latitude and longitude in degrees; the point on the plan as fractions (0–1) of its "
                           "width and height from the top left. The Sites page places cameras by clicking.",
        }),
    )


@admin.register(SitePlan)
class SitePlanAdmin(admin.ModelAdmin):
    """Plans are uploaded on the Sites page, where the image is checked; here they can be renamed or scaled."""

    list_display = ("name", "width_m", "width_px", "height_px", "image_type", "created_at")
    readonly_fields = ("image_type", "width_px", "height_px", "storage_key")
    search_fields = ("name",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: SitePlan) -> None:
        plan_delete(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SitePlan]) -> None:
        for plan in queryset:
            plan_delete(plan)
