"""Pages of the reports: the list, each report (filters, chart, table) and its CSV/XLSX export, and the
home dashboards. Each view parses the filters, calls one builder, renders."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from pheu.reports.dashboards import dashboard
from pheu.reports.exports import report_csv, report_xlsx
from pheu.reports.filters import ReportFilterForm
from pheu.reports.tables import REPORTS, build_report

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _parse(request: HttpRequest, name: str) -> ReportFilterForm:
    if name not in REPORTS:
        raise Http404
    form = ReportFilterForm(request.GET, user=request.user, default_days=REPORTS[name].default_days)
    form.is_valid()
    return form


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/index.html", {"reports": REPORTS.values()})


@login_required
def report(request: HttpRequest, name: str) -> HttpResponse:
    form = _parse(request, name)
    context: dict[str, Any] = {"form": form, "kind": REPORTS[name], "reports": REPORTS.values()}
    if not form.errors:
        built = build_report(name, user=request.user, filters=form.report_filters())
        context.update(report=built, chart=built.chart.as_dict(), query=request.GET.urlencode())
    return render(request, "reports/report.html", context, status=400 if form.errors else 200)


def _file_name(name: str, extension: str) -> str:
    return f"pheu-{name}-{timezone.localdate():%Y%m%d}.{extension}"


@login_required
def export(request: HttpRequest, name: str, extension: str) -> HttpResponse:
    form = _parse(request, name)
    if form.errors:
        return HttpResponse(form.errors.as_text(), status=400, content_type="text/plain; charset=utf-8")
    built = build_report(name, user=request.user, filters=form.report_filters())
    if extension == "csv":
        response = HttpResponse(report_csv(built), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(report_xlsx(built), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{_file_name(name, extension)}"'
    return response


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The page after login: the salesperson's day, or the leader's and manager's month."""
    return render(request, "reports/home.html", {"board": dashboard(user=request.user)})
