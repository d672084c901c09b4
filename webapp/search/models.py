"""A record of every search: who looked for whom, when, and how many results they saw."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SearchRecord(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="searches")
    # Null only for searches recorded before cases existed; deleting a case deletes its searches,
    # and the ledger keeps the record that each one happened.
    case = models.ForeignKey("cases.Case", null=True, on_delete=models.CASCADE, related_name="searches")
    justification = models.TextField(blank=True)
    audit_entry = models.ForeignKey("audit.AuditEntry", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    query_tracklet = models.ForeignKey(
        "tracklets.Tracklet", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The query's description survives deletion of the tracklet it was made from.
    query_description = models.CharField(max_length=255)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING)
    result_count = models.IntegerField(default=0)
    error = models.TextField(blank=True)
    first_batch_ms = models.FloatField(
        null=True, blank=True, help_text="milliseconds from the query's arrival to its first results being sent"
    )
    # {lane: [[tracklet id, score], …]} best first, once the search is done (GET /api/search/{id}/).
    results = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"search {self.pk} by {self.user_id}: {self.query_description}"
