from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def _currency() -> str:
    from pheu.core.models import PheuSettings

    return PheuSettings.load().currency


def pheu(request: HttpRequest) -> dict[str, Any]:
    """Values every page layout needs. ``currency`` is read only by pages that show money."""
    from pheu.core.navigation import nav_items

    user = getattr(request, "user", None)
    match = getattr(request, "resolver_match", None)
    items = nav_items(user, match.app_name if match else None) if user and user.is_authenticated else []
    return {"PHEU_VERSION": "0.1.0", "currency": SimpleLazyObject(_currency), "nav_items": items}
