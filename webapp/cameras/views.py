"""Camera and gallery API: everyone with a role reads, admins write."""

from __future__ import annotations

from rest_framework import viewsets

from webapp.accounts.permissions import IsAdminOrReadOnly
from webapp.cameras.models import Camera, Gallery
from webapp.cameras.serializers import CameraSerializer, GallerySerializer


class GalleryViewSet(viewsets.ModelViewSet):
    queryset = Gallery.objects.all()
    serializer_class = GallerySerializer
    permission_classes = [IsAdminOrReadOnly]


class CameraViewSet(viewsets.ModelViewSet):
    queryset = Camera.objects.select_related("gallery")
    serializer_class = CameraSerializer
    permission_classes = [IsAdminOrReadOnly]
