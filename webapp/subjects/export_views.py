"""Evidence export API: ask for a subject's package, follow it, download it when it is done."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from webapp.accounts.permissions import IsInvestigator
from webapp.audit.ledger import client_address_of
from webapp.subjects import exports
from webapp.subjects.models import EvidenceExport


class ExportRequestSerializer(serializers.Serializer):
    redact = serializers.BooleanField(default=False, help_text="pixelate every other person in clips and stills")


class ExportSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.username", read_only=True, default="")
    percent = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceExport
        fields = ["id", "subject", "status", "stage", "progress", "percent", "error", "redact", "sha256",
                  "size_bytes", "requested_by", "created_at", "finished_at", "download"]

    def get_percent(self, export: EvidenceExport) -> float:
        return round(100 * export.progress, 1)

    def get_download(self, export: EvidenceExport) -> str | None:
        """The package's address once it is done."""
        return f"/api/exports/{export.pk}/download" if export.status == EvidenceExport.Status.DONE else None


class SubjectExportsView(APIView):
    """Ask for an evidence package of a subject (a case lead's); a worker builds it."""

    permission_classes = [IsInvestigator]
    parser_classes = [JSONParser]

    @extend_schema(request=ExportRequestSerializer, responses={202: ExportSerializer},
                   examples=[OpenApiExample("redacted", value={"redact": True}, request_only=True)])
    def post(self, request: Request, pk: int) -> Response:
        body = ExportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        export = exports.export_start(user=request.user, subject_id=pk, redact=body.validated_data["redact"],
                                      client_address=client_address_of(request))
        return Response(ExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class ExportDetailView(APIView):
    """An export's status, progress, and once done its sha256 and size."""

    permission_classes = [IsInvestigator]

    @extend_schema(responses={200: ExportSerializer})
    def get(self, request: Request, pk: int) -> Response:
        return Response(ExportSerializer(exports.export_detail(user=request.user, export_id=pk)).data)


class ExportDownloadView(APIView):
    """The finished package as a zip attachment; 404 until it is done. The download is recorded."""

    permission_classes = [IsInvestigator]

    @extend_schema(responses={(200, "application/zip"): bytes})
    def get(self, request: Request, pk: int) -> Any:
        export, path = exports.export_download(user=request.user, export_id=pk,
                                               client_address=client_address_of(request))
        response = FileResponse(path.open("rb"), as_attachment=True, filename=exports.download_name(export),
                                content_type="application/zip")
        response["X-Content-SHA256"] = export.sha256
        response["Cache-Control"] = "private, no-store"
        return response
