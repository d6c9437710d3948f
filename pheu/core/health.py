"""What ``/healthz`` reports: can the database answer, and has a worker shown a sign of life lately."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Max
from django.utils import timezone

from pheu.core.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

try:
    VERSION = version("pheu")
except PackageNotFoundError:  # running from a source tree that was not pip-installed
    VERSION = "0.1.0"


@dataclass(frozen=True)
class Health:
    database_ok: bool
    vendor: str
    worker_ok: bool
    worker_last_seen: datetime | None

    @property
    def status(self) -> str:
        """``error`` without a database, ``degraded`` without a live worker, else ``ok``."""
        if not self.database_ok:
            return "error"
        return "ok" if self.worker_ok else "degraded"

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "database": {"ok": self.database_ok, "vendor": self.vendor},
            "worker": {
                "ok": self.worker_ok,
                "last_seen": self.worker_last_seen.isoformat() if self.worker_last_seen else None,
            },
            "version": VERSION,
        }


def check_health(*, now: datetime | None = None) -> Health:
    """Probe the database with one trivial query, then read the newest worker heartbeat.

    A worker is alive when some heartbeat is at most ``PHEU_WORKER_STALE_SECONDS`` old. Any failure of the
    probe is reported, never raised: a health endpoint that crashes tells an operator nothing.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        logger.warning("health check: the database does not answer", exc_info=True)
        return Health(database_ok=False, vendor=connection.vendor, worker_ok=False, worker_last_seen=None)
    try:
        last_seen = WorkerHeartbeat.objects.aggregate(last=Max("seen_at"))["last"]
    except Exception:  # e.g. migrations not applied yet: the database answers, the worker state is unknown
        logger.warning("health check: cannot read worker heartbeats", exc_info=True)
        last_seen = None
    stale_after = timedelta(seconds=settings.PHEU_WORKER_STALE_SECONDS)
    worker_ok = last_seen is not None and (now or timezone.now()) - last_seen <= stale_after
    return Health(database_ok=True, vendor=connection.vendor, worker_ok=worker_ok, worker_last_seen=last_seen)
