"""Ledger rows and the head of the chain.

Each :class:`AuditEntry` stores ``sha256(previous hash + canonical JSON of the record)``; the
:class:`LedgerHead` row holds the newest sequence number and hash, so appending is serialised (its
row lock) and a deleted tail is noticed. Rows refuse to be changed or deleted through the ORM;
``manage.py verify_audit`` finds edits made behind its back.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    LOGIN = "login", "login"
    LOGOUT = "logout", "logout"
    LOGIN_FAILED = "login.failed", "failed login"
    LOGIN_LOCKED = "login.locked", "locked out after failed logins"
    CASE_CREATE = "case.create", "case created"
    CASE_UPDATE = "case.update", "case changed"
    CASE_STATUS = "case.status", "case status changed"
    CASE_DELETE = "case.delete", "case deleted"
    MEMBER_ADD = "member.add", "member added"
    MEMBER_ROLE = "member.role", "member role changed"
    MEMBER_REMOVE = "member.remove", "member removed"
    VIDEO_UPLOAD = "video.upload", "footage uploaded"
    VIDEO_LINK = "video.link", "footage linked into a case"
    VIDEO_VIEW = "video.view", "footage page viewed"
    VIDEO_DELETE = "video.delete", "footage deleted"
    UPLOAD_EXPIRE = "upload.expire", "abandoned upload deleted"
    PLAYBACK = "playback", "footage played"
    PERSON_VIEW = "person.view", "person viewed"
    SEARCH = "search", "search"
    SUBJECT_CREATE = "subject.create", "subject created"
    SUBJECT_UPDATE = "subject.update", "subject changed"
    SUBJECT_DELETE = "subject.delete", "subject deleted"
    SIGHTING_CONFIRM = "sighting.confirm", "sighting confirmed"
    SIGHTING_REJECT = "sighting.reject", "sighting rejected"
    SIGHTING_UNDO = "sighting.undo", "decision on a sighting withdrawn"
    EXPORT = "export", "evidence exported"
    AUDIT_EXPORT = "audit.export", "ledger exported"
    RETENTION_DELETE = "retention.delete", "deleted at end of retention"


class LedgerHead(models.Model):
    """The single row (pk 1) naming the chain's newest record."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="")

    def __str__(self) -> str:
        return f"ledger head #{self.seq}"


class AuditEntry(models.Model):
    seq = models.BigIntegerField(unique=True, help_text="position in the chain, from 1, without gaps")
    at = models.DateTimeField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    # The name is kept as written: the record must still say who acted after the account is gone.
    username = models.CharField(max_length=150, blank=True)
    # A plain number, not a foreign key: the record of a case outlives the case.
    case_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    action = models.CharField(max_length=32, choices=Action.choices)
    object_type = models.CharField(max_length=32, blank=True)
    object_ids = models.JSONField(default=list, blank=True)
    justification = models.TextField(blank=True)
    client_address = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValueError("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ValueError("audit entries are append-only")
