"""The case switcher in every page's header: the user's open cases and the one they work in."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from webapp.cases.access import member_cases
from webapp.cases.models import Case

SESSION_KEY = "case"


def current_case(request: HttpRequest) -> Case | None:
    """The case the user last opened, if they are still a member of it."""
    pk = request.session.get(SESSION_KEY)
    if pk is None:
        return None
    return member_cases(request.user).filter(pk=pk).first()


def cases(request: HttpRequest) -> dict[str, Any]:
    if not request.user.is_authenticated:
        return {}
    mine = list(member_cases(request.user).filter(status=Case.Status.OPEN).order_by("reference"))
    return {"my_cases": mine, "current_case": current_case(request)}
