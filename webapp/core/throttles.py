"""Per-user rate limits on the expensive endpoints: searches, photo searches and new uploads.

The scope comes from the route's name, so views need no throttle attributes; the rates are
``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`` in the settings. Everything else is unthrottled.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

# (route name, method) -> scope
SCOPES = {
    ("search", "POST"): "search",
    ("search-image", "POST"): "photo_search",
    ("subject-search", "POST"): "search",
    ("video-list", "POST"): "upload",
}


class EndpointRateThrottle(SimpleRateThrottle):
    """A user's (or, signed out, an address's) requests per scope, as DRF's ``ScopedRateThrottle``."""

    def __init__(self) -> None:
        # The scope, and so the rate, is known only per request.
        pass

    def allow_request(self, request: Request, view: Any) -> bool:
        match = getattr(request, "resolver_match", None)
        self.scope = SCOPES.get((str(getattr(match, "url_name", "")), str(request.method)), "")
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str:
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
