"""The API resources of activities: ``register`` adds viewsets to the router, ``urlpatterns`` the other paths
(mounted under ``/api/v1/`` before the router's)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from pheu.activities.api.views import ActivityViewSet, CalendarFeedView, LeadSendEmailView


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the API router."""
    router.register("activities", ActivityViewSet, basename="activity")


urlpatterns: list = [
    path("leads/<int:pk>/send-email/", LeadSendEmailView.as_view(), name="lead-send-email"),
    path("calendar-feed/", CalendarFeedView.as_view(), name="calendar-feed"),
]
