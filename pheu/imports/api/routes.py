"""The API resources of imports: ``register`` adds viewsets to the router, ``urlpatterns`` the other paths
(mounted under ``/api/v1/`` before the router's)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from pheu.imports.api.views import ImportViewSet, LeadExportView


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the API router."""
    router.register("imports", ImportViewSet, basename="import")


urlpatterns: list = [path("leads/export/", LeadExportView.as_view(), name="lead-export")]
