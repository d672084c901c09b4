"""Signals of the footage app: others react to footage going, without the footage app importing them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a video's deletion commits, with ``video_id``, ``tracklet_ids`` (its people) and
# ``camera_ids`` (the cameras they were seen by): the search index drops them from its shards and
# snapshots at once.
video_deleted = Signal()
