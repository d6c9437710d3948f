from __future__ import annotations

from rest_framework import filters, viewsets

from pheu.accounts.api.serializers import UserSerializer
from pheu.accounts.filters import UserFilterSet
from pheu.accounts.models import User
from pheu.core.api.filters import FilterBackend


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Users, read-only (they are managed by administrators on the pages)."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    filter_backends = [FilterBackend, filters.OrderingFilter]
    filterset_class = UserFilterSet
    ordering_fields = ["id", "username", "first_name", "last_name"]
