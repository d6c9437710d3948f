"""API of imports (``imports/``: upload, status, errors, start, revert) and of lead exports."""

from __future__ import annotations

import tempfile
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pheu.core.api.parsers import FormParser, JSONParser, MultiPartParser
from pheu.imports import exports
from pheu.imports.api.serializers import (
    ImportCreateSerializer,
    ImportIssueSerializer,
    ImportSerializer,
    ImportStartSerializer,
)
from pheu.imports.models import Import
from pheu.imports.services import revert_import, start_import, upload_import
from pheu.leads.filters import LeadFilterSet
from pheu.leads.models import Lead


@extend_schema_view(
    list=extend_schema(summary="List imports (sales managers and administrators)"),
    retrieve=extend_schema(summary="One import: status, progress and counts"),
)
class ImportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imports of leads and opportunities from CSV/XLSX files, run in the background."""

    serializer_class = ImportSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    queryset = Import.objects.none()  # for the schema; get_queryset() is what requests read

    def get_queryset(self) -> QuerySet[Import]:
        if getattr(self, "swagger_fake_view", False):
            return Import.objects.none()
        if not getattr(self.request.user, "sees_all_records", False):
            raise PermissionDenied
        return Import.objects.all()

    @extend_schema(
        summary="Upload a file and (by default) start importing it",
        request={"multipart/form-data": ImportCreateSerializer},
        responses={201: ImportSerializer},
    )
    def create(self, request: Request) -> Response:
        self.get_queryset()
        data = ImportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        upload = values["file"]
        run = upload_import(
            actor=request.user,
            upload=upload,
            file_name=upload.name,
            kind=values["kind"],
            team=values.get("team"),
        )
        if values["start"]:
            run = start_import(
                actor=request.user,
                import_run=run,
                mapping=values.get("mapping"),
                dry_run=values["dry_run"],
                atomic=values["atomic"],
            )
        run.refresh_from_db()
        return Response(ImportSerializer(run).data, status=201)

    @extend_schema(
        summary="Start an uploaded import", request=ImportStartSerializer, responses=ImportSerializer
    )
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: Any = None) -> Response:
        data = ImportStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = start_import(actor=request.user, import_run=self.get_object(), **data.validated_data)
        run.refresh_from_db()
        return Response(ImportSerializer(run).data)

    @extend_schema(
        summary="The problems found: rows not imported (errors) and values kept as typed or left out "
        "(warnings), with row, column, value and reason",
        responses=ImportIssueSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def errors(self, request: Request, pk: Any = None) -> Response:
        run = self.get_object()
        page = self.paginate_queryset(run.issues.all())
        return self.get_paginated_response(ImportIssueSerializer(page, many=True).data)

    @extend_schema(
        summary="Revert the import as a whole (refused when its records changed since)",
        request=None,
        responses=ImportSerializer,
    )
    @action(detail=True, methods=["post"])
    def revert(self, request: Request, pk: Any = None) -> Response:
        run = revert_import(actor=request.user, import_run=self.get_object())
        return Response(ImportSerializer(run).data)


class LeadExportView(APIView):
    """The leads the user may see, filtered like the list, as a file that imports back unchanged."""

    serializer_class = None

    @extend_schema(
        summary="Export leads to CSV or XLSX",
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "xlsx"], description="Default: csv."),
            OpenApiParameter("domain", OpenApiTypes.STR, description="A rule-language domain (as the list)."),
            OpenApiParameter("search", OpenApiTypes.STR),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiResponse(
                OpenApiTypes.BINARY
            ),
        },
    )
    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        # ``format`` names the file's format here, not one of DRF's renderers.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request: Request) -> Any:
        kind = request.query_params.get("format", "csv")
        if kind not in ("csv", "xlsx"):
            raise serializers.ValidationError({"format": [_("Choose csv or xlsx.")]})
        params = request.query_params.copy()
        params.pop("format", None)
        filterset = LeadFilterSet(params, queryset=Lead.objects.visible_to(request.user), request=request)
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        leads = filterset.qs.order_by("-created_at", "-id")
        if kind == "csv":
            response = StreamingHttpResponse(
                exports.csv_chunks(leads), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = 'attachment; filename="leads.csv"'
            return response
        buffer = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it
        exports.write_xlsx(leads, buffer)
        buffer.seek(0)
        return FileResponse(
            buffer,
            as_attachment=True,
            filename="leads.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
