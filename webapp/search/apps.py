from __future__ import annotations

from typing import Any

from django.apps import AppConfig


def _purge_deleted_video(sender: Any, *, camera_ids: list[int], tracklet_ids: list[int], **kwargs: Any) -> None:
    # Imported here, not at start-up: the web process loads FAISS only when it first needs the index.
    from webapp.search.index import index_purge

    index_purge(camera_ids, tracklet_ids)


class SearchConfig(AppConfig):
    name = "webapp.search"
    label = "search"

    def ready(self) -> None:
        from webapp.videos.signals import video_deleted

        video_deleted.connect(_purge_deleted_video, dispatch_uid="search-purge-deleted-video")
