from __future__ import annotations

from django.apps import AppConfig


class SubjectsConfig(AppConfig):
    name = "webapp.subjects"
    label = "subjects"

    def ready(self) -> None:
        from webapp.subjects import signals  # noqa: F401
