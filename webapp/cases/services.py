"""Writes on cases: creation, membership, status, footage links, deletion and retention.

Each write and its ledger record commit together: a refused change leaves neither behind.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from webapp.audit.ledger import audit_record
from webapp.audit.models import Action
from webapp.cases.models import Case, CaseMember, CaseRole, CaseVideo
from webapp.cases.signals import case_deleting
from webapp.core.exceptions import DomainError

logger = logging.getLogger(__name__)


def _text(value: Any, name: str, *, max_length: int) -> str:
    text = str(value or "").strip()
    if not text:
        raise DomainError(f"{name}: required")
    if len(text) > max_length:
        raise DomainError(f"{name}: at most {max_length} characters")
    return text


def _retention(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        try:
            value = dt.date.fromisoformat(str(value))
        except ValueError:
            raise DomainError("retention_until: a date like 2027-06-30") from None
    if value < timezone.localdate():
        raise DomainError(f"retention_until: {value.isoformat()} is in the past")
    return value


@transaction.atomic
def case_create(
    *, user: Any, title: Any, reference: Any, purpose: Any, retention_until: Any, client_address: str = ""
) -> Case:
    """Open a case; its creator becomes its lead."""
    title_text = _text(title, "title", max_length=200)
    reference_text = _text(reference, "reference", max_length=64)
    purpose_text = _text(purpose, "purpose", max_length=4000)
    until = _retention(retention_until)
    if Case.objects.filter(reference=reference_text).exists():
        raise DomainError(f"reference: a case {reference_text!r} exists already", status_code=409)
    case = Case.objects.create(
        title=title_text, reference=reference_text, purpose=purpose_text, retention_until=until, created_by=user
    )
    CaseMember.objects.create(case=case, user=user, role=CaseRole.LEAD, added_by=user)
    audit_record(
        action=Action.CASE_CREATE, user=user, case_id=case.pk, object_type="case", object_ids=[case.pk],
        justification=purpose_text, client_address=client_address,
        details={"reference": reference_text, "title": title_text, "retention_until": until.isoformat()},
    )
    return case


@transaction.atomic
def case_update(*, case: Case, user: Any, changes: dict[str, Any], client_address: str = "") -> Case:
    """Change a case's title, purpose or retention date."""
    allowed = {"title", "purpose", "retention_until"}
    unknown = set(changes) - allowed
    if unknown:
        raise DomainError(f"{sorted(unknown)[0]}: cannot be changed (only {', '.join(sorted(allowed))})")
    if not changes:
        raise DomainError("nothing to change")
    if "title" in changes:
        case.title = _text(changes["title"], "title", max_length=200)
    if "purpose" in changes:
        case.purpose = _text(changes["purpose"], "purpose", max_length=4000)
    if "retention_until" in changes:
        case.retention_until = _retention(changes["retention_until"])
    case.save()
    audit_record(
        action=Action.CASE_UPDATE, user=user, case_id=case.pk, object_type="case", object_ids=[case.pk],
        client_address=client_address,
        details={k: (v.isoformat() if isinstance(v, dt.date) else v)
                 for k, v in ((name, getattr(case, name)) for name in sorted(changes))},
    )
    return case


@transaction.atomic
def case_set_status(*, case: Case, user: Any, status: Any, client_address: str = "") -> Case:
    if status not in Case.Status.values:
        raise DomainError(f"status: one of {', '.join(Case.Status.values)}")
    if case.status == status:
        raise DomainError(f"case {case.reference} is {status} already", status_code=409)
    case.status = status
    case.closed_at = timezone.now() if status == Case.Status.CLOSED else None
    case.save(update_fields=["status", "closed_at"])
    audit_record(
        action=Action.CASE_STATUS, user=user, case_id=case.pk, object_type="case", object_ids=[case.pk],
        client_address=client_address, details={"status": status},
    )
    return case


def _user(user_id: Any) -> Any:
    try:
        return get_user_model().objects.get(pk=int(user_id), is_active=True)
    except (TypeError, ValueError, get_user_model().DoesNotExist):
        raise DomainError(f"user: unknown id {user_id}") from None


def _role(role: Any) -> str:
    if role not in CaseRole.values:
        raise DomainError(f"role: one of {', '.join(CaseRole.values)}")
    return str(role)


@transaction.atomic
def case_member_add(*, case: Case, actor: Any, user_id: Any, role: Any, client_address: str = "") -> CaseMember:
    member_user = _user(user_id)
    role_name = _role(role)
    if CaseMember.objects.filter(case=case, user=member_user).exists():
        raise DomainError(f"{member_user.username} is a member of this case already", status_code=409)
    try:
        with transaction.atomic():
            member = CaseMember.objects.create(case=case, user=member_user, role=role_name, added_by=actor)
    except IntegrityError:
        raise DomainError(f"{member_user.username} is a member of this case already", status_code=409) from None
    audit_record(
        action=Action.MEMBER_ADD, user=actor, case_id=case.pk, object_type="user", object_ids=[member_user.pk],
        client_address=client_address,
        details={"username": member_user.username, "role": role_name, "self": member_user.pk == actor.pk},
    )
    return member


