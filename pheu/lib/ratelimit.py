"""Rate limits of the public endpoints (tracking, web-to-lead): fixed windows counted on the cache.

The counts are shared by every web process when the cache is (Redis, the database); a local-memory cache
counts per process.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address a limit counts: ``REMOTE_ADDR`` only (X-Forwarded-For is written by the client unless a
    proxy rewrites it)."""
    return request.META.get("REMOTE_ADDR") or "unknown"


def hit(name: str, ip: str, *, limit: int, window: int) -> int:
    """Count one request of ``ip`` against the limit ``name``: ``limit`` requests per window of ``window``
    seconds (``limit`` 0 or less: none). 0 while within it, otherwise the seconds until the next window."""
    if limit <= 0:
        return 0
    window = max(1, window)
    now = time.time()
    key = f"pheu:{name}:rate:{ip}:{int(now // window)}"
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window + 1)
        count = 1
    if count <= limit:
        return 0
    return int(window - now % window) + 1
