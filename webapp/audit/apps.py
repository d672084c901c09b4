from __future__ import annotations

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "webapp.audit"
    label = "audit"

    def ready(self) -> None:
        from webapp.audit import signals  # noqa: F401  (connects the login/logout receivers)
