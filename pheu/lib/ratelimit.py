"""The client address the public endpoints' rate limits count (the limits: ``pheu.core.counters.hit``)."""

from __future__ import annotations

from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address a limit counts: ``REMOTE_ADDR`` only (X-Forwarded-For is written by the client unless a
    proxy rewrites it)."""
    return request.META.get("REMOTE_ADDR") or "unknown"
