"""Every push to browsers goes through here, so the websocket message contract lives in one place.

Messages are JSON objects with a ``type``: ``ingest.progress``, ``ingest.people``, ``ingest.done``, ``ingest.failed``,
``search.hits``, ``search.done``, ``search.failed`` (see the README for their fields).
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)


def video_group(video_id: int) -> str:
    return f"video-{video_id}"


def push_to_group(group: str, message: dict[str, Any]) -> None:
    """Send one event to every socket in ``group``; the consumer forwards it as JSON."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.group_send)(group, {"type": "client.push", "message": message})


def push_to_channel(channel_name: str, message: dict[str, Any]) -> None:
    """Send one event to one socket (the one that asked for a search)."""
    layer = get_channel_layer()
    if layer is None:
        return
    async_to_sync(layer.send)(channel_name, {"type": "client.push", "message": message})
