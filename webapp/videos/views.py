"""Footage API: open an upload, send chunks, follow ingestion, delete."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.audit.ledger import client_address_of
from webapp.cases import access
from webapp.cases.access import Capability
from webapp.cases.models import Case
from webapp.core.exceptions import DomainError
from webapp.videos import services
from webapp.videos.models import Video
from webapp.videos.serializers import UploadCreateSerializer, UploadStateSerializer, VideoSerializer
from webapp.videos.uploads import upload_state

_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class VideoViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = VideoSerializer
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self) -> Any:
        qs = Video.objects.select_related("camera").prefetch_related("case_links")
        case = self.request.query_params.get("case")
        scope = None if not case else access.case_for(self.request.user, case, Capability.VIEW)
        return access.scope_videos(self.request.user, qs, case=scope).annotate(people=Count("tracklets"))

    @extend_schema(request=UploadCreateSerializer, responses={201: VideoSerializer})
    def create(self, request: Request) -> Response:
        data = UploadCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        case = access.case_for(request.user, v["case"], Capability.UPLOAD)
        address = client_address_of(request)
        if "file" in v:
            video = services.video_upload_file(
                user=request.user, camera=v["camera"], upload=v["file"], recorded_at=v["recorded_at"], case=case,
                client_address=address,
            )
        else:
            video = services.video_upload_create(
                user=request.user,
                camera=v["camera"],
                filename=v["filename"],
                size_bytes=v["size"],
                recorded_at=v["recorded_at"],
                case=case,
                client_address=address,
            )
        return Response(VideoSerializer(video, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"application/octet-stream": bytes}, responses={200: VideoSerializer})
    @action(detail=True, methods=["put"], url_path="content", parser_classes=[])
    def content(self, request: Request, pk: str | None = None) -> Response:
        """Send one chunk with ``Content-Range: bytes START-END/TOTAL``; resume from ``upload_offset``."""
        video = self.get_object()
        _require_in_some_case(request.user, video, Capability.UPLOAD)
        match = _CONTENT_RANGE.match(request.headers.get("Content-Range", ""))
        if match is None:
            raise DomainError("send each chunk with a header Content-Range: bytes START-END/TOTAL")
        start, end, total = (int(g) for g in match.groups())
        if total != video.size_bytes or end < start:
            raise DomainError(f"Content-Range does not fit this upload of {video.size_bytes} bytes")
        video = services.video_upload_append(
            video=video, start=start, stream=request._request, length=end - start + 1
        )
        return Response(VideoSerializer(video, context={"request": request}).data)

    @extend_schema(responses={200: UploadStateSerializer})
    @content.mapping.get
    def content_state(self, request: Request, pk: str | None = None) -> Response:
        """Where an upload stands, to resume it: the offset to send from and the sha256 of the
        first ``head_bytes`` received, to check the file picked again is the same one."""
        video = self.get_object()
        _require_in_some_case(request.user, video, Capability.UPLOAD)
        return Response(UploadStateSerializer(upload_state(video)).data)

    def perform_destroy(self, instance: Video) -> None:
        held_by = Case.objects.filter(video_links__video=instance)
        for case in held_by:
            if access.role_in(self.request.user, case) is None:
                raise DomainError(
                    "this footage is also held by a case you are not a member of; ask its lead to remove it",
                    status_code=409,
                )
            access.case_for(self.request.user, case.pk, Capability.DELETE)
        services.video_delete(video=instance, user=self.request.user, client_address=client_address_of(self.request))


def _require_in_some_case(user: Any, video: Video, capability: Capability) -> None:
    """403 unless one of the cases holding ``video`` lets ``user`` do ``capability``."""
    holding = access.cases_holding_video(user, video.pk)
    if not any(capability in access.capabilities(user, case) for case in holding):
        raise DomainError(f"your role in this footage's case does not allow {capability.value}", status_code=403)
