"""The one permission layer for case data: every view, consumer, task and export asks here.

A user reaches a video, a person, a thumbnail, a review clip, a search or an export only through a
case they are a member of. Anything else is "not found" — never "forbidden", which would confirm
that it exists. Admins manage users, cameras, galleries and case membership; they see case content
only as members.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.db.models import QuerySet

from webapp.accounts.roles import is_admin
from webapp.cases.models import Case, CaseMember, CaseRole
from webapp.core.exceptions import DomainError


class Capability(StrEnum):
    VIEW = "view"  # see the case's footage, people and searches
    UPLOAD = "upload"  # add footage
    SEARCH = "search"  # run searches
    CONFIRM = "confirm"  # confirm or reject sightings
    MANAGE = "manage"  # add and remove members, change the case's details
    CLOSE = "close"  # close or reopen
    EXPORT = "export"  # export evidence and the case's ledger
    DELETE = "delete"  # delete the case and its footage


ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    CaseRole.LEAD: frozenset(Capability),
    CaseRole.INVESTIGATOR: frozenset({Capability.VIEW, Capability.UPLOAD, Capability.SEARCH, Capability.CONFIRM}),
    CaseRole.VIEWER: frozenset({Capability.VIEW}),
}
# What an admin may do to a case they are not a member of: its administration, never its content.
ADMIN_CAPABILITIES = frozenset({Capability.MANAGE, Capability.CLOSE, Capability.DELETE, Capability.EXPORT})
# What a closed case still allows: reading, and its administration.
CLOSED_CASE_ALLOWS = frozenset({Capability.VIEW, Capability.MANAGE, Capability.CLOSE, Capability.EXPORT,
                                Capability.DELETE})


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def member_cases(user: Any) -> QuerySet[Case]:
    """The cases whose content ``user`` may see."""
    if not _active(user):
        return Case.objects.none()
    return Case.objects.filter(members__user=user)


def listed_cases(user: Any) -> QuerySet[Case]:
    """The cases ``user`` sees in lists: their own; every case for an admin (details only)."""
    if not _active(user):
        return Case.objects.none()
    if is_admin(user):
        return Case.objects.all()
    return member_cases(user)


def role_in(user: Any, case: Case) -> str | None:
    if not _active(user):
        return None
    return CaseMember.objects.filter(case=case, user=user).values_list("role", flat=True).first()


def _granted(user: Any, role: str | None) -> frozenset[Capability]:
    """What ``role`` (``None``: no membership) gives ``user``, before the case's state limits it."""
    caps = ROLE_CAPABILITIES.get(role, frozenset()) if role else frozenset()
    if _active(user) and is_admin(user):
        caps = caps | ADMIN_CAPABILITIES
    return caps


def _in_state(case: Case, caps: frozenset[Capability]) -> frozenset[Capability]:
    """``caps`` as far as the case's state allows them: a closed case keeps only reading and administration."""
    return caps if case.is_open else caps & CLOSED_CASE_ALLOWS


def capabilities(user: Any, case: Case) -> frozenset[Capability]:
    """What ``user`` may do to ``case`` now: their role's rights, an admin's, as the case's state allows."""
    return _in_state(case, _granted(user, role_in(user, case)))


def case_for(user: Any, case_id: Any, capability: Capability = Capability.VIEW) -> Case:
    """The case ``case_id`` if ``user`` may exercise ``capability`` on it.

    Raises:
        DomainError: 404 when the case does not exist or ``user`` may not see it; 403 when a
            member's role does not allow it; 409 when the case is closed.
    """
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        raise DomainError("no such case", status_code=404) from None
    case = listed_cases(user).filter(pk=pk).first()
    if case is None:
        raise DomainError("no such case", status_code=404)
    if capability in capabilities(user, case):
        return case
    role = role_in(user, case)
    if capability not in _granted(user, role):
        # Not a member (and not an admin exercising an admin capability): the case does not exist.
        if role is None:
            raise DomainError("no such case", status_code=404)
        raise DomainError(f"your role in this case ({role}) does not allow {capability.value}", status_code=403)
    raise DomainError(f"case {case.reference} is closed", status_code=409)


def scope_videos(user: Any, queryset: QuerySet[Any], *, case: Case | None = None) -> QuerySet[Any]:
    """Videos of ``queryset`` linked into one of the user's cases (or into ``case``)."""
    cases = member_cases(user) if case is None else member_cases(user).filter(pk=case.pk)
    return queryset.filter(case_links__case__in=cases).distinct()


def scope_tracklets(user: Any, queryset: QuerySet[Any], *, case: Case | None = None) -> QuerySet[Any]:
    """People of ``queryset`` seen in footage of the user's cases (or of ``case``)."""
    cases = member_cases(user) if case is None else member_cases(user).filter(pk=case.pk)
    return queryset.filter(video__case_links__case__in=cases).distinct()


def scope_by_case(user: Any, queryset: QuerySet[Any], *, field: str = "case") -> QuerySet[Any]:
    """Rows that name their case in ``field`` (searches, subjects, exports), for the user's cases."""
    return queryset.filter(**{f"{field}__in": member_cases(user)})


def cases_holding_video(user: Any, video_id: int) -> QuerySet[Case]:
    return member_cases(user).filter(video_links__video_id=video_id)


def case_of_video(user: Any, video_id: int, preferred: Any = None) -> Case:
    """The case through which ``user`` reaches the video: ``preferred`` if it holds it, else the newest."""
    cases = cases_holding_video(user, video_id)
    if preferred is not None:
        try:
            chosen = cases.filter(pk=int(preferred)).first()
        except (TypeError, ValueError):
            chosen = None
        if chosen is not None:
            return chosen
    case = cases.order_by("-created_at").first()
    if case is None:
        raise DomainError("no such video", status_code=404)
    return case
