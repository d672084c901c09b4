"""Delete the uploads abandoned for longer than ``UPLOAD_EXPIRY_HOURS``: their bytes and rows."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from webapp.videos.uploads import uploads_expire


class Command(BaseCommand):
    help = "Delete uploads no chunk has reached for UPLOAD_EXPIRY_HOURS, with a ledger record in each case."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        report = uploads_expire()
        if options["json"]:
            self.stdout.write(json.dumps(dataclasses.asdict(report)))
            return
        hours = settings.LONGVIEW["UPLOAD_EXPIRY_HOURS"]
        self.stdout.write(
            f"{len(report.videos)} uploads abandoned for over {hours:g} h deleted ({report.bytes_deleted} bytes)"
        )
