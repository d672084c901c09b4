"""Camera, gallery, site plan and walking time API: everyone with a role reads, admins write."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError
from django.db.models import Q
from django.http.response import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.accounts.permissions import IsAdminOrReadOnly, IsInvestigator
from webapp.cameras import plans
from webapp.cameras.models import Camera, Gallery, SitePlan, WalkingTime
from webapp.cameras.serializers import (
    CameraSerializer,
    DetailSerializer,
    GallerySerializer,
    SitePlanCreateSerializer,
    SitePlanSerializer,
    WalkingTimeSerializer,
)
from webapp.core.exceptions import DomainError
from webapp.core.media import media_response


class GalleryViewSet(viewsets.ModelViewSet):
    queryset = Gallery.objects.all()
    serializer_class = GallerySerializer
    permission_classes = [IsAdminOrReadOnly]


class CameraViewSet(viewsets.ModelViewSet):
    queryset = Camera.objects.select_related("gallery")
    serializer_class = CameraSerializer
    permission_classes = [IsAdminOrReadOnly]


class SitePlanViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Site plans: uploaded as multipart ``{name, image, width_m}``; renamed or given a scale with
    PATCH; deleted with their file."""

    queryset = SitePlan.objects.prefetch_related("cameras")
    serializer_class = SitePlanSerializer
    permission_classes = [IsAdminOrReadOnly]
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(request={"multipart/form-data": SitePlanCreateSerializer},
                   responses={201: SitePlanSerializer, 400: DetailSerializer, 409: DetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = SitePlanCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        plan = plans.plan_create(name=form.validated_data["name"], width_m=form.validated_data.get("width_m"),
                                 upload=form.validated_data["image"])
        return Response(SitePlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Rename a plan or set its width in metres (its image stays: upload a new plan for a new drawing)."""
        serializer = self.get_serializer(self.get_object(), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)

    def perform_destroy(self, instance: SitePlan) -> None:
        plans.plan_delete(instance)


class WalkingTimeViewSet(viewsets.ModelViewSet):
    """Walking times between two cameras; ``?camera=id`` keeps those of one camera. A second time
    for the same pair is refused with 409 and the ``id`` of the one to change."""

    queryset = WalkingTime.objects.select_related("camera_a", "camera_b")
    serializer_class = WalkingTimeSerializer
    permission_classes = [IsAdminOrReadOnly]

    def get_queryset(self) -> Any:
        qs = super().get_queryset()
        camera = self.request.query_params.get("camera")
        if camera:
            qs = qs.filter(Q(camera_a_id=camera) | Q(camera_b_id=camera)) if camera.isdigit() else qs.none()
        return qs

    def perform_create(self, serializer: Any) -> None:
        self._save(serializer)

    def perform_update(self, serializer: Any) -> None:
        self._save(serializer)

    @staticmethod
    def _save(serializer: Any) -> None:
        try:
            serializer.save()
        except IntegrityError:  # the same pair written by another request in between
            raise DomainError("there is already a walking time between these cameras", status_code=409) from None


class _AnyAccept(BaseContentNegotiation):
    """An image answers whatever the browser accepts; errors are JSON."""

    def select_parser(self, request: Any, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Any, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class SitePlanImageView(APIView):
    """A site plan's image (``GET /api/plans/{id}/image``), for anyone with a role."""

    permission_classes = [IsInvestigator]
    content_negotiation_class = _AnyAccept

    @extend_schema(responses={
        (200, "image/png"): OpenApiTypes.BINARY, (200, "image/jpeg"): OpenApiTypes.BINARY,
        404: OpenApiResponse(DetailSerializer, description="no such plan, or its file is missing"),
    })
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        plan = SitePlan.objects.filter(pk=pk).first()
        if plan is None or not plan.file_path.is_file():
            raise DomainError("no such site plan", status_code=404)
        return media_response(request, plan.file_path, plans.CONTENT_TYPES[plan.image_type])
