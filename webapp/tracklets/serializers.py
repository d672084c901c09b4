from __future__ import annotations

from typing import Any

from rest_framework import serializers

from webapp.tracklets.selectors import tracklet_card


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

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return tracklet_card(instance)
