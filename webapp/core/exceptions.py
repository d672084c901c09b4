"""One place that turns domain errors into HTTP 4xx responses with a ``detail`` field."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from reid_engine.errors import ReidEngineError

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A request the domain refuses; ``status_code`` says which 4xx."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, detail: str, *, status_code: int | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        if status_code is not None:
            self.status_code = status_code


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response({"detail": exc.detail, **exc.extra}, status=exc.status_code)
    if isinstance(exc, ReidEngineError):
        return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, ValidationError):
        return Response({"detail": "; ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "detail" not in response.data:
        # Serializer errors come as {field: [messages]}: keep them, and add one readable line.
        first_field, messages = next(iter(response.data.items()), ("request", ["invalid"]))
        message = messages[0] if isinstance(messages, list) and messages else messages
        response.data = {"detail": f"{first_field}: {message}", "errors": response.data}
    elif response is not None and isinstance(response.data, list):
        response.data = {"detail": "; ".join(str(m) for m in response.data)}
    if response is None and isinstance(exc, Http404 | PermissionDenied):
        return None
    return response
