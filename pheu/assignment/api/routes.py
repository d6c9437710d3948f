"""The API resources of assignment: ``register`` adds viewsets to the router, ``urlpatterns`` the other paths
(mounted under ``/api/v1/`` before the router's)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from pheu.assignment.api.views import AssignmentRunViewSet, AssignmentSimulationView, LeadAssignmentView


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the API router."""
    router.register("assignment-runs", AssignmentRunViewSet, basename="assignment-run")


urlpatterns: list = [
    path("leads/<int:pk>/assignment/", LeadAssignmentView.as_view(), name="lead-assignment"),
    path("assignment-runs/simulate/", AssignmentSimulationView.as_view(), name="assignment-simulate"),
]
