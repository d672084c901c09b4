from __future__ import annotations

from rest_framework import serializers

from webapp.cameras.models import Camera
from webapp.cases.access import member_cases
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
            "people", "cases",
        ]
        read_only_fields = fields

    cases = serializers.SerializerMethodField()

    def get_cases(self, video: Video) -> list[int]:
        """The ids of the cases holding this footage that the requesting user is a member of."""
        request = self.context.get("request")
        links = video.case_links.all()
        if request is None:
            return sorted(link.case_id for link in links)
        mine = set(member_cases(request.user).values_list("pk", flat=True))
        return sorted(link.case_id for link in links if link.case_id in mine)


class UploadCreateSerializer(serializers.Serializer):
    """Open a chunked upload (``filename`` + ``size``) or send the whole file (``file``) into a case."""

    case = serializers.IntegerField(help_text="the case the footage is collected into")
    camera = serializers.PrimaryKeyRelatedField(queryset=Camera.objects.all())
    recorded_at = serializers.DateTimeField()
    filename = serializers.CharField(max_length=255, required=False)
    size = serializers.IntegerField(min_value=0, required=False)
    file = serializers.FileField(required=False, allow_empty_file=True)

    def validate(self, attrs: dict) -> dict:
        if "file" not in attrs and ("filename" not in attrs or "size" not in attrs):
            raise serializers.ValidationError("send either a file, or a filename and size to upload in chunks")
        return attrs


class UploadStateSerializer(serializers.Serializer):
    """Where an upload stands (``GET /api/videos/{id}/content/``), to resume it from another page."""

    video = serializers.IntegerField()
    status = serializers.CharField()
    name = serializers.CharField(help_text="the file name the upload was started with")
    size = serializers.IntegerField(help_text="the file's size in bytes")
    offset = serializers.IntegerField(help_text="the next byte to send")
    head_bytes = serializers.IntegerField(help_text="how many bytes from the start head_sha256 covers")
    head_sha256 = serializers.CharField(help_text="sha256 of the first head_bytes received (empty when none)")
    expires_at = serializers.DateTimeField(allow_null=True, help_text="when the upload is deleted unless a chunk arrives")
