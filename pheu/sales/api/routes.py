"""The API resources of sales: ``register`` adds viewsets to the router, ``urlpatterns`` the other paths
(mounted under ``/api/v1/`` before the router's)."""

from __future__ import annotations

from rest_framework.routers import DefaultRouter

from pheu.sales.api.views import OrderViewSet, ProductViewSet, QuotationViewSet


def register(router: DefaultRouter) -> None:
    """Add this app's viewsets to the API router."""
    router.register("products", ProductViewSet, basename="product")
    router.register("quotations", QuotationViewSet, basename="quotation")
    router.register("orders", OrderViewSet, basename="order")


urlpatterns: list = []
