"""Pages of the core app: the health endpoint and the home redirect."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from pheu.core.health import check_health


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """Database and worker state as JSON, for load balancers and monitoring (no login).

    HTTP 503 when the database does not answer, else 200 (with ``"degraded"`` when no worker is alive).
    """
    health = check_health()
    return JsonResponse(health.as_dict(), status=200 if health.database_ok else 503)
