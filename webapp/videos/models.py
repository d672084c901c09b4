"""A piece of uploaded footage and the state of its ingestion."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models

from webapp.cameras.models import Camera


class Video(models.Model):
    class Status(models.TextChoices):
        UPLOADING = "uploading", "uploading"
        QUEUED = "queued", "queued"
        PROCESSING = "processing", "processing"
        DONE = "done", "done"
        FAILED = "failed", "failed"
        REJECTED = "rejected", "rejected"

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="videos")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    original_name = models.CharField(max_length=255)
    # Stored under a generated name, never the client's, outside the static web root.
    storage_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    size_bytes = models.BigIntegerField()
    # The sha256 of the uploaded file as received, set when the upload completes (evidence packages
    # name the source footage by it).
    sha256 = models.CharField(max_length=64, blank=True)
    upload_offset = models.BigIntegerField(default=0)
    recorded_at = models.DateTimeField(help_text="wall-clock time of the first frame")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADING)
    stage = models.CharField(max_length=32, blank=True)
    progress = models.FloatField(default=0.0)
    eta_s = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    probe = models.JSONField(default=dict, blank=True)
    duration_s = models.FloatField(null=True, blank=True)
    frames_decoded = models.IntegerField(default=0)
    frames_skipped = models.IntegerField(default=0)
    embedder = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.camera})"

    @property
    def file_path(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "videos" / f"{self.storage_key}.video"

    @property
    def proxy_path(self) -> Path:
        """The small H.264 review copy of the analysed frames, written during ingestion."""
        return Path(settings.MEDIA_ROOT) / "proxies" / f"{self.storage_key}.mp4"

    @property
    def thumbnail_dir(self) -> Path:
        """The folder of the thumbnails of the people found in this video."""
        return Path(settings.MEDIA_ROOT) / "thumbs" / str(self.storage_key)
