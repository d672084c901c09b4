from __future__ import annotations

from rest_framework import serializers

from webapp.cameras.models import Camera, Gallery


class GallerySerializer(serializers.ModelSerializer):
    class Meta:
        model = Gallery
        fields = ["id", "name", "description", "created_at"]


class CameraSerializer(serializers.ModelSerializer):
    class Meta:
        model = Camera
        fields = ["id", "name", "location", "description", "gallery", "created_at"]
