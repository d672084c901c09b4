"""Making subjects and deciding on their sightings. Every change goes through the case layer
(:mod:`webapp.cases.access`), is written to the audit ledger, and is pushed to the members of the
case who have the subject open."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from webapp.audit.ledger import audit_record
from webapp.audit.models import Action
from webapp.cases.access import Capability, case_for, scope_by_case
from webapp.core.events import SubjectChanged, push_to_group, subject_group
from webapp.core.exceptions import DomainError
from webapp.search.models import SearchRecord
from webapp.search.records import record_params
from webapp.search.selectors import searches_visible_to
from webapp.subjects.models import Sighting, Subject
from webapp.tracklets.models import Tracklet
from webapp.tracklets.selectors import tracklets_visible_to

MAX_LABEL = 120


def subjects_visible_to(user: Any) -> QuerySet[Subject]:
    """The subjects of the cases ``user`` is a member of."""
    return scope_by_case(user, Subject.objects.select_related("case", "created_by"))


def subject_for(user: Any, subject_id: Any, capability: Capability = Capability.VIEW) -> Subject:
    """The subject ``subject_id`` if ``user`` may exercise ``capability`` in its case.

    Raises:
        DomainError: 404 for no such subject in the user's cases; 403 or 409 as :func:`case_for`.
    """
    try:
        pk = int(subject_id)
    except (TypeError, ValueError):
        raise DomainError("no such subject", status_code=404) from None
    subject = subjects_visible_to(user).filter(pk=pk).first()
    if subject is None:
        raise DomainError("no such subject", status_code=404)
    case_for(user, subject.case_id, capability)
    return subject


def _label(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DomainError("label: give the subject a name or label")
    if len(value.strip()) > MAX_LABEL:
        raise DomainError(f"label: at most {MAX_LABEL} characters")
    return value.strip()


def _notes(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > 10_000:
        raise DomainError("notes: text of at most 10000 characters")
    return value


def case_tracklet(user: Any, case: Any, tracklet_id: Any) -> Tracklet:
    """A person of the case's footage.

    Raises:
        DomainError: 404 when the person is not in this case's footage (or not one ``user`` may see).
    """
    if not isinstance(tracklet_id, int) or isinstance(tracklet_id, bool):
        raise DomainError("tracklet: a person's id (an integer)")
    tracklet = tracklets_visible_to(user, case=case).filter(pk=tracklet_id).first()
    if tracklet is None:
        raise DomainError(f"there is no person {tracklet_id} in this case", status_code=404)
    return tracklet


def _case_search(user: Any, case: Any, search_id: Any) -> SearchRecord:
    if not isinstance(search_id, int) or isinstance(search_id, bool):
        raise DomainError("search: a search's id (an integer)")
    record = searches_visible_to(user).filter(pk=search_id, case=case).first()
    if record is None:
        raise DomainError(f"there is no search {search_id} in this case", status_code=404)
    return record


@transaction.atomic
def subject_create(
    *, user: Any, case_id: Any, label: Any, notes: Any = "", tracklet_id: Any = None, search_id: Any = None,
    client_address: str = "",
) -> Subject:
    """A new subject in a case, from a person (its first confirmed sighting) or from a photo or
    description search (whose hits the investigator then judges), or from neither.

    Raises:
        DomainError: 400 for a missing label or both a person and a search; 404 for a case, person or
            search not in the user's cases; 403 for a viewer; 409 for a closed case.
    """
    case = case_for(user, case_id, Capability.CONFIRM)
    label, notes = _label(label), _notes(notes)
    if tracklet_id is not None and search_id is not None:
        raise DomainError("make a subject from a person or from a search, not both")
    tracklet = None if tracklet_id is None else case_tracklet(user, case, tracklet_id)
    search = None if search_id is None else _case_search(user, case, search_id)
    origin = Subject.Origin.PERSON
    if search is not None:
        origin = Subject.Origin.PHOTO if record_params(search).kind == "photo" else Subject.Origin.DESCRIPTION
    subject = Subject.objects.create(
        case=case, label=label, notes=notes, origin=origin, origin_search=search, created_by=user
    )
    audit_record(
        action=Action.SUBJECT_CREATE, user=user, case_id=case.pk, object_type="subject", object_ids=[subject.pk],
        client_address=client_address,
        details={"label": label, "origin": origin, "tracklet": tracklet_id, "search": search_id},
    )
    if tracklet is not None:
        _decide(user=user, subject=subject, tracklet=tracklet, decision=Sighting.Decision.CONFIRMED, search=None,
                client_address=client_address)
    return subject


@transaction.atomic
def subject_update(*, user: Any, subject_id: Any, data: Any, client_address: str = "") -> Subject:
    """Change a subject's label and/or notes.

    Raises:
        DomainError: 400 for an unknown field or a bad value; 404/403/409 as :func:`subject_for`.
    """
    subject = subject_for(user, subject_id, Capability.CONFIRM)
    if not isinstance(data, dict):
        raise DomainError("send a JSON object with label and/or notes")
    unknown = sorted(set(data) - {"label", "notes"})
    if unknown:
        raise DomainError(f"{unknown[0]}: unknown field; expected label, notes")
    changed = {}
    if "label" in data:
        subject.label = changed["label"] = _label(data["label"])
    if "notes" in data:
        subject.notes = _notes(data["notes"])
        changed["notes"] = "changed"
    subject.save()
    audit_record(action=Action.SUBJECT_UPDATE, user=user, case_id=subject.case_id, object_type="subject",
                 object_ids=[subject.pk], client_address=client_address, details=changed)
    return subject


@transaction.atomic
def subject_delete(*, user: Any, subject_id: Any, client_address: str = "") -> None:
    """Delete a subject with its decisions and evidence packages (a case lead's call).

    Raises:
        DomainError: 404/403 as :func:`subject_for` (investigators may not delete).
    """
    subject = subject_for(user, subject_id, Capability.MANAGE)
    counts = {
        "confirmed": subject.sightings.filter(decision=Sighting.Decision.CONFIRMED).count(),
        "rejected": subject.sightings.filter(decision=Sighting.Decision.REJECTED).count(),
        "exports": subject.exports.count(),
    }
    audit_record(action=Action.SUBJECT_DELETE, user=user, case_id=subject.case_id, object_type="subject",
                 object_ids=[subject.pk], client_address=client_address, details={"label": subject.label, **counts})
    subject.delete()


def _decide(
    *, user: Any, subject: Subject, tracklet: Tracklet, decision: str, search: SearchRecord | None,
    client_address: str,
) -> Sighting:
    action = Action.SIGHTING_CONFIRM if decision == Sighting.Decision.CONFIRMED else Action.SIGHTING_REJECT
    entry = audit_record(
        action=action, user=user, case_id=subject.case_id, object_type="tracklet", object_ids=[tracklet.pk],
        client_address=client_address,
        details={"subject": subject.pk, "search": None if search is None else search.pk},
    )
    sighting, _ = Sighting.objects.update_or_create(
        subject=subject, tracklet=tracklet,
        defaults={"decision": decision, "decided_by": user, "decided_at": timezone.now(), "search": search,
                  "audit_entry": entry},
    )
    Subject.objects.filter(pk=subject.pk).update(updated_at=timezone.now())
    event = SubjectChanged(subject=subject.pk, tracklet=tracklet.pk, decision=decision, by=user.username)
    transaction.on_commit(lambda: push_to_group(subject_group(subject.pk), event))
    return sighting


@transaction.atomic
def sighting_decide(
    *, user: Any, subject_id: Any, tracklet_id: Any, decision: Any, search_id: Any = None, client_address: str = ""
) -> Sighting:
    """Confirm or reject one person of the case's footage as a sighting of the subject (a second
    decision on the same person replaces the first).

    Raises:
        DomainError: 400 for a bad decision; 404 for a subject, person or search not in this case;
            403 for a viewer; 409 for a closed case.
    """
    subject = subject_for(user, subject_id, Capability.CONFIRM)
    if decision not in Sighting.Decision.values:
        raise DomainError("decision: confirmed or rejected")
    tracklet = case_tracklet(user, subject.case, tracklet_id)
    search = None if search_id is None else _case_search(user, subject.case, search_id)
    return _decide(user=user, subject=subject, tracklet=tracklet, decision=decision, search=search,
                   client_address=client_address)


@transaction.atomic
def sighting_undo(*, user: Any, subject_id: Any, tracklet_id: Any, client_address: str = "") -> None:
    """Withdraw the decision on one person for the subject (it may be shown again).

    Raises:
        DomainError: 404 when the subject has no decision on that person; 403/409 as :func:`subject_for`.
    """
    subject = subject_for(user, subject_id, Capability.CONFIRM)
    sighting = Sighting.objects.filter(subject=subject, tracklet_id=tracklet_id).first()
    if sighting is None:
        raise DomainError(f"the subject has no decision on person {tracklet_id}", status_code=404)
    audit_record(
        action=Action.SIGHTING_UNDO, user=user, case_id=subject.case_id, object_type="tracklet",
        object_ids=[sighting.tracklet_id], client_address=client_address,
        details={"subject": subject.pk, "was": sighting.decision},
    )
    sighting.delete()
    event = SubjectChanged(subject=subject.pk, tracklet=int(tracklet_id), decision=None, by=user.username)
    transaction.on_commit(lambda: push_to_group(subject_group(subject.pk), event))
