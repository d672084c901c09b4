"""Walk the audit ledger's hash chain; exit 1 naming the first broken record."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from webapp.audit.ledger import audit_verify


class Command(BaseCommand):
    help = "Check the audit ledger's hash chain from the first record to the head."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_verify()
        if options["json"]:
            self.stdout.write(json.dumps({
                "ok": result.ok, "checked": result.checked, "head_seq": result.head_seq,
                "head_hash": result.head_hash, "broken_seq": result.broken_seq, "reason": result.reason,
            }))
        if not result.ok:
            raise CommandError(f"audit ledger broken at record {result.broken_seq}: {result.reason}")
        if not options["json"]:
            self.stdout.write(
                f"audit ledger intact: {result.checked} records, head {result.head_hash or '(empty)'}"
            )