def _member(case: Case, user_id: Any) -> CaseMember:
    try:
        return CaseMember.objects.select_related("user").get(case=case, user_id=int(user_id))
    except (TypeError, ValueError, CaseMember.DoesNotExist):
        raise DomainError(f"user {user_id} is not a member of this case", status_code=404) from None


def _keep_a_lead(case: Case, leaving: CaseMember) -> None:
    if leaving.role == CaseRole.LEAD and not case.members.filter(role=CaseRole.LEAD).exclude(pk=leaving.pk).exists():
        raise DomainError("a case needs at least one lead: make someone else lead first", status_code=409)


@transaction.atomic
def case_member_set_role(*, case: Case, actor: Any, user_id: Any, role: Any, client_address: str = "") -> CaseMember:
    member = _member(case, user_id)
    role_name = _role(role)
    if member.role == role_name:
        raise DomainError(f"{member.user.username} is {role_name} already", status_code=409)
    if role_name != CaseRole.LEAD:
        _keep_a_lead(case, member)
    member.role = role_name
    member.save(update_fields=["role"])
    audit_record(
        action=Action.MEMBER_ROLE, user=actor, case_id=case.pk, object_type="user", object_ids=[member.user_id],
        client_address=client_address, details={"username": member.user.username, "role": role_name},
    )
    return member


@transaction.atomic
def case_member_remove(*, case: Case, actor: Any, user_id: Any, client_address: str = "") -> None:
    member = _member(case, user_id)
    _keep_a_lead(case, member)
    member.delete()
    audit_record(
        action=Action.MEMBER_REMOVE, user=actor, case_id=case.pk, object_type="user", object_ids=[member.user_id],
        client_address=client_address, details={"username": member.user.username},
    )


@transaction.atomic
def case_video_add(*, case: Case, video: Any, user: Any, action: Action = Action.VIDEO_LINK,
                   client_address: str = "") -> CaseVideo:
    """Put footage into a case: at upload, or linking a video of one case into another."""
    if CaseVideo.objects.filter(case=case, video=video).exists():
        raise DomainError(f"video {video.pk} is in this case already", status_code=409)
    link = CaseVideo.objects.create(case=case, video=video, linked_by=user)
    audit_record(
        action=action, user=user, case_id=case.pk, object_type="video", object_ids=[video.pk],
        client_address=client_address,
        details={"name": video.original_name, "camera": video.camera_id, "size_bytes": video.size_bytes},
    )
    return link


def live_cases() -> Any:
    """Cases whose retention has not run out."""
    return Case.objects.filter(retention_until__gte=timezone.localdate())


@dataclass
class DeletionReport:
    case_id: int
    reference: str
    videos_deleted: list[int] = field(default_factory=list)
    videos_kept: list[int] = field(default_factory=list)
    people_deleted: int = 0


def case_delete(*, case: Case, user: Any = None, reason: str = "deleted", client_address: str = "") -> DeletionReport:
    """Delete a case and all footage no other live case holds, with everything derived from it.

    The footage app deletes each such video through its own delete (file, review copy, thumbnails,
    people, index entries of both lanes); the ledger keeps the record of the deletion, with ids and
    counts and no biometric data.
    """
    report = DeletionReport(case_id=case.pk, reference=case.reference)
    case_deleting.send(sender=Case, case=case, report=report)
    with transaction.atomic():
        case_pk = case.pk
        case.delete()
        audit_record(
            action=Action.RETENTION_DELETE if reason == "retention" else Action.CASE_DELETE,
            user=user, case_id=case_pk, object_type="case", object_ids=[case_pk], client_address=client_address,
            details={"reference": report.reference, "videos_deleted": report.videos_deleted,
                     "videos_kept": report.videos_kept, "people_deleted": report.people_deleted},
        )
    logger.info("case %s (%s) %s: %d videos deleted, %d kept", case_pk, report.reference, reason,
                len(report.videos_deleted), len(report.videos_kept))
    return report


def videos_held_only_by(case: Case) -> tuple[list[int], list[int]]:
    """The case's videos that no other live case holds (to delete), and those another holds (to keep)."""
    video_ids = list(CaseVideo.objects.filter(case=case).values_list("video_id", flat=True))
    held_elsewhere = set(
        CaseVideo.objects.filter(video_id__in=video_ids)
        .filter(Q(case__in=live_cases()) & ~Q(case=case))
        .values_list("video_id", flat=True)
    )
    return sorted(set(video_ids) - held_elsewhere), sorted(held_elsewhere)


def cases_enforce_retention(*, today: dt.date | None = None) -> list[DeletionReport]:
    """Delete every case whose retention date has passed."""
    day = today or timezone.localdate()
    return [case_delete(case=case, reason="retention")
            for case in Case.objects.filter(retention_until__lt=day).order_by("pk")]
