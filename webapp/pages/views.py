"""The investigator's pages; live parts are filled in by each page's script over the websocket."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from reid_engine.attributes.schema import COLOURS
from webapp.accounts.roles import is_admin, is_investigator
from webapp.cameras.models import Camera
from webapp.search.lanes import APPEARANCE, IDENTITY
from webapp.tracklets.selectors import tracklet_card, tracklets_of_video, tracklets_visible_to
from webapp.videos.models import Video


def _require_role(request: HttpRequest) -> None:
    if not is_investigator(request.user):
        raise PermissionDenied("your account has no role yet; ask an admin")


def _search_settings() -> dict[str, Any]:
    """What a search page's script needs from the server: how many results to ask for, the
    probability a colour filter asks for, and the lanes' names."""
    return {
        "k": settings.LONGVIEW["SEARCH_K"],
        "colour_min_probability": settings.LONGVIEW["COLOUR_MIN_PROBABILITY"],
        "lanes": {"appearance": APPEARANCE.wire, "identity": IDENTITY.wire},
    }


def dashboard(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    videos = Video.objects.select_related("camera").annotate(people=Count("tracklets"))[:200]
    return render(
        request,
        "longview/dashboard.html",
        {
            "videos": videos,
            "cameras": Camera.objects.all(),
            "is_admin": is_admin(request.user),
            "chunk_bytes": settings.LONGVIEW["UPLOAD_CHUNK_BYTES"],
            "accept": ",".join(settings.LONGVIEW["ALLOWED_VIDEO_EXTENSIONS"]),
        },
    )


def video_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _require_role(request)
    video = get_object_or_404(Video.objects.select_related("camera"), pk=pk)
    people = [tracklet_card(t) for t in tracklets_of_video(user=request.user, video_id=video.pk)]
    return render(request, "longview/video.html", {"video": video, "people": people})


def search_page(request: HttpRequest, pk: int) -> HttpResponse:
    _require_role(request)
    tracklet = get_object_or_404(tracklets_visible_to(request.user).select_related("camera", "video"), pk=pk)
    return render(
        request,
        "longview/search.html",
        {"query": tracklet_card(tracklet), "colours": COLOURS, "search_settings": _search_settings()},
    )


def describe_page(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    return render(
        request, "longview/search_describe.html", {"colours": COLOURS, "search_settings": _search_settings()}
    )
