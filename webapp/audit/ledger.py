"""Appending to the ledger, and checking it.

A record's hash covers every field a reader relies on, in one canonical JSON form (sorted keys, no
spaces, UTC timestamps with microseconds), chained to the previous record's hash. Editing a field,
deleting or re-ordering rows, or cutting the tail breaks the chain at the first affected record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from webapp.audit.models import Action, AuditEntry, LedgerHead

GENESIS = "0" * 64
_HEAD_PK = 1


def canonical_record(
    *,
    seq: int,
    at: datetime,
    user_id: int | None,
    username: str,
    case_id: int | None,
    action: str,
    object_type: str,
    object_ids: list[Any],
    justification: str,
    client_address: str,
    details: dict[str, Any],
) -> str:
    """The exact text the hash is taken over."""
    record = {
        "seq": seq,
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "user_id": user_id,
        "username": username,
        "case_id": case_id,
        "action": action,
        "object_type": object_type,
        "object_ids": object_ids,
        "justification": justification,
        "client_address": client_address,
        "details": details,
    }
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def _entry_canonical(entry: AuditEntry) -> str:
    return canonical_record(
        seq=entry.seq,
        at=entry.at,
        user_id=entry.user_id,
        username=entry.username,
        case_id=entry.case_id,
        action=entry.action,
        object_type=entry.object_type,
        object_ids=list(entry.object_ids),
        justification=entry.justification,
        client_address=entry.client_address,
        details=dict(entry.details),
    )


def client_address_of(request: Any) -> str:
    """The peer address of an HTTP request or a websocket scope (proxies are not trusted here)."""
    if request is None:
        return ""
    if isinstance(request, dict):  # an ASGI scope
        client = request.get("client") or ("",)
        return str(client[0] or "")
    return str(getattr(request, "META", {}).get("REMOTE_ADDR", "") or "")


def audit_record(
    *,
    action: Action | str,
    user: Any = None,
    case_id: int | None = None,
    object_type: str = "",
    object_ids: Iterable[int | str] = (),
    justification: str = "",
    client_address: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one record to the chain and return it.

    Runs in its own transaction (nested into the caller's when there is one, so a refused change
    leaves no record of having happened). Concurrent appends queue on the head row's lock.
    """
    action = Action(action)
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    username = str(getattr(user, "username", "") or "") if user_id is not None else ""
    ids = [i if isinstance(i, int) else str(i) for i in object_ids]
    payload = json.loads(json.dumps(details or {}, default=str))
    with transaction.atomic():
        LedgerHead.objects.get_or_create(pk=_HEAD_PK)
        # The UPDATE comes first: it takes the write lock (the row lock on PostgreSQL, the database
        # lock on SQLite), so the head read below is the newest and no two records share a parent.
        LedgerHead.objects.filter(pk=_HEAD_PK).update(seq=F("seq") + 1)
        head = LedgerHead.objects.select_for_update().get(pk=_HEAD_PK)
        prev = head.hash or GENESIS
        at = timezone.now()
        canonical = canonical_record(
            seq=head.seq, at=at, user_id=user_id, username=username, case_id=case_id, action=action.value,
            object_type=object_type, object_ids=ids, justification=justification,
            client_address=client_address[:64], details=payload,
        )
        digest = chain_hash(prev, canonical)
        entry = AuditEntry(
            seq=head.seq, at=at, user_id=user_id, username=username, case_id=case_id, action=action.value,
            object_type=object_type, object_ids=ids, justification=justification,
            client_address=client_address[:64], details=payload, prev_hash=prev, hash=digest,
        )
        entry.save()
        LedgerHead.objects.filter(pk=_HEAD_PK).update(hash=digest)
    return entry


@dataclass(frozen=True, kw_only=True)
class VerifyResult:
    """``ok`` with the number of records checked, or the first record where the chain breaks."""

    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""


def _walk(entries: Iterator[AuditEntry], head: LedgerHead | None) -> VerifyResult:
    prev = GENESIS
    expected_seq = 1
    checked = 0
    head_seq = head.seq if head else 0
    head_hash = head.hash if head else ""

    def broken(seq: int, reason: str) -> VerifyResult:
        return VerifyResult(ok=False, checked=checked, head_seq=head_seq, head_hash=head_hash,
                            broken_seq=seq, reason=reason)

    for entry in entries:
        if entry.seq != expected_seq:
            return broken(expected_seq, f"record {expected_seq} is missing (next is {entry.seq})")
        if entry.prev_hash != prev:
            return broken(entry.seq, "its previous-hash does not match the record before it")
        if chain_hash(prev, _entry_canonical(entry)) != entry.hash:
            return broken(entry.seq, "its content does not match its hash (edited)")
        prev = entry.hash
        expected_seq += 1
        checked += 1
    if checked != head_seq or (head_seq and prev != head_hash):
        return broken(checked + 1, f"the chain ends at record {checked} but its head says {head_seq}")
    return VerifyResult(ok=True, checked=checked, head_seq=head_seq, head_hash=head_hash)


def audit_verify() -> VerifyResult:
    """Walk the whole chain from the first record; name the first broken one."""
    head = LedgerHead.objects.filter(pk=_HEAD_PK).first()
    return _walk(AuditEntry.objects.order_by("seq", "pk").iterator(chunk_size=2000), head)


def audit_entries_for_case(case_id: int) -> Any:
    return AuditEntry.objects.filter(case_id=case_id).order_by("seq")


EXPORT_FIELDS = (
    "seq", "at", "username", "case_id", "action", "object_type", "object_ids", "justification",
    "client_address", "details", "prev_hash", "hash",
)


def entry_as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at.astimezone(UTC).isoformat(),
        "user_id": entry.user_id,
        "username": entry.username,
        "case_id": entry.case_id,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_ids": entry.object_ids,
        "justification": entry.justification,
        "client_address": entry.client_address,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }
