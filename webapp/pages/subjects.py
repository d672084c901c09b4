"""The subject page: its outfits, sightings, timeline and map, a search with everything confirmed,
and its evidence exports; the script fills it from the subjects API and keeps it live."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from webapp.audit.ledger import audit_record, client_address_of
from webapp.audit.models import Action
from webapp.cases.access import Capability, capabilities
from webapp.core.exceptions import DomainError
from webapp.pages.context import SESSION_KEY
from webapp.pages.views import require_role, search_settings
from webapp.subjects.services import subject_for


def subject_page(request: HttpRequest, pk: int) -> HttpResponse:
    require_role(request)
    try:
        subject = subject_for(request.user, pk)
    except DomainError:
        raise Http404("no such subject") from None
    request.session[SESSION_KEY] = subject.case_id
    caps = capabilities(request.user, subject.case)
    audit_record(action=Action.PERSON_VIEW, user=request.user, case_id=subject.case_id, object_type="subject",
                 object_ids=[subject.pk], client_address=client_address_of(request))
    page = {
        "subject": subject.pk,
        "case": subject.case_id,
        "can_confirm": Capability.CONFIRM in caps,
        "can_search": Capability.SEARCH in caps,
        "can_export": Capability.EXPORT in caps,
        "can_delete": Capability.MANAGE in caps,
        **search_settings(),
    }
    return render(request, "longview/subject.html", {"subject": subject, "case": subject.case, "page": page})
