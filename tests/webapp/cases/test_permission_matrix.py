"""The permission matrix: every route and websocket message, for every persona, on objects of their
own case and of a foreign one, against the declared table of what each may do.

The routes come from the URL configuration and the messages from the consumer's dispatch table: a
route or message without an entry in ``RULES`` / ``MESSAGES`` fails ``test_every_route_is_declared``.
Objects a persona may not reach answer 404, never 403, so their existence is not confirmed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.webapp.cases.matrix_world import (
    ADMIN_CAPS,
    ADMINS,
    FOREIGN,
    OWN,
    PERSONAS,
    build_world,
    member_can,
)
from tests.webapp.cases.permission_rules import LIST_SCOPED, MESSAGES, RULES, Kind, Rule, ws_message
from webapp.pages.consumers import EventsConsumer


def _routes(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            yield from _routes(p.url_patterns, prefix + str(p.pattern), ns)
            continue
        assert isinstance(p, URLPattern)
        if namespace == "admin":
            yield "admin:*", "get"
            continue
        callback = p.callback
        actions = getattr(callback, "actions", None)
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if actions:
            methods = sorted(m for m in actions if m != "head")
        elif cls is not None:
            methods = sorted(m for m in cls.http_method_names if hasattr(cls, m) and m not in ("options", "head"))
        else:
            methods = ["get"]
        for method in methods:
            yield p.name or prefix + str(p.pattern), method


def test_every_route_and_message_is_declared() -> None:
    routes = set(_routes(get_resolver().url_patterns))
    undeclared = sorted(routes - set(RULES))
    assert not undeclared, f"routes without an entry in the permission table: {undeclared}"
    stale = sorted(set(RULES) - routes)
    assert not stale, f"entries for routes that no longer exist: {stale}"
    assert set(EventsConsumer.MESSAGE_TYPES) == set(MESSAGES), "websocket messages without an entry"


def expected(rule: Rule, persona: str, case: str) -> int:
    signed_in = persona not in ("anonymous", "inactive")
    if rule.kind is Kind.PUBLIC:
        return rule.ok
    if rule.kind is Kind.ADMIN_PAGE:
        return 302 if not signed_in else rule.ok if persona in ADMINS else 403
    if rule.kind is Kind.ADMIN_SITE:
        return 200 if persona in ADMINS else 302
    if rule.kind in (Kind.PAGE, Kind.CASE_PAGE):
        if not signed_in:
            return 302
        if rule.kind is Kind.PAGE:
            return rule.ok
        return rule.ok if member_can(persona, case, "view") else 404
    if not signed_in:
        return 403
    if rule.kind is Kind.API_ROLE:
        return rule.ok
    if rule.kind is Kind.API_ADMIN:
        return rule.ok if persona in ADMINS else 403
    member = member_can(persona, case, rule.capability)
    if rule.kind is Kind.API_CASE_DETAIL:
        return rule.ok if member is not None or persona in ADMINS else 404
    if persona in ADMINS and rule.capability in ADMIN_CAPS and (rule.admin_without_membership or member is not None):
        return rule.ok
    if member is None:
        return 404
    return rule.ok if member else 403


def _send(client: Client, method: str, rule: Rule, path: str, data: Any, extra: dict[str, Any]) -> Any:
    call = getattr(client, method)
    if data is None:
        return call(path, **extra)
    if rule.fmt == "json":
        return call(path, data, content_type="application/json", **extra)
    if rule.fmt == "raw":
        return call(path, data, content_type="application/octet-stream", **extra)
    if rule.fmt == "multipart" or (rule.fmt == "form" and method == "post"):
        return call(path, data, **extra)
    return call(path, data, **extra)


class _Rollback(Exception):
    pass


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(RULES), ids=lambda k: f"{k[1].upper()} {k[0]}")
def test_route_answers_each_persona_as_declared(key: tuple[str, str], settings: Any) -> None:
    rule = RULES[key]
    world = build_world(settings)
    wrong: list[str] = []
    for persona in PERSONAS:
        for which in (OWN, FOREIGN):
            client = Client(REMOTE_ADDR="10.9.8.7")
            user = world.users[persona]
            if user is not None:
                client.force_login(user)
            path, data, extra = rule.request(world, which)
            want = expected(rule, persona, which)
            try:
                # Each request runs on the same world: whatever it changes is rolled back.
                with transaction.atomic():
                    response = _send(client, key[1], rule, path, data, extra)
                    got = response.status_code
                    if response.streaming:
                        body = b"".join(response.streaming_content)[:300]
                        # Not response.close(): that sends request_finished, which drops the
                        # connection of a test transaction on PostgreSQL.
                        stream = getattr(response, "file_to_stream", None)
                        if stream is not None:
                            stream.close()
                    else:
                        body = response.content[:300]
                    if key in LIST_SCOPED and got == 200:
                        visible = {row.get("id", row.get("tracklet")) for row in response.json()["results"]}
                        attr = getattr(world, LIST_SCOPED[key])
                        allowed = {attr[c].pk for c in (OWN, FOREIGN) if member_can(persona, c, "view")}
                        if visible != allowed:
                            wrong.append(f"{persona}: list shows {sorted(visible)}, expected {sorted(allowed)}")
                    raise _Rollback
            except _Rollback:
                pass
            if got != want:
                wrong.append(f"{persona} on {which} case: {key[1].upper()} {path} -> {got}, expected {want} ({body!r})")
            if want == 404 and got == 404 and key[0] not in ("case-videos",):
                # Not found must not say more than not found.
                assert b"forbidden" not in body.lower()
    assert not wrong, "\n".join(wrong)



@pytest.mark.django_db(transaction=True)
def test_websocket_messages_answer_each_persona_as_declared(settings: Any) -> None:
    from celery import current_app
    from channels.testing import WebsocketCommunicator

    world = build_world(settings)
    current_app.conf.task_always_eager = True
    wrong: list[str] = []

    async def talk(user: Any, message: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
        socket = WebsocketCommunicator(EventsConsumer.as_asgi(), "/ws/events/")
        socket.scope["user"] = user
        socket.scope["client"] = ("10.9.8.7", 5000)
        connected, _ = await socket.connect()
        if not connected:
            return False, None
        await socket.send_json_to(message)
        # Every message is answered: an acknowledgement, search.started, or an error.
        reply = await socket.receive_json_from(timeout=10)
        await socket.disconnect()
        return True, reply

    try:
        for kind, capability in MESSAGES.items():
            for persona in PERSONAS:
                for which in (OWN, FOREIGN):
                    user = world.users[persona]
                    connected, reply = async_to_sync(talk)(user if user is not None else _anon(),
                                                           ws_message(kind, world, which))
                    signed_in = persona not in ("anonymous", "inactive")
                    if not signed_in:
                        if connected:
                            wrong.append(f"{persona}: socket accepted")
                        continue
                    allowed = True if capability is None else bool(member_can(persona, which, capability))
                    refused = reply is not None and reply.get("type") == "error"
                    if allowed == refused:
                        wrong.append(f"{kind} by {persona} on {which} case: reply {reply}")
                    if refused and member_can(persona, which, "view") is None:
                        assert "no such" in reply["detail"], reply
    finally:
        current_app.conf.task_always_eager = False
    assert not wrong, "\n".join(wrong)


def _anon() -> Any:
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()
