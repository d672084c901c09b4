"""The admins' Sites page: site plans with the cameras drawn on them, where each camera stands, and
the walking times between cameras. The page's script writes through the cameras API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from webapp.accounts.roles import is_admin
from webapp.cameras.models import Camera, SitePlan, WalkingTime
from webapp.cameras.serializers import CameraSerializer, SitePlanSerializer, WalkingTimeSerializer


def sites_data() -> dict[str, Any]:
    """What the page's script starts from: every plan, camera and walking time as the API gives them."""
    return {
        "plans": SitePlanSerializer(SitePlan.objects.prefetch_related("cameras"), many=True).data,
        "cameras": CameraSerializer(Camera.objects.select_related("gallery"), many=True).data,
        "walking_times": WalkingTimeSerializer(WalkingTime.objects.all(), many=True).data,
        "walking_speed_mps": settings.LONGVIEW["WALKING_SPEED_MPS"],
    }


def sites_page(request: HttpRequest) -> HttpResponse:
    """Admins only: others get 403 (the page holds nothing secret, but changes nothing for them)."""
    if not is_admin(request.user):
        raise PermissionDenied("the Sites page is for admins")
    return render(request, "longview/sites.html", {"sites": sites_data()})
