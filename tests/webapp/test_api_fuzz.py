"""Schema-driven fuzzing of the REST API: schemathesis generates requests for every operation in
``/api/schema/`` and sends them, signed in as an investigator, to the real Django application
(in-process over WSGI). No request may cause a server error, and every answer must match the schema.

The budget is small for the suite (``LONGVIEW_FUZZ_EXAMPLES``, default 5 per operation); raise it
for a longer run.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from webapp.cameras.models import Camera

EXAMPLES = int(os.environ.get("LONGVIEW_FUZZ_EXAMPLES", "5"))
APP = WSGIHandler()


def _operations(user: Any) -> list[Any]:
    client = Client()
    client.force_login(user)
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = schemathesis.openapi.from_dict(json.loads(response.content))
    return [result.ok() for result in schema.get_all_operations()]


# A real WSGI handler ends each request by closing stale connections, as a server would; inside a
# test transaction that drops PostgreSQL's connection, so this test commits for real.
@pytest.mark.django_db(transaction=True)
def test_api_never_answers_with_a_server_error_and_matches_its_schema(investigator: Any, camera: Camera) -> None:
    auth = {"Authorization": "Basic " + base64.b64encode(b"ivy:pw-ivy-123").decode()}
    operations = _operations(investigator)
    assert len(operations) >= 10
    failures: list[str] = []
    calls = 0

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
        def fuzz(case: Any) -> None:
            nonlocal calls
            calls += 1
            response = case.call(app=APP, headers=auth)
            try:
                case.validate_response(
                    response, checks=[not_a_server_error, response_schema_conformance, content_type_conformance]
                )
            except Exception as exc:  # collected, so one run reports every operation that fails
                found = getattr(exc, "exceptions", [exc])
                names = ", ".join(sorted({type(e).__name__ for e in found}))
                failures.append(f"{case.operation.label} -> {response.status_code} {case.formatted_path}: {names}")
                raise

        try:
            fuzz()
        except Exception:  # recorded in ``failures`` above, asserted below
            if not failures or not failures[-1].startswith(operation.label):
                raise
    assert calls >= len(operations)
    assert failures == []


@pytest.mark.django_db
def test_an_unmatched_api_path_answers_json_with_a_detail(investigator: Any) -> None:
    # Found by the fuzzer: /api/search/-1/ matched no route and got Django's HTML 404 page.
    client = Client()
    client.force_login(investigator)
    response = client.get("/api/search/-1/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert "text/html" in client.get("/no-such-page/").headers["Content-Type"]
