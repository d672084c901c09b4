"""Search API: a person or a description searched to the end in one request, a photo search
queued for a worker, and any of one's own searches read back."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.accounts.permissions import IsInvestigator
from webapp.audit.ledger import client_address_of
from webapp.core.exceptions import DomainError
from webapp.search import selectors, services
from webapp.search.serializers import (
    ErrorSerializer,
    PhotoSearchRequestSerializer,
    PhotoSearchStartedSerializer,
    SearchDetailSerializer,
    SearchRequestSerializer,
    SearchResultSerializer,
    photo_search_request_from,
    search_query_from,
)


class SearchView(APIView):
    """Look for one person, or for people fitting a description, across all footage, filtered by
    cameras, galleries, time and attributes."""

    # The same role the websocket search requires of its socket.
    permission_classes = [IsInvestigator]
    parser_classes = [JSONParser]

    @extend_schema(
        request=SearchRequestSerializer,
        responses={200: SearchResultSerializer, 400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
        examples=[
            OpenApiExample(
                "a person",
                value={"case": 1, "justification": "Witness statement 4: man seen at the gate", "tracklet": 12, "k": 20},
                request_only=True,
            ),
            OpenApiExample(
                "a description",
                value={
                    "case": 1,
                    "justification": "Witness statement 2",
                    "attributes": [
                        {"attribute": "upper_colour", "value": "red"},
                        {"attribute": "lower_colour", "value": "black"},
                    ],
                    "k": 20,
                    "filters": {"cameras": [1, 2]},
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        result = services.search_now(
            user=request.user, query=search_query_from(request.data), client_address=client_address_of(request)
        )
        return Response(SearchResultSerializer(result).data)


class PhotoSearchView(APIView):
    """Search by an uploaded photo of a person; the hits stream over the websocket."""

    permission_classes = [IsInvestigator]
    parser_classes = [MultiPartParser]

    @extend_schema(
        request={"multipart/form-data": PhotoSearchRequestSerializer},
        responses={202: PhotoSearchStartedSerializer, 400: ErrorSerializer, 403: ErrorSerializer},
    )
    def post(self, request: Request) -> Response:
        image, k, filters, refine, justification = photo_search_request_from(request.data)
        record = services.search_photo_start(
            user=request.user, image=image, k=k, filters=filters, refine=refine, justification=justification,
            client_address=client_address_of(request),
        )
        return Response({"search": record.pk}, status=status.HTTP_202_ACCEPTED)


class SearchDetailView(APIView):
    """A search of one of your cases: its status and, once done, its hits per lane."""

    permission_classes = [IsInvestigator]

    @extend_schema(responses={200: SearchDetailSerializer, 403: ErrorSerializer, 404: ErrorSerializer})
    def get(self, request: Request, pk: int) -> Response:
        detail = selectors.search_detail(search_id=pk, user=request.user)
        if detail is None:
            raise DomainError(f"there is no search {pk} in your cases", status_code=404)
        return Response(SearchDetailSerializer(detail).data)
