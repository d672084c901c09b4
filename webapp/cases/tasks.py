"""The daily retention run (Celery beat)."""

from __future__ import annotations

from celery import shared_task

from webapp.cases.services import cases_enforce_retention


@shared_task(name="cases.enforce_retention")
def enforce_retention() -> int:
    return len(cases_enforce_retention())
