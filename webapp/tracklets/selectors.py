"""Reads of tracklets shaped for the UI and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from webapp.cases.access import scope_tracklets
from webapp.tracklets.estimated import estimated_only
from webapp.tracklets.models import Tracklet


def tracklets_visible_to(user: Any, *, case: Any = None) -> QuerySet[Tracklet]:
    """The tracklets ``user`` may see (those of footage in their cases, or in ``case``); every view,
    consumer and task reads tracklets through this."""
    return scope_tracklets(user, Tracklet.objects.all(), case=case)


def tracklets_of_video(*, user: Any, video_id: int) -> QuerySet[Tracklet]:
    """The people found in one video, as its page and the API list them."""
    return tracklets_visible_to(user).select_related("camera", "video").filter(video_id=video_id)


def top_attributes(probabilities: dict[str, dict[str, float]] | None) -> dict[str, dict[str, Any]]:
    """The most likely value of each estimated attribute with its probability, for badges; attributes
    the product does not estimate (``webapp.tracklets.estimated``) are left out even when stored."""
    out: dict[str, dict[str, Any]] = {}
    for name, values in estimated_only(probabilities).items():
        if values:
            value, p = max(values.items(), key=lambda kv: kv[1])
            out[name] = {"value": value, "p": round(float(p), 3)}
    return out


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
        "attributes": top_attributes(t.attributes),
        "clip_url": reverse("video-proxy", args=[t.video_id]),
    }


def tracklet_detail(t: Tracklet) -> dict[str, Any]:
    """The card plus the per-frame boxes and the frame size they refer to, for playback overlays."""
    probe = t.video.probe or {}
    width, height = probe.get("width", 0), probe.get("height", 0)
    if probe.get("rotation") in (90, 270):
        width, height = height, width
    return {**tracklet_card(t), "boxes": t.boxes, "frame_width": width, "frame_height": height}
