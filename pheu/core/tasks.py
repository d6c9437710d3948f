"""Background tasks of the core app, and the periodic jobs it registers."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from pheu.core.periodic import register_periodic
from pheu.core.services import prune_old_records

# Finished task results and dead workers' heartbeats are kept this long (for the admin's task list).
KEEP_DAYS = 14


@task()
def prune_old_records_task() -> dict[str, int]:
    """Delete finished task results and stale worker heartbeats older than ``KEEP_DAYS``, and ended
    rate-limit windows (idempotent)."""
    result = prune_old_records(keep_days=KEEP_DAYS)
    return {"task_results": result.task_results, "heartbeats": result.heartbeats, "counters": result.counters}


register_periodic("prune", timedelta(days=1), prune_old_records_task)
