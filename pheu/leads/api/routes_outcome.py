"""The API resources of won, lost and restore of opportunities, and the pipeline.

``register`` adds viewsets to the router, ``urlpatterns`` the other paths (mounted under ``/api/v1/``
before the router's)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from pheu.leads.api.outcome import LeadLostView, LeadRestoreView, LeadWonView


def register(router: DefaultRouter) -> None:
    """Add viewsets to the API router."""


urlpatterns: list = [
    path("leads/<int:pk>/won/", LeadWonView.as_view(), name="lead-won"),
    path("leads/<int:pk>/lost/", LeadLostView.as_view(), name="lead-lost"),
    path("leads/<int:pk>/restore/", LeadRestoreView.as_view(), name="lead-restore"),
]
