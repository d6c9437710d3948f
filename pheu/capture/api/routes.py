"""The API resources of capture: ``register`` adds viewsets to the router, ``urlpatterns`` the other paths
(mounted under ``/api/v1/`` before the router's)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import DefaultRouter

from pheu.capture.api.views import EmlUploadView, MailboxViewSet, TeamFormKeyView


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the API router."""
    router.register("mailboxes", MailboxViewSet, basename="mailbox")


urlpatterns: list = [
    path("teams/<int:pk>/form-key/", TeamFormKeyView.as_view(), name="team-form-key"),
    path("mail/eml/", EmlUploadView.as_view(), name="mail-eml"),
]
