"""A subject of a case: a person the investigators follow, built from the sightings they confirmed,
the sightings they rejected (never shown again for the subject), and the evidence packages made of it."""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings
from django.db import models


class Subject(models.Model):
    class Origin(models.TextChoices):
        PERSON = "person", "a person in the footage"
        PHOTO = "photo", "a photo search"
        DESCRIPTION = "description", "a description search"

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="subjects")
    label = models.CharField(max_length=120)
    notes = models.TextField(blank=True)
    origin = models.CharField(max_length=16, choices=Origin.choices)
    # The search the subject was made from (a photo or description search); its hits can be judged.
    origin_search = models.ForeignKey(
        "search.SearchRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["case", "-created_at"]

    def __str__(self) -> str:
        return f"{self.label} (case {self.case_id})"


class Sighting(models.Model):
    """An investigator's decision on one person (tracklet) for a subject: confirmed or rejected."""

    class Decision(models.TextChoices):
        CONFIRMED = "confirmed", "confirmed"
        REJECTED = "rejected", "rejected"

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="sightings")
    tracklet = models.ForeignKey("tracklets.Tracklet", on_delete=models.CASCADE, related_name="sightings")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField()
    # The search whose results the decision was made on, when there was one.
    search = models.ForeignKey("search.SearchRecord", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    audit_entry = models.ForeignKey("audit.AuditEntry", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")

    class Meta:
        ordering = ["subject", "tracklet__start_time"]
        constraints = [models.UniqueConstraint(fields=["subject", "tracklet"], name="one_decision_per_person")]

    def __str__(self) -> str:
        return f"{self.decision} tracklet {self.tracklet_id} for subject {self.subject_id}"


class EvidenceExport(models.Model):
    """An evidence package of a subject: a zip built by a worker, its sha256 written to the ledger."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="exports")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                     related_name="+")
    redact = models.BooleanField(default=False, help_text="blur every other person in clips and stills")
    storage_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=64, blank=True)
    progress = models.FloatField(default=0.0)
    error = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    audit_entry = models.ForeignKey("audit.AuditEntry", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"export {self.pk} of subject {self.subject_id} ({self.status})"

    @property
    def file_path(self) -> Path:
        return Path(settings.MEDIA_ROOT) / "exports" / f"{self.storage_key}.zip"
