"""Create the first real admin of a deployment from environment variables: LONGVIEW_ADMIN_USERNAME
(default ``admin``), LONGVIEW_ADMIN_PASSWORD and LONGVIEW_ADMIN_EMAIL. Safe to re-run: an existing
account keeps its password (changed since, perhaps) unless ``--reset-password``."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from webapp.accounts.roles import ADMIN_GROUP, is_admin
from webapp.accounts.services import user_create_with_role


class Command(BaseCommand):
    help = "Create an admin from LONGVIEW_ADMIN_USERNAME / LONGVIEW_ADMIN_PASSWORD / LONGVIEW_ADMIN_EMAIL."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--reset-password", action="store_true",
                            help="set the password of an existing account to LONGVIEW_ADMIN_PASSWORD")
        parser.add_argument("--if-configured", action="store_true",
                            help="do nothing (instead of failing) when LONGVIEW_ADMIN_PASSWORD is not set")

    def handle(self, *args: Any, **options: Any) -> None:
        username = os.environ.get("LONGVIEW_ADMIN_USERNAME", "").strip() or "admin"
        password = os.environ.get("LONGVIEW_ADMIN_PASSWORD", "")
        email = os.environ.get("LONGVIEW_ADMIN_EMAIL", "").strip()
        existing = User.objects.filter(username=username).first()
        if existing is not None and not options["reset_password"]:
            if not is_admin(existing):
                raise CommandError(f"{username!r} exists and is not an admin; choose another LONGVIEW_ADMIN_USERNAME")
            self.stdout.write(f"admin {username!r} exists; its password is left as it is")
            return
        if not password:
            if options["if_configured"]:
                self.stdout.write("LONGVIEW_ADMIN_PASSWORD is not set: no admin created")
                return
            raise CommandError("set LONGVIEW_ADMIN_PASSWORD (and optionally LONGVIEW_ADMIN_USERNAME, LONGVIEW_ADMIN_EMAIL)")
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as exc:
            raise CommandError("LONGVIEW_ADMIN_PASSWORD: " + " ".join(exc.messages)) from None
        user_create_with_role(username=username, password=password, role=ADMIN_GROUP, email=email)
        self.stdout.write(f"admin {username!r} {'password reset' if existing else 'created'}")
