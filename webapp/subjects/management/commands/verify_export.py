"""Check an evidence package against its manifest and the audit ledger; exit 1 naming the first problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from webapp.subjects.manifest import check_package


class Command(BaseCommand):
    help = ("Check an evidence package: every file against manifest.json (missing, extra, changed), the "
            "package's sha256 against the ledger's record of the export, and the ledger's chain.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("package", type=Path, help="the package's zip file")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        result = check_package(options["package"])
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
        if not result.ok:
            raise CommandError(f"evidence package not intact: {result.problem}")
        if not options["json"]:
            self.stdout.write(
                f"evidence package intact: export {result.export_id}, {result.files} files match the manifest, "
                f"sha256 {result.sha256} recorded in ledger record {result.ledger_seq}, ledger chain intact"
            )
