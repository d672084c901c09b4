"""Logins, logouts and failed logins go into the ledger."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from webapp.accounts.lockout import login_locked_out
from webapp.audit.ledger import audit_record, client_address_of
from webapp.audit.models import Action


@receiver(user_logged_in)
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action=Action.LOGIN, user=user, client_address=client_address_of(request))


@receiver(user_logged_out)
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action=Action.LOGOUT, user=user, client_address=client_address_of(request))


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # The password is never written; the name tried is, since that is what an attack shows.
    audit_record(
        action=Action.LOGIN_FAILED,
        client_address=client_address_of(request),
        details={"username": str(credentials.get("username", ""))[:150]},
    )


@receiver(login_locked_out)
def _locked_out(sender: Any, username: str, address: str, failures: int, **kwargs: Any) -> None:
    audit_record(
        action=Action.LOGIN_LOCKED, client_address=address,
        details={"username": str(username)[:150], "failures": int(failures)},
    )
