"""Subjects API: make a subject in a case, confirm or reject its sightings, search with it.

Everything goes through :mod:`webapp.subjects.services` and so through the case layer: a subject of
a case one is not a member of is 404.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from webapp.audit.ledger import client_address_of
from webapp.cases.access import case_for
from webapp.core.exceptions import DomainError
from webapp.search.serializers import ErrorSerializer, SearchLanesSerializer, SubjectSearchRequestSerializer
from webapp.subjects import searches, services
from webapp.subjects.selectors import subject_detail, subject_summary

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}


class SubjectCreateSerializer(serializers.Serializer):
    case = serializers.IntegerField(help_text="the case the subject belongs to")
    label = serializers.CharField(max_length=services.MAX_LABEL, help_text="a name or label")  # type: ignore[assignment]
    notes = serializers.CharField(required=False, allow_blank=True, help_text="free text")
    tracklet = serializers.IntegerField(required=False, help_text="a person of the case: the first confirmed sighting")
    search = serializers.IntegerField(
        required=False, help_text="the photo or description search the subject is made from"
    )


class SubjectUpdateSerializer(serializers.Serializer):
    label = serializers.CharField(required=False, max_length=services.MAX_LABEL)  # type: ignore[assignment]
    notes = serializers.CharField(required=False, allow_blank=True)


class DecisionSerializer(serializers.Serializer):
    tracklet = serializers.IntegerField(help_text="a person of the subject's case")
    decision = serializers.ChoiceField(choices=["confirmed", "rejected"])
    search = serializers.IntegerField(required=False, help_text="the search whose results it was decided on")


class SubjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    notes = serializers.CharField(allow_blank=True)
    origin = serializers.ChoiceField(choices=["person", "photo", "description"])
    confirmed = serializers.IntegerField(help_text="confirmed sightings")
    rejected = serializers.IntegerField(help_text="rejected sightings")


class SubjectDetailSerializer(SubjectSerializer):
    sightings = serializers.ListField(child=serializers.DictField(), help_text="confirmed sightings, in time order")
    rejected_sightings = serializers.ListField(child=serializers.DictField())
    outfits = serializers.ListField(child=serializers.DictField(), help_text="clusters of the confirmed sightings")
    timeline = serializers.DictField()
    map = serializers.DictField()
    flags = serializers.DictField(help_text="confirmed sightings that conflict with their neighbour in time, by tracklet")
    exports = serializers.ListField(child=serializers.DictField(), help_text="its evidence packages, newest first")


class SubjectSearchResultSerializer(serializers.Serializer):
    search = serializers.IntegerField(help_text="id of the search record")
    subject = serializers.IntegerField()
    case = serializers.IntegerField()
    k = serializers.IntegerField()
    filters = serializers.DictField(help_text="the filters as applied")
    lanes = SearchLanesSerializer(help_text="each lane's hits; a hit like a rejected sighting has like_rejected")


def _body(request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise DomainError("send a JSON object")
    return dict(request.data)


def _known(data: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise DomainError(f"{unknown[0]}: unknown field; expected one of {', '.join(sorted(allowed))}")
    return data


@extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="subject id")])
class SubjectViewSet(viewsets.ViewSet):
    lookup_value_regex = r"\d+"

    @extend_schema(
        parameters=[OpenApiParameter("case", int, description="only this case's subjects")],
        responses={200: SubjectSerializer(many=True)},
    )
    def list(self, request: Request) -> Response:
        subjects = services.subjects_visible_to(request.user)
        case = request.query_params.get("case")
        if case is not None:
            subjects = subjects.filter(case=case_for(request.user, case))
        return Response([subject_summary(s) for s in subjects.prefetch_related("sightings")])

    @extend_schema(request=SubjectCreateSerializer, responses={201: SubjectDetailSerializer, **ERRORS})
    def create(self, request: Request) -> Response:
        data = _known(_body(request), {"case", "label", "notes", "tracklet", "search"})
        subject = services.subject_create(
            user=request.user, case_id=data.get("case"), label=data.get("label"), notes=data.get("notes", ""),
            tracklet_id=data.get("tracklet"), search_id=data.get("search"), client_address=client_address_of(request),
        )
        return Response(subject_detail(subject), status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: SubjectDetailSerializer, 404: ErrorSerializer})
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(subject_detail(services.subject_for(request.user, pk)))

    @extend_schema(request=SubjectUpdateSerializer, responses={200: SubjectDetailSerializer, **ERRORS})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        subject = services.subject_update(
            user=request.user, subject_id=pk, data=_body(request), client_address=client_address_of(request)
        )
        return Response(subject_detail(subject))

    @extend_schema(responses={204: None, **ERRORS})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        services.subject_delete(user=request.user, subject_id=pk, client_address=client_address_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=DecisionSerializer, responses={200: SubjectDetailSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def sightings(self, request: Request, pk: str | None = None) -> Response:
        """Confirm or reject a person as a sighting of the subject (a new decision replaces the old)."""
        data = _known(_body(request), {"tracklet", "decision", "search"})
        sighting = services.sighting_decide(
            user=request.user, subject_id=pk, tracklet_id=data.get("tracklet"), decision=data.get("decision"),
            search_id=data.get("search"), client_address=client_address_of(request),
        )
        return Response(subject_detail(sighting.subject))

    @extend_schema(
        parameters=[OpenApiParameter("tracklet", int, OpenApiParameter.PATH, description="the person decided on")],
        responses={200: SubjectDetailSerializer, **ERRORS},
    )
    @action(detail=True, methods=["delete"], url_path=r"sightings/(?P<tracklet>\d+)")
    def sighting(self, request: Request, pk: str | None = None, tracklet: str | None = None) -> Response:
        """Withdraw a decision: the person may be shown again."""
        services.sighting_undo(
            user=request.user, subject_id=pk, tracklet_id=int(tracklet or 0), client_address=client_address_of(request)
        )
        return Response(subject_detail(services.subject_for(request.user, pk)))

    @extend_schema(request=SubjectSearchRequestSerializer, responses={200: SubjectSearchResultSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def search(self, request: Request, pk: str | None = None) -> Response:
        """Search each lane with every confirmed sighting (one query per outfit, fused); rejected
        sightings push look-alikes down; judged people are never returned."""
        result = searches.subject_search_now(
            user=request.user, subject_id=pk, data=request.data, client_address=client_address_of(request)
        )
        return Response(result)

