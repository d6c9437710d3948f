from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters, viewsets

from pheu.accounts.api.serializers import UserSerializer
from pheu.accounts.filters import UserFilterSet
from pheu.accounts.models import User


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Users, read-only (they are managed by administrators on the pages)."""

    queryset = User.objects.all()
    serializer_class = UserSerializer
    filter_backends = [DjangoFilterBackend, filters.OrderingFilter]
    filterset_class = UserFilterSet
    ordering_fields = ["id", "username", "first_name", "last_name"]
