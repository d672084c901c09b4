"""Tracklet API and the permission-checked thumbnail view."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from rest_framework import mixins, viewsets

from webapp.accounts.roles import is_investigator
from webapp.core.media import media_response
from webapp.tracklets.models import Tracklet
from webapp.tracklets.serializers import TrackletCardSerializer, TrackletDetailSerializer
from webapp.videos.models import Video


class TrackletViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    def get_serializer_class(self) -> Any:
        return TrackletDetailSerializer if self.action == "retrieve" else TrackletCardSerializer

    def get_queryset(self) -> Any:
        qs = Tracklet.objects.select_related("camera", "video")
        camera = self.request.query_params.get("camera")
        if camera:
            qs = qs.filter(camera_id=camera) if camera.isdigit() else qs.none()
        return qs


def thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    if not is_investigator(request.user):
        raise Http404
    t = Tracklet.objects.select_related("video").filter(pk=pk).first()
    if t is None or not t.thumbnail_path.exists():
        raise Http404
    return media_response(request, t.thumbnail_path, "image/jpeg")


def video_proxy(request: HttpRequest, pk: int) -> HttpResponse:
    """The review copy of a video, for playing a person's segment with their boxes drawn over it."""
    if not is_investigator(request.user):
        raise Http404
    video = Video.objects.filter(pk=pk).first()
    if video is None or not video.proxy_path.exists():
        raise Http404
    return media_response(request, video.proxy_path, "video/mp4")
