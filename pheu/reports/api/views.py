"""``GET /api/v1/reports/<name>/``: each report with the page's filters, scoped by the one visibility rule."""

from __future__ import annotations

from typing import Any

from django.utils.text import format_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from pheu.reports.api.serializers import ReportSerializer, report_dict
from pheu.reports.filters import ReportFilterForm
from pheu.reports.tables import REPORTS, build_report

FILTER_PARAMETERS = [
    OpenApiParameter(
        "date_from", OpenApiTypes.DATE, description="Start of the period (default: 11 months ago)."
    ),
    OpenApiParameter(
        "date_to", OpenApiTypes.DATE, description="End of the period, included (default: today)."
    ),
    OpenApiParameter("team", OpenApiTypes.INT, description="Only this team's records."),
    OpenApiParameter("user", OpenApiTypes.INT, description="Only this salesperson's records."),
    OpenApiParameter("domain", OpenApiTypes.STR, description="A rule-language domain on the records."),
]
EXTRA_PARAMETERS = {
    "as_of": OpenApiParameter(
        "as_of", OpenApiTypes.DATE, description="The records open at the end of this day (default: now)."
    ),
    "period": OpenApiParameter("period", OpenApiTypes.STR, enum=["week", "month", "quarter"]),
    "group": OpenApiParameter("group", OpenApiTypes.STR, enum=["period", "team", "user", "source"]),
}


class ReportView(APIView):
    name = ""

    def get(self, request: Request) -> Response:
        form = ReportFilterForm(
            request.query_params, user=request.user, default_days=REPORTS[self.name].default_days
        )
        if not form.is_valid():
            return Response(
                {field: [str(m) for m in messages] for field, messages in form.errors.items()}, status=400
            )
        report = build_report(self.name, user=request.user, filters=form.report_filters())
        return Response(report_dict(report))


def report_view(name: str) -> type[ReportView]:
    """The view of report ``name``, with its own entry in the OpenAPI schema."""
    kind = REPORTS[name]
    dated = FILTER_PARAMETERS if "dates" in kind.filters else FILTER_PARAMETERS[2:]  # not as of now
    parameters = dated + [EXTRA_PARAMETERS[f] for f in kind.filters if f in EXTRA_PARAMETERS]
    if kind.default_days:
        parameters = [
            OpenApiParameter(
                p.name, p.type, description=f"{p.description} Default: the last {kind.default_days} days."
            )
            if p.name == "date_from"
            else p
            for p in parameters
        ]
    schema: Any = extend_schema(
        summary=f"Report: {name}",
        description=format_lazy(
            "{} Scoped like every read: a salesperson's own records, a team leader's teams', a manager's "
            "all. The filters are the page's; a bad one is a 400 naming the field.",
            kind.description,
        ),
        parameters=parameters,
        responses={200: ReportSerializer},
        operation_id=f"reports_{name}",
        tags=["reports"],
    )

    def get(self: ReportView, request: Request) -> Response:
        return ReportView.get(self, request)

    return type(f"{name.title()}ReportView", (ReportView,), {"name": name, "get": schema(get)})
