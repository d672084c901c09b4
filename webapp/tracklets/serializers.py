from __future__ import annotations

from typing import Any

from rest_framework import serializers

from webapp.tracklets.selectors import tracklet_card, tracklet_detail


class TrackletCardSerializer(serializers.Serializer):
    """The same card the UI and the websocket use, with its fields declared for the schema."""

    tracklet = serializers.IntegerField()
    track_id = serializers.IntegerField()
    video = serializers.IntegerField()
    video_name = serializers.CharField()
    camera = serializers.CharField()
    camera_id = serializers.IntegerField()
    start_time = serializers.DateTimeField()
    end_time = serializers.DateTimeField()
    start_s = serializers.FloatField()
    end_s = serializers.FloatField()
    frames = serializers.IntegerField()
    thumbnail_url = serializers.CharField()
    clip_url = serializers.CharField(help_text="review video of the whole footage; play from start_s to end_s")

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return tracklet_card(instance)


class TrackletDetailSerializer(TrackletCardSerializer):
    boxes = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()),
        help_text="[frame_index, t_s, x1, y1, x2, y2] per analysed frame, in frame pixels",
    )
    frame_width = serializers.IntegerField()
    frame_height = serializers.IntegerField()

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return tracklet_detail(instance)
