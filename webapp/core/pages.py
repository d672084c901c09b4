"""The investigator's pages; live parts are filled in by the page's script over the websocket."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from reid_engine.attributes.schema import COLOURS
from webapp.accounts.roles import is_admin, is_investigator
from webapp.cameras.models import Camera
from webapp.tracklets.models import Tracklet
from webapp.tracklets.selectors import tracklet_card
from webapp.videos.models import Video


def _require_role(request: HttpRequest) -> None:
    if not is_investigator(request.user):
        raise PermissionDenied("your account has no role yet; ask an admin")


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
    people = [tracklet_card(t) for t in Tracklet.objects.select_related("camera", "video").filter(video=video)]
    return render(request, "longview/video.html", {"video": video, "people": people})


def search_page(request: HttpRequest, pk: int) -> HttpResponse:
    _require_role(request)
    tracklet = get_object_or_404(Tracklet.objects.select_related("camera", "video"), pk=pk)
    return render(request, "longview/search.html", {"query": tracklet_card(tracklet), "colours": COLOURS})


def describe_page(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    return render(request, "longview/search_describe.html", {"colours": COLOURS})
