"""The API resources of webhooks: ``register`` adds viewsets to the router, ``urlpatterns`` the other paths
(mounted under ``/api/v1/`` before the router's)."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from pheu.webhooks.api.views import WebhookEndpointViewSet


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the API router."""
    router.register("webhooks", WebhookEndpointViewSet, basename="webhook")


urlpatterns: list = []
