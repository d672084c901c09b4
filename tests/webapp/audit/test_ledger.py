"""The ledger's hash chain: appends link up, and edits, deletions and re-orderings made behind the
ORM's back are each caught at the first record they touch."""

from __future__ import annotations

import itertools
import json
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from webapp.audit.ledger import GENESIS, audit_record, audit_verify, chain_hash
from webapp.audit.models import Action, AuditEntry, LedgerHead


@pytest.fixture
def chain(investigator: User) -> list[AuditEntry]:
    return [
        audit_record(action=Action.SEARCH, user=investigator, case_id=7, object_type="tracklet", object_ids=[i],
                     justification=f"looking for the suspect {i}", client_address="10.0.0.5", details={"k": i})
        for i in range(1, 6)
    ]


def test_records_chain_each_hash_to_the_one_before(chain: list[AuditEntry]) -> None:
    assert [e.seq for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(chain):
        assert after.prev_hash == before.hash
    assert len({e.hash for e in chain}) == 5
    head = LedgerHead.objects.get()
    assert (head.seq, head.hash) == (5, chain[-1].hash)
    result = audit_verify()
    assert result.ok
    assert result.checked == 5


def test_the_orm_refuses_to_change_or_delete_a_record(chain: list[AuditEntry]) -> None:
    entry = AuditEntry.objects.get(seq=2)
    entry.justification = "nothing to see"
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(ValueError, match="append-only"):
        entry.delete()
    assert audit_verify().ok


@pytest.mark.parametrize(
    ("field", "value"),
    [("justification", "routine check"), ("username", "someone-else"), ("client_address", "192.168.1.1"),
     ("object_ids", [99]), ("case_id", 8), ("details", {"k": 100}), ("action", "login")],
)
def test_an_edited_field_breaks_the_chain_at_that_record(chain: list[AuditEntry], field: str, value: Any) -> None:
    AuditEntry.objects.filter(seq=3).update(**{field: value})
    result = audit_verify()
    assert not result.ok
    assert result.broken_seq == 3
    assert "edited" in result.reason


def test_an_edit_that_also_rewrites_its_own_hash_breaks_the_next_link(chain: list[AuditEntry]) -> None:
    # A careful forger recomputes the edited record's hash; the next record still names the old one.
    row = AuditEntry.objects.get(seq=3)
    AuditEntry.objects.filter(seq=3).update(justification="routine check")
    row.refresh_from_db()
    from webapp.audit.ledger import _entry_canonical

    AuditEntry.objects.filter(seq=3).update(hash=chain_hash(row.prev_hash, _entry_canonical(row)))
    result = audit_verify()
    assert (result.ok, result.broken_seq) == (False, 4)


def test_a_deleted_record_is_named_missing(chain: list[AuditEntry]) -> None:
    AuditEntry.objects.filter(seq=2).delete()
    result = audit_verify()
    assert (result.ok, result.broken_seq) == (False, 2)
    assert "missing" in result.reason


def test_a_deleted_tail_is_caught_by_the_head(chain: list[AuditEntry]) -> None:
    AuditEntry.objects.filter(seq__gte=4).delete()
    result = audit_verify()
    assert (result.ok, result.broken_seq) == (False, 4)


def test_reordered_records_break_the_chain(chain: list[AuditEntry]) -> None:
    # Swap the positions of records 2 and 4 (via a free number, since seq is unique).
    AuditEntry.objects.filter(seq=2).update(seq=1000)
    AuditEntry.objects.filter(seq=4).update(seq=2)
    AuditEntry.objects.filter(seq=1000).update(seq=4)
    result = audit_verify()
    assert (result.ok, result.broken_seq) == (False, 2)


def test_verify_audit_command_reports_intact_and_broken(chain: list[AuditEntry]) -> None:
    out = StringIO()
    call_command("verify_audit", "--json", stdout=out)
    assert json.loads(out.getvalue())["ok"] is True
    AuditEntry.objects.filter(seq=5).update(details={"k": -1})
    with pytest.raises(CommandError, match="broken at record 5"):
        call_command("verify_audit", stdout=StringIO())


def test_logins_logouts_and_failed_logins_are_recorded(investigator: User) -> None:
    client = Client(REMOTE_ADDR="10.1.2.3")
    assert client.post("/accounts/login/", {"username": "ivy", "password": "wrong"}).status_code == 200
    assert client.post("/accounts/login/", {"username": "ivy", "password": "pw-ivy-123"}).status_code == 302
    assert client.post("/accounts/logout/").status_code == 302
    actions = list(AuditEntry.objects.values_list("action", "username", "client_address"))
    assert actions == [("login.failed", "", "10.1.2.3"), ("login", "ivy", "10.1.2.3"), ("logout", "ivy", "10.1.2.3")]
    failed = AuditEntry.objects.get(action="login.failed")
    assert failed.details == {"username": "ivy"}
    assert "wrong" not in json.dumps(failed.details)
    assert audit_verify().ok
