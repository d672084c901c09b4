from __future__ import annotations

from django.apps import AppConfig


class VideosConfig(AppConfig):
    name = "webapp.videos"
    label = "videos"

    def ready(self) -> None:
        from webapp.cases.signals import case_deleting
        from webapp.videos.services import videos_delete_for_case

        case_deleting.connect(videos_delete_for_case, dispatch_uid="videos-delete-for-case")
