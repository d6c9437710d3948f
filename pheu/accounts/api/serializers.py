from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from pheu.accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    """A user as others see them (read-only through the API)."""

    name = serializers.CharField(source="display_name", read_only=True, help_text=_("Full name, or login."))
    active = serializers.BooleanField(source="is_active", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "name", "email", "role", "language", "active"]
        read_only_fields = fields
