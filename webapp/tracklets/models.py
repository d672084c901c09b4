"""One person followed through one video: time span, boxes, thumbnail and its two embeddings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from django.db import models

from webapp.cameras.models import Camera
from webapp.videos.models import Video


class Tracklet(models.Model):
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="tracklets")
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="tracklets")
    track_id = models.IntegerField(help_text="the tracker's id, unique within the video")
    start_s = models.FloatField()
    end_s = models.FloatField()
    start_time = models.DateTimeField()
    end_time = models.DateTimeField()
    num_frames = models.IntegerField()
    # [[frame_index, t_s, x1, y1, x2, y2], …] at the sampled rate, for drawing boxes on playback.
    boxes = models.JSONField(default=list)
    # The appearance embedding (clothing included: the "same outfit" search lane).
    appearance_embedding = models.BinaryField(help_text="float32 L2-normalised appearance embedding")
    appearance_embedder = models.CharField(max_length=120)
    # The clothes-invariant identity embedding (the "possible change of clothes" search lane); null
    # when the video was ingested without that model.
    identity_embedding = models.BinaryField(null=True, blank=True)
    identity_embedder = models.CharField(max_length=120, blank=True, default="")
    quality = models.FloatField(default=0.0)
    # {attribute: {value name: probability}} for the attributes the engine could estimate
    # (garment colours from the model-free namer today); search filters read it.
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["video", "start_s", "track_id"]
        constraints = [models.UniqueConstraint(fields=["video", "track_id"], name="unique_track_per_video")]
        indexes = [models.Index(fields=["camera", "start_time"])]

    def __str__(self) -> str:
        return f"person {self.track_id} in {self.video_id}"

    @property
    def thumbnail_path(self) -> Path:
        return self.video.thumbnail_dir / f"{self.track_id}.jpg"

    def appearance_embedding_array(self) -> np.ndarray:
        return np.frombuffer(bytes(self.appearance_embedding), dtype=np.float32)

    def identity_embedding_array(self) -> np.ndarray | None:
        if self.identity_embedding is None:
            return None
        return np.frombuffer(bytes(self.identity_embedding), dtype=np.float32)
