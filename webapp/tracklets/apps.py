from __future__ import annotations

from django.apps import AppConfig


class TrackletsConfig(AppConfig):
    name = "webapp.tracklets"
    label = "tracklets"
