"""Delete every case whose retention date has passed, with the footage no other live case holds."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from webapp.cases.services import cases_enforce_retention


class Command(BaseCommand):
    help = "Delete cases past their retention date and everything derived from their footage."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--today", help="act as if today were this ISO date (default: today)")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["today"]:
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError(f"--today: not an ISO date: {options['today']!r}") from None
        reports = cases_enforce_retention(today=today)
        if options["json"]:
            self.stdout.write(json.dumps({"cases": [r.__dict__ for r in reports]}))
            return
        for r in reports:
            self.stdout.write(
                f"case {r.case_id} ({r.reference}): {len(r.videos_deleted)} videos and {r.people_deleted} people "
                f"deleted, {len(r.videos_kept)} videos kept (held by another case)"
            )
        self.stdout.write(f"{len(reports)} cases past retention deleted")
