"""Reads of tracklets shaped for the UI and the API."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from webapp.tracklets.models import Tracklet


def tracklet_card(t: Tracklet) -> dict[str, Any]:
    """What a result card shows: thumbnail, camera, time span, and where it comes from."""
    return {
        "tracklet": t.pk,
        "track_id": t.track_id,
        "video": t.video_id,
        "video_name": t.video.original_name,
        "camera": t.camera.name,
        "camera_id": t.camera_id,
        "start_time": t.start_time.isoformat(),
        "end_time": t.end_time.isoformat(),
        "start_s": round(t.start_s, 2),
        "end_s": round(t.end_s, 2),
        "frames": t.num_frames,
        "thumbnail_url": reverse("tracklet-thumbnail", args=[t.pk]),
    }
