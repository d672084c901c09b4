"""Cases over the API: opening one, its members and roles, status, and every refusal with a detail."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from webapp.accounts.services import user_create_with_role
from webapp.audit.ledger import audit_verify
from webapp.audit.models import AuditEntry
from webapp.cases.models import Case, CaseMember
from webapp.videos.models import Video

pytestmark = pytest.mark.django_db

FUTURE = (timezone.localdate() + dt.timedelta(days=90)).isoformat()


def _open(client: Any, reference: str = "OP-1", **extra: Any) -> Any:
    body = {"title": "Bag snatch at the square", "reference": reference, "purpose": "Theft report 2026/118",
            "retention_until": FUTURE, **extra}
    return client.post("/api/cases/", body, format="json")


@pytest.fixture
def bob(db: None) -> User:
    return user_create_with_role(username="bob", password="pw-bob-123", role="investigator")


def test_the_creator_leads_the_new_case_and_the_ledger_says_so(investigator: User, client_for: Any) -> None:
    response = _open(client_for(investigator))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["my_role"] == "lead"
    assert body["members"] == [{"user": investigator.pk, "username": "ivy", "role": "lead",
                                "added_at": body["members"][0]["added_at"]}]
    entry = AuditEntry.objects.get(action="case.create")
    assert (entry.case_id, entry.username, entry.justification) == (body["id"], "ivy", "Theft report 2026/118")


@pytest.mark.parametrize(
    ("change", "field"),
    [({"purpose": ""}, "purpose"), ({"title": "  "}, "title"), ({"retention_until": "2001-01-01"}, "retention_until"),
     ({"retention_until": "next week"}, "retention_until")],
)
def test_a_case_needs_a_title_a_purpose_and_a_future_retention_date(
    investigator: User, client_for: Any, change: dict[str, Any], field: str
) -> None:
    response = _open(client_for(investigator), **change)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(field)
    assert not Case.objects.filter(reference="OP-1").exists()
    assert not AuditEntry.objects.filter(action="case.create").exists()


def test_a_reference_is_used_once(investigator: User, client_for: Any) -> None:
    client = client_for(investigator)
    assert _open(client).status_code == 201
    again = _open(client)
    assert again.status_code == 409
    assert "exists already" in again.json()["detail"]
    assert Case.objects.filter(reference="OP-1").count() == 1


def test_members_are_added_once_changed_and_removed_by_the_lead(
    investigator: User, bob: User, client_for: Any
) -> None:
    lead = client_for(investigator)
    case = _open(lead).json()["id"]
    added = lead.post(f"/api/cases/{case}/members/", {"user": bob.pk, "role": "viewer"}, format="json")
    assert added.status_code == 201
    twice = lead.post(f"/api/cases/{case}/members/", {"user": bob.pk, "role": "investigator"}, format="json")
    assert twice.status_code == 409
    assert "already" in twice.json()["detail"]
    unknown = lead.post(f"/api/cases/{case}/members/", {"user": 9999, "role": "viewer"}, format="json")
    assert (unknown.status_code, unknown.json()["detail"]) == (400, "user: unknown id 9999")
    bad_role = lead.post(f"/api/cases/{case}/members/", {"user": bob.pk, "role": "boss"}, format="json")
    assert bad_role.status_code == 400
    # A viewer reads but may not manage.
    viewer = client_for(bob)
    assert viewer.get(f"/api/cases/{case}/").json()["my_role"] == "viewer"
    refused = viewer.post(f"/api/cases/{case}/members/", {"user": bob.pk, "role": "lead"}, format="json")
    assert refused.status_code == 403
    assert lead.patch(f"/api/cases/{case}/members/{bob.pk}/", {"role": "investigator"}, format="json").status_code == 200
    assert CaseMember.objects.get(user=bob).role == "investigator"
    # The last lead cannot leave or step down.
    last = lead.delete(f"/api/cases/{case}/members/{investigator.pk}/")
    assert last.status_code == 409
    assert lead.delete(f"/api/cases/{case}/members/{bob.pk}/").status_code == 204
    assert client_for(bob).get(f"/api/cases/{case}/").status_code == 404
    actions = list(AuditEntry.objects.filter(case_id=case).values_list("action", flat=True))
    assert actions == ["case.create", "member.add", "member.role", "member.remove"]
    assert audit_verify().ok


def test_a_case_not_yours_is_not_found_and_admins_see_details_not_content(
    investigator: User, bob: User, admin_user: User, client_for: Any
) -> None:
    case = _open(client_for(investigator)).json()["id"]
    assert client_for(bob).get(f"/api/cases/{case}/").status_code == 404
    assert client_for(bob).get("/api/cases/").json() == []
    assert client_for(bob).post(f"/api/cases/{case}/status/", {"status": "closed"}, format="json").status_code == 404
    admin = client_for(admin_user)
    seen = admin.get(f"/api/cases/{case}/").json()
    assert seen["my_role"] is None
    assert seen["videos"] is None
    # An admin may add themselves, which the ledger records as such.
    assert admin.post(f"/api/cases/{case}/members/", {"user": admin_user.pk, "role": "viewer"},
                      format="json").status_code == 201
    entry = AuditEntry.objects.get(action="member.add")
    assert entry.details["self"] is True
    assert admin.get(f"/api/cases/{case}/").json()["videos"] == []


def test_closing_and_reopening_is_for_the_lead_and_is_recorded(
    investigator: User, bob: User, client_for: Any
) -> None:
    lead = client_for(investigator)
    case = _open(lead).json()["id"]
    lead.post(f"/api/cases/{case}/members/", {"user": bob.pk, "role": "investigator"}, format="json")
    assert client_for(bob).post(f"/api/cases/{case}/status/", {"status": "closed"}, format="json").status_code == 403
    assert lead.post(f"/api/cases/{case}/status/", {"status": "closed"}, format="json").json()["status"] == "closed"
    assert lead.post(f"/api/cases/{case}/status/", {"status": "closed"}, format="json").status_code == 409
    assert lead.post(f"/api/cases/{case}/status/", {"status": "open"}, format="json").json()["status"] == "open"
    assert list(AuditEntry.objects.filter(action="case.status").values_list("details", flat=True)) == [
        {"status": "closed"}, {"status": "open"}]


def test_the_case_ledger_exports_as_json_and_csv_for_the_lead(
    investigator: User, bob: User, client_for: Any
) -> None:
    lead = client_for(investigator)
    case = _open(lead).json()["id"]
    lead.post(f"/api/cases/{case}/members/", {"user": bob.pk, "role": "investigator"}, format="json")
    as_json = lead.get(f"/api/cases/{case}/audit/")
    assert as_json.status_code == 200
    records = json.loads(as_json.content)["records"]
    assert [r["action"] for r in records] == ["case.create", "member.add"]
    as_csv = lead.get(f"/api/cases/{case}/audit/?export=csv")
    assert as_csv["Content-Type"] == "text/csv"
    lines = as_csv.content.decode().strip().splitlines()
    assert lines[0].startswith("seq,at,username")
    assert len(lines) == 1 + 3  # the JSON export itself was recorded before this one
    assert client_for(bob).get(f"/api/cases/{case}/audit/").status_code == 403
    assert lead.get(f"/api/cases/{case}/audit/?export=xml").status_code == 400


def test_a_closed_case_takes_no_uploads_or_searches_but_can_be_read(
    investigator: User, client_for: Any, camera: Any
) -> None:
    lead = client_for(investigator)
    case = _open(lead, reference="CL-1").json()["id"]
    assert lead.post(f"/api/cases/{case}/status/", {"status": "closed"}, format="json").status_code == 200
    upload = lead.post("/api/videos/", {"case": case, "camera": camera.pk, "recorded_at": "2026-11-02T09:00:00Z",
                                        "filename": "late.mp4", "size": 100}, format="json")
    assert upload.status_code == 409
    assert "closed" in upload.json()["detail"]
    search = lead.post("/api/search/", {"case": case, "justification": "one more look",
                                        "attributes": [{"attribute": "upper_colour", "value": "red"}]}, format="json")
    assert search.status_code == 409
    assert lead.get(f"/api/cases/{case}/").status_code == 200
    assert not Video.objects.filter(original_name="late.mp4").exists()


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [({"justification": ""}, 400, "justification"), ({"justification": "   "}, 400, "justification"),
     ({"case": 99999}, 404, "no such case"), ({"case": "x"}, 400, "case")],
)
def test_a_search_without_a_reason_or_in_an_unknown_case_is_refused_and_not_recorded(
    investigator: User, client_for: Any, body: dict[str, Any], status: int, detail: str
) -> None:
    lead = client_for(investigator)
    case = _open(lead, reference="S-1").json()["id"]
    request = {"case": case, "justification": "why", "attributes": [{"attribute": "upper_colour", "value": "red"}],
               **body}
    response = lead.post("/api/search/", request, format="json")
    assert response.status_code == status
    assert detail in response.json()["detail"]
    assert not AuditEntry.objects.filter(action="search").exists()
