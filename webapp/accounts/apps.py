from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "webapp.accounts"
    label = "accounts"

    def ready(self) -> None:
        # Connects the failed-login counters to Django's login signals.
        from webapp.accounts import lockout  # noqa: F401
