"""The API resources of reports: ``urlpatterns`` are mounted under ``/api/v1/`` before the router's."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from pheu.reports.api.views import report_view
from pheu.reports.tables import REPORTS


def register(router: DefaultRouter) -> None:
    """Reports are plain paths, not viewsets."""


urlpatterns: list = [
    path(f"reports/{name}/", report_view(name).as_view(), name=f"report-{name}") for name in REPORTS
]
