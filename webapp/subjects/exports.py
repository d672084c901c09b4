"""Evidence exports: asking for one, the worker's run that builds it and writes it to the ledger, and
reading it back or downloading it. Everything goes through :mod:`webapp.cases.access`."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from celery import current_app
from django.db import transaction
from django.utils import timezone

from webapp.audit.ledger import audit_record
from webapp.audit.models import Action
from webapp.cases import access
from webapp.cases.access import Capability
from webapp.core.events import ExportProgress, push_to_group, subject_group
from webapp.core.exceptions import DomainError
from webapp.subjects.models import EvidenceExport, Sighting
from webapp.subjects.services import subject_for

logger = logging.getLogger(__name__)

EXPORT_TASK = "subjects.export"
"""The name of the Celery task that builds one package (:func:`webapp.subjects.tasks.export_subject`)."""


def _push(export: EvidenceExport) -> None:
    push_to_group(subject_group(export.subject_id), ExportProgress(
        export=export.pk, subject=export.subject_id, status=export.status, stage=export.stage,
        percent=round(100 * export.progress, 1), error=export.error, sha256=export.sha256,
    ))


def _export_for(user: Any, export_id: Any, capability: Capability) -> EvidenceExport:
    try:
        pk = int(export_id)
    except (TypeError, ValueError):
        raise DomainError("no such export", status_code=404) from None
    export = (access.scope_by_case(user, EvidenceExport.objects.filter(pk=pk), field="subject__case")
              .select_related("subject__case", "requested_by").first())
    if export is None:
        raise DomainError("no such export", status_code=404)
    access.case_for(user, export.subject.case_id, capability)
    return export


def export_start(*, user: Any, subject_id: Any, redact: bool, client_address: str = "") -> EvidenceExport:
    """Ask for an evidence package of a subject; a worker builds it once the request commits.

    Raises:
        DomainError: 404 when the subject is not in one of your cases, 403 when your role there
            does not allow exports (a lead's), 400 when the subject has no confirmed sightings.
    """
    subject = subject_for(user, subject_id, Capability.EXPORT)
    if not subject.sightings.filter(decision=Sighting.Decision.CONFIRMED).exists():
        raise DomainError("the subject has no confirmed sightings")
    export = EvidenceExport.objects.create(subject=subject, requested_by=user, redact=bool(redact), stage="queued")
    transaction.on_commit(lambda: _push(export))
    transaction.on_commit(lambda: current_app.send_task(EXPORT_TASK, args=[export.pk, client_address]))
    return export


def export_detail(*, user: Any, export_id: Any) -> EvidenceExport:
    """An export of a subject in one of your cases (any member may follow it)."""
    return _export_for(user, export_id, Capability.VIEW)


def export_download(*, user: Any, export_id: Any, client_address: str = "") -> tuple[EvidenceExport, Path]:
    """The finished package for download, the download recorded in the ledger.

    Raises:
        DomainError: 404 when the export is not in one of your cases or not finished, 403 when your
            role does not allow exports.
    """
    export = _export_for(user, export_id, Capability.EXPORT)
    if export.status != EvidenceExport.Status.DONE or not export.file_path.is_file():
        raise DomainError("the package is not ready", status_code=404)
    audit_record(action=Action.EXPORT, user=user, case_id=export.subject.case_id, object_type="subject",
                 object_ids=[export.subject_id], client_address=client_address,
                 details={"export": export.pk, "sha256": export.sha256, "download": True})
    return export, export.file_path


def download_name(export: EvidenceExport) -> str:
    """The file name a download is saved under."""
    reference = "".join(c if c.isalnum() or c in "-_" else "-" for c in export.subject.case.reference)
    return f"evidence-{reference}-subject{export.subject_id}-export{export.pk}.zip"


class _Progress:
    """Forwards build progress to the export's row and to the subject's page."""

    def __init__(self, export: EvidenceExport) -> None:
        self.export = export

    def __call__(self, stage: str, fraction: float) -> None:
        self.export.stage, self.export.progress = stage[:64], fraction
        EvidenceExport.objects.filter(pk=self.export.pk).update(stage=self.export.stage, progress=fraction)
        _push(self.export)


def export_fail(*, export: EvidenceExport, reason: str) -> None:
    export.status, export.stage, export.error = EvidenceExport.Status.FAILED, "failed", reason
    export.finished_at = timezone.now()
    EvidenceExport.objects.filter(pk=export.pk).update(status=export.status, stage=export.stage, error=reason,
                                                       finished_at=export.finished_at)
    _push(export)


def export_run(*, export_id: int, client_address: str = "") -> None:
    """Build one package (worker side), record its sha256 in the ledger, and say how it went.

    A finished or failed export is left alone; a redelivered one (its worker was killed) is built
    again from the start. Whatever breaks, the export ends as failed with a reason and no file.
    """
    # Worker side only: the web process that imports this module never loads OpenCV for it.
    from webapp.subjects.package import ExportError, package_build

    export = EvidenceExport.objects.select_related("subject__case", "requested_by").filter(pk=export_id).first()
    if export is None:
        logger.info("export %s was deleted before it was built; nothing to do", export_id)
        return
    if export.status in (EvidenceExport.Status.DONE, EvidenceExport.Status.FAILED):
        return
    export.status, export.stage, export.progress = EvidenceExport.Status.RUNNING, "starting", 0.0
    export.save(update_fields=["status", "stage", "progress"])
    _push(export)
    user = export.requested_by
    try:
        result = package_build(export, generated_by=user.username if user else "", progress=_Progress(export))
        with transaction.atomic():
            entry = audit_record(
                action=Action.EXPORT, user=user, case_id=export.subject.case_id, object_type="subject",
                object_ids=[export.subject_id], client_address=client_address,
                details={"export": export.pk, "sha256": result.sha256, "sightings": result.sightings,
                         "redacted": export.redact},
            )
            export.status, export.stage, export.progress = EvidenceExport.Status.DONE, "done", 1.0
            export.sha256, export.size_bytes, export.audit_entry = result.sha256, result.size_bytes, entry
            export.finished_at = timezone.now()
            export.save(update_fields=["status", "stage", "progress", "sha256", "size_bytes", "audit_entry",
                                       "finished_at"])
    except ExportError as exc:
        export.file_path.unlink(missing_ok=True)
        export_fail(export=export, reason=str(exc))
        return
    except Exception:
        # The task still raises so the error is logged with its trace, but the export never stays
        # "running" and leaves no file.
        logger.exception("export %s crashed", export.pk)
        export.file_path.unlink(missing_ok=True)
        export_fail(export=export, reason="internal error while building the package; the administrators were notified")
        raise
    _push(export)
