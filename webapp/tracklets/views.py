"""Tracklet API and the permission-checked thumbnail view."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404, HttpRequest
from rest_framework import mixins, viewsets

from webapp.accounts.roles import is_investigator
from webapp.tracklets.models import Tracklet
from webapp.tracklets.serializers import TrackletCardSerializer


class TrackletViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = TrackletCardSerializer

    def get_queryset(self) -> Any:
        qs = Tracklet.objects.select_related("camera", "video")
        camera = self.request.query_params.get("camera")
        if camera:
            qs = qs.filter(camera_id=camera) if camera.isdigit() else qs.none()
        return qs


def thumbnail(request: HttpRequest, pk: int) -> FileResponse:
    if not is_investigator(request.user):
        raise Http404
    t = Tracklet.objects.select_related("video").filter(pk=pk).first()
    if t is None or not t.thumbnail_path.exists():
        raise Http404
    response = FileResponse(open(t.thumbnail_path, "rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
