"""The API resources of scoring: ``register`` adds viewsets to the router, ``urlpatterns`` the other
paths (mounted under ``/api/v1/`` before the router's)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from pheu.scoring.api.views import (
    LeadExplainView,
    ModelRebuildView,
    ModelStateView,
    PageViewCreateView,
    ScoringRuleViewSet,
)


def register(router: DefaultRouter) -> None:
    """Add viewsets to the API router."""
    router.register("scoring-rules", ScoringRuleViewSet, basename="scoring-rule")


urlpatterns: list = [
    path("leads/<int:pk>/explain/", LeadExplainView.as_view(), name="lead-explain"),
    path("pageviews/", PageViewCreateView.as_view(), name="pageview-create"),
    path("scoring-model/", ModelStateView.as_view(), name="scoring-model"),
    path("scoring-model/rebuild/", ModelRebuildView.as_view(), name="scoring-model-rebuild"),
]
