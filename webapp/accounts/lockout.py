"""Failed-login throttling: after ``LOGIN_FAILURE_LIMIT`` failures for one username from one address
within ``LOGIN_LOCKOUT_SECONDS``, that pair cannot log in (form or HTTP Basic) until the window ends.

A lock-out sends :data:`login_locked_out` once, with ``username`` and ``address``; the audit trail
connects to it. Counters live in Django's cache (a shared cache, such as Redis, when several web
processes serve one site).
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import Signal, receiver
from django.http import HttpRequest

login_locked_out = Signal()
"""Sent when a username/address pair is locked out: ``username``, ``address``, ``failures``."""


def _limit() -> int:
    return int(getattr(settings, "LOGIN_FAILURE_LIMIT", 5))


def _window() -> int:
    return int(getattr(settings, "LOGIN_LOCKOUT_SECONDS", 900))


def _address(request: HttpRequest | None) -> str:
    # REMOTE_ADDR only: a client can write X-Forwarded-For itself. Behind a proxy, the proxy sets it.
    return (request.META.get("REMOTE_ADDR") if request is not None else None) or "unknown"


def _key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username.lower()}\0{address}".encode()).hexdigest()[:32]
    return f"login-failures:{digest}"


def login_is_locked(*, username: str, address: str) -> bool:
    """Whether ``username`` is locked out from ``address`` now."""
    return int(cache.get(_key(username, address), 0)) >= _limit()


def login_failure_record(*, username: str, address: str) -> int:
    """Count one failed login; returns the failures in the current window."""
    key = _key(username, address)
    if cache.add(key, 1, _window()):
        failures = 1
    else:
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, _window())
            failures = 1
    if failures == _limit():
        login_locked_out.send(sender=login_failure_record, username=username, address=address, failures=failures)
    return failures


class LockoutModelBackend(ModelBackend):
    """Django's model backend, refusing a locked-out username/address pair before checking the password."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None,
                     password: str | None = None, **kwargs: Any) -> Any:
        if username is not None and login_is_locked(username=username, address=_address(request)):
            # PermissionDenied stops Django trying other backends; it still sends user_login_failed.
            raise PermissionDenied("too many failed logins; try again later")
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any) -> None:
    username = credentials.get("username")
    if username:
        login_failure_record(username=str(username), address=_address(request))


@receiver(user_logged_in)
def _on_logged_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    cache.delete(_key(user.get_username(), _address(request)))
