"""The public side of page-view tracking: the rate limit of the tracking endpoint and its CORS headers.

The endpoint (``scoring:track_pageview``) is posted to by the tracking snippet from customers' websites,
with no credentials: the answer echoes the ``Origin`` (any site may embed the snippet) and never allows
cookies. Its abuse is bounded by a fixed-window counter per client IP (``PHEU_TRACKING_RATE``, e.g.
``120/minute``), counted on the store every process shares (``pheu.core.counters``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

from pheu.core.counters import hit

UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour|day)s?\s*$")
VISITOR_COOKIE = "pheu_vid"


@dataclass(frozen=True)
class Rate:
    count: int  # 0: no limit
    seconds: int


def tracking_rate() -> Rate:
    """``PHEU_TRACKING_RATE`` read (``N/second|minute|hour|day``); a bad value names the variable."""
    raw = str(getattr(settings, "PHEU_TRACKING_RATE", "120/minute"))
    match = _RATE.match(raw)
    if match is None:
        raise ImproperlyConfigured(
            f"PHEU_TRACKING_RATE={raw!r} is not a rate (use N/second, N/minute, N/hour or N/day; 0/minute: "
            "no limit)"
        )
    return Rate(int(match.group(1)), UNITS[match.group(2)])


def over_rate_limit(ip: str) -> int:
    """Count one page view from ``ip``: 0 while within the limit, otherwise the seconds to wait."""
    rate = tracking_rate()
    return hit("tracking", ip, limit=rate.count, window=rate.seconds)


def with_cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Let any website's page post to the endpoint, without credentials (no cookies are read)."""
    origin = request.headers.get("Origin")
    if origin:
        response["Access-Control-Allow-Origin"] = origin
        response["Vary"] = "Origin"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Max-Age"] = "86400"
    return response
