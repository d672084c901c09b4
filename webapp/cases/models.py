"""A case, its members with their case role, and the footage collected into it."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Case(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "open"
        CLOSED = "closed", "closed"

    title = models.CharField(max_length=200)
    reference = models.CharField(max_length=64, unique=True, help_text="the force's or client's case number")
    purpose = models.TextField(help_text="legal basis and justification for processing this footage")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    retention_until = models.DateField(help_text="after this day everything derived from the footage is deleted")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class CaseRole(models.TextChoices):
    LEAD = "lead", "lead"
    INVESTIGATOR = "investigator", "investigator"
    VIEWER = "viewer", "viewer"


class CaseMember(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_memberships")
    role = models.CharField(max_length=16, choices=CaseRole.choices)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "user__username"]
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="one_membership_per_case")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.case_id}"


class CaseVideo(models.Model):
    """Footage belongs to every case it is linked into; it is deleted when the last such case goes."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="video_links")
    video = models.ForeignKey("videos.Video", on_delete=models.CASCADE, related_name="case_links")
    linked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "video"], name="video_once_per_case")]

    def __str__(self) -> str:
        return f"video {self.video_id} in case {self.case_id}"
