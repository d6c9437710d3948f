from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject


def _currency() -> str:
    from pheu.core.models import PheuSettings

    return PheuSettings.load().currency


def pheu(request: HttpRequest) -> dict[str, Any]:
    """Values every page layout needs. ``currency`` is read only by pages that show money."""
    return {"PHEU_VERSION": "0.1.0", "currency": SimpleLazyObject(_currency)}
