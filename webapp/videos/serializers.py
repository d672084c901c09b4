from __future__ import annotations

from rest_framework import serializers

from webapp.cameras.models import Camera
from webapp.videos.models import Video


class VideoSerializer(serializers.ModelSerializer):
    camera_name = serializers.CharField(source="camera.name", read_only=True)
    people = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Video
        fields = [
            "id", "camera", "camera_name", "original_name", "size_bytes", "upload_offset", "recorded_at",
            "status", "stage", "progress", "eta_s", "error", "warnings", "probe", "duration_s",
            "frames_decoded", "frames_skipped", "embedder", "created_at", "started_at", "finished_at",
            "people",
        ]
        read_only_fields = fields


class UploadCreateSerializer(serializers.Serializer):
    """Open a chunked upload (``filename`` + ``size``) or send the whole file (``file``)."""

    camera = serializers.PrimaryKeyRelatedField(queryset=Camera.objects.all())
    recorded_at = serializers.DateTimeField()
    filename = serializers.CharField(max_length=255, required=False)
    size = serializers.IntegerField(min_value=0, required=False)
    file = serializers.FileField(required=False, allow_empty_file=True)

    def validate(self, attrs: dict) -> dict:
        if "file" not in attrs and ("filename" not in attrs or "size" not in attrs):
            raise serializers.ValidationError("send either a file, or a filename and size to upload in chunks")
        return attrs
