"""Search API: one request runs a search to the end and returns the ranked list."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.accounts.permissions import IsInvestigator
from webapp.search import services
from webapp.search.serializers import (
    ErrorSerializer,
    SearchRequestSerializer,
    SearchResultSerializer,
    search_query_from,
)


class SearchView(APIView):
    """Look for one person across all footage, filtered by cameras, galleries and time."""

    # The same role the websocket search requires of its socket.
    permission_classes = [IsInvestigator]
    parser_classes = [JSONParser]

    @extend_schema(
        request=SearchRequestSerializer,
        responses={200: SearchResultSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        result = services.search_now(user=request.user, query=search_query_from(request.data))
        return Response(SearchResultSerializer(result).data)
