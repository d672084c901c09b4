"""Cases API: open and list cases, manage members, close, link footage, delete, export the ledger."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.audit.ledger import (
    EXPORT_FIELDS,
    audit_entries_for_case,
    audit_record,
    client_address_of,
    entry_as_dict,
)
from webapp.audit.models import Action
from webapp.cases import access, services
from webapp.cases.access import Capability
from webapp.cases.models import Case
from webapp.cases.serializers import (
    CaseCreateSerializer,
    CaseMemberSerializer,
    CaseSerializer,
    CaseStatusSerializer,
    CaseUpdateSerializer,
    MemberAddSerializer,
    MemberRoleSerializer,
    UserSerializer,
    VideoLinkSerializer,
)
from webapp.core.exceptions import DomainError


@extend_schema(parameters=[OpenApiParameter("id", int, OpenApiParameter.PATH, description="case id")])
class CaseViewSet(viewsets.ViewSet):
    """Everything here goes through :mod:`webapp.cases.access`; cases one may not see are 404."""

    lookup_value_regex = r"\d+"

    def _case(self, request: Request, pk: Any, capability: Capability) -> Case:
        return access.case_for(request.user, pk, capability)

    def _out(self, request: Request, case: Case, code: int = status.HTTP_200_OK) -> Response:
        case = Case.objects.prefetch_related("members__user", "video_links").get(pk=case.pk)
        return Response(CaseSerializer(case, context={"request": request}).data, status=code)

    @extend_schema(responses={200: CaseSerializer(many=True)})
    def list(self, request: Request) -> Response:
        cases = access.listed_cases(request.user).prefetch_related("members__user", "video_links")
        return Response(CaseSerializer(cases, many=True, context={"request": request}).data)

    @extend_schema(request=CaseCreateSerializer, responses={201: CaseSerializer})
    def create(self, request: Request) -> Response:
        data = CaseCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_create(user=request.user, client_address=client_address_of(request), **data.validated_data)
        return self._out(request, case, status.HTTP_201_CREATED)

    @extend_schema(responses={200: CaseSerializer})
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        case = access.listed_cases(request.user).filter(pk=_int(pk)).first()
        if case is None:
            raise DomainError("no such case", status_code=404)
        return self._out(request, case)

    @extend_schema(request=CaseUpdateSerializer, responses={200: CaseSerializer})
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        case = self._case(request, pk, Capability.MANAGE)
        data = CaseUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_update(case=case, user=request.user, changes=dict(data.validated_data),
                             client_address=client_address_of(request))
        return self._out(request, case)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str | None = None) -> Response:
        case = self._case(request, pk, Capability.DELETE)
        services.case_delete(case=case, user=request.user, client_address=client_address_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=CaseStatusSerializer, responses={200: CaseSerializer})
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request: Request, pk: str | None = None) -> Response:
        case = self._case(request, pk, Capability.CLOSE)
        data = CaseStatusSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.case_set_status(case=case, user=request.user, status=data.validated_data["status"],
                                 client_address=client_address_of(request))
        return self._out(request, case)

    @extend_schema(request=MemberAddSerializer, responses={201: CaseMemberSerializer, 200: CaseMemberSerializer(many=True)})
    @action(detail=True, methods=["get", "post"])
    def members(self, request: Request, pk: str | None = None) -> Response:
        if request.method == "GET":
            case = self._case(request, pk, Capability.VIEW)
            return Response(CaseMemberSerializer(case.members.select_related("user"), many=True).data)
        case = self._case(request, pk, Capability.MANAGE)
        data = MemberAddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.case_member_add(
            case=case, actor=request.user, user_id=data.validated_data["user"], role=data.validated_data["role"],
            client_address=client_address_of(request),
        )
        return Response(CaseMemberSerializer(member).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MemberRoleSerializer, responses={200: CaseMemberSerializer, 204: None})
    @action(detail=True, methods=["patch", "delete"], url_path=r"members/(?P<user_id>\d+)")
    def member(self, request: Request, pk: str | None = None, user_id: str | None = None) -> Response:
        case = self._case(request, pk, Capability.MANAGE)
        if request.method == "DELETE":
            services.case_member_remove(case=case, actor=request.user, user_id=user_id,
                                        client_address=client_address_of(request))
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = MemberRoleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.case_member_set_role(
            case=case, actor=request.user, user_id=user_id, role=data.validated_data["role"],
            client_address=client_address_of(request),
        )
        return Response(CaseMemberSerializer(member).data)

    @extend_schema(request=VideoLinkSerializer, responses={201: CaseSerializer})
    @action(detail=True, methods=["post"])
    def videos(self, request: Request, pk: str | None = None) -> Response:
        """Link footage of another case into this one: the user must lead both."""
        case = self._case(request, pk, Capability.MANAGE)
        data = VideoLinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        video_id = data.validated_data["video"]
        source = access.cases_holding_video(request.user, video_id).filter(
            members__user_id=int(request.user.pk or 0), members__role="lead"
        ).first()
        if source is None:
            raise DomainError(f"video: unknown id {video_id} (you must lead a case that holds it)", status_code=404)
        video = source.video_links.get(video_id=video_id).video
        services.case_video_add(case=case, video=video, user=request.user, client_address=client_address_of(request))
        return self._out(request, case, status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("export", str, enum=["json", "csv"], description="json (default) or csv")],
        responses={200: dict},
    )
    @action(detail=True, methods=["get"])
    def audit(self, request: Request, pk: str | None = None) -> HttpResponse:
        """The case's ledger records, as JSON or CSV; the export itself is recorded."""
        case = self._case(request, pk, Capability.EXPORT)
        kind = request.query_params.get("export", "json")
        if kind not in ("json", "csv"):
            raise DomainError("export: json or csv")
        rows = [entry_as_dict(e) for e in audit_entries_for_case(case.pk)]
        audit_record(action=Action.AUDIT_EXPORT, user=request.user, case_id=case.pk, object_type="case",
                     object_ids=[case.pk], client_address=client_address_of(request),
                     details={"format": kind, "records": len(rows)})
        name = f"audit-{case.reference}.{kind}"
        if kind == "json":
            body = json.dumps({"case": case.pk, "reference": case.reference, "records": rows}, indent=1)
            response = HttpResponse(body, content_type="application/json")
        else:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=list(EXPORT_FIELDS), extrasaction="ignore")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in row.items()})
            response = HttpResponse(buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class UserListView(APIView):
    """Active accounts (id and name), to add as case members."""

    @extend_schema(responses={200: UserSerializer(many=True)})
    def get(self, request: Request) -> Response:
        users = get_user_model().objects.filter(is_active=True).order_by("username").values("id", "username")
        return Response(list(users))


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DomainError("no such case", status_code=404) from None
