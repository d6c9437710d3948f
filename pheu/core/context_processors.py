from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def pheu(request: HttpRequest) -> dict[str, Any]:
    """Values every page layout needs."""
    return {"PHEU_VERSION": "0.1.0"}
