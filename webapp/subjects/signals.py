"""Deleting an export row (directly, or with its subject or case) deletes its zip."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete
from django.dispatch import receiver

from webapp.subjects.models import EvidenceExport


@receiver(post_delete, sender=EvidenceExport)
def export_file_delete(sender: Any, instance: EvidenceExport, **kwargs: Any) -> None:
    instance.file_path.unlink(missing_ok=True)
    instance.file_path.with_suffix(".part").unlink(missing_ok=True)
