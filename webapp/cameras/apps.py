from __future__ import annotations

from django.apps import AppConfig


class CamerasConfig(AppConfig):
    name = "webapp.cameras"
    label = "cameras"
