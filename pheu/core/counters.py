"""Counters shared by every process — the web processes of all machines and the workers: rate limits.

One store for the whole installation: Redis when ``PHEU_REDIS_URL`` is set, otherwise the database (the
``Counter`` table). Each hit is one atomic step there — ``INCR`` on Redis, one ``INSERT … ON CONFLICT DO
UPDATE … RETURNING`` on PostgreSQL and SQLite — so a limit of 20 a minute is 20 a minute however many
processes serve the requests (a count read and written back by each process would lose hits that race).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.conf import settings
from django.db import connection

_redis_client = None


def _redis():
    global _redis_client
    url = settings.PHEU_REDIS_URL
    if _redis_client is None or _redis_client[0] != url:
        import redis

        _redis_client = (url, redis.Redis.from_url(url, health_check_interval=30))
    return _redis_client[1]


def count_hit(name: str, *, window: int, now: float | None = None) -> int:
    """Count one hit of ``name`` in the current fixed window of ``window`` seconds; return the hits of the
    window so far, this one included."""
    window = max(1, int(window))
    now = time.time() if now is None else now
    bucket = int(now // window)
    expires = (bucket + 1) * window + 1
    if settings.PHEU_REDIS_URL:
        key = f"{settings.PHEU_REDIS_PREFIX}:count:{name}:{bucket}"
        with _redis().pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, max(1, int(expires - now)))
            count, _ok = pipe.execute()
        return int(count)
    key = f"{name}:{bucket}"[:250]
    with connection.cursor() as cursor:
        cursor.execute(
            'INSERT INTO core_counter ("key", count, expires_at) VALUES (%s, 1, %s) '
            'ON CONFLICT ("key") DO UPDATE SET count = core_counter.count + 1 RETURNING count',
            [key, connection.ops.adapt_datetimefield_value(datetime.fromtimestamp(expires, UTC))],
        )
        return int(cursor.fetchone()[0])


def hit(name: str, ip: str, *, limit: int, window: int) -> int:
    """Count one request of ``ip`` against the limit ``name``: ``limit`` requests per window of ``window``
    seconds (``limit`` 0 or less: none). 0 while within it, otherwise the seconds until the next window."""
    if limit <= 0:
        return 0
    window = max(1, window)
    now = time.time()
    if count_hit(f"{name}:rate:{ip}", window=window, now=now) <= limit:
        return 0
    return int(window - now % window) + 1


def prune_counters(*, now: datetime | None = None) -> int:
    """Delete the counts of windows that have ended (the daily prune); the number deleted."""
    from pheu.core.models import Counter

    deleted, _detail = Counter.objects.filter(expires_at__lt=now or datetime.now(UTC)).delete()
    return deleted
