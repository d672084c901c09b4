"""Tracklet API and the permission-checked thumbnail view."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.accounts.roles import is_investigator
from webapp.audit.ledger import audit_record, client_address_of
from webapp.audit.models import Action
from webapp.cases import access
from webapp.cases.access import Capability
from webapp.core.media import media_response
from webapp.tracklets.estimated import attribute_gate
from webapp.tracklets.selectors import tracklet_card, tracklets_of_video, tracklets_visible_to
from webapp.tracklets.serializers import TrackletCardSerializer, TrackletDetailSerializer
from webapp.videos.models import Video


class VideoTrackletsView(APIView):
    """The people found in one video (``GET /api/videos/{id}/tracklets/``)."""

    @extend_schema(responses={200: TrackletCardSerializer(many=True), 404: None})
    def get(self, request: Request, pk: int) -> Response:
        if not access.scope_videos(request.user, Video.objects.filter(pk=pk)).exists():
            raise Http404
        return Response([tracklet_card(t) for t in tracklets_of_video(user=request.user, video_id=pk)])


class AttributeListView(APIView):
    """Every schema attribute and whether the product estimates it (``GET /api/attributes/``).

    ``estimated`` is false for the attributes the shipped predictor did not get right on the real
    labelled people: they are never stored, shown, filtered or searched. The figures (balanced
    accuracy ``mA``, the majority-class ``baseline_mA``, the 95 % interval ``ci``, labelled tracks
    ``n``) come from ``reid eval-attributes --dataset real-labelled``.
    """

    @extend_schema(responses={200: None})
    def get(self, request: Request) -> Response:
        gate = attribute_gate()
        return Response({"predictor": gate.predictor, "attributes": gate.describe()})


class TrackletViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    def get_serializer_class(self) -> Any:
        return TrackletDetailSerializer if self.action == "retrieve" else TrackletCardSerializer

    def get_queryset(self) -> Any:
        case = self.request.query_params.get("case")
        scope = None if not case else access.case_for(self.request.user, case, Capability.VIEW)
        qs = tracklets_visible_to(self.request.user, case=scope).select_related("camera", "video")
        camera = self.request.query_params.get("camera")
        if camera:
            qs = qs.filter(camera_id=camera) if camera.isdigit() else qs.none()
        return qs


def thumbnail(request: HttpRequest, pk: int) -> HttpResponseBase:
    if not is_investigator(request.user):
        raise Http404
    t = tracklets_visible_to(request.user).select_related("video").filter(pk=pk).first()
    if t is None or not t.thumbnail_path.exists():
        raise Http404
    return media_response(request, t.thumbnail_path, "image/jpeg")


def video_proxy(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The review copy of a video, for playing a person's segment with their boxes drawn over it.

    A playback is recorded in the ledger when it starts (a request from the first byte), not for
    every range the player asks for as it goes.
    """
    if not is_investigator(request.user):
        raise Http404
    video = access.scope_videos(request.user, Video.objects.filter(pk=pk)).first()
    if video is None or not video.proxy_path.exists():
        raise Http404
    if request.headers.get("Range", "bytes=0-").startswith("bytes=0-"):
        case = access.case_of_video(request.user, video.pk, request.GET.get("case"))
        audit_record(action=Action.PLAYBACK, user=request.user, case_id=case.pk, object_type="video",
                     object_ids=[video.pk], client_address=client_address_of(request))
    return media_response(request, video.proxy_path, "video/mp4")
