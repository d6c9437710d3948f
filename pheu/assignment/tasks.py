"""Background tasks of assignment, and the periodic job that runs each team on its schedule."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from pheu.assignment import loads
from pheu.assignment.services import run_scheduled_assignments
from pheu.core.periodic import register_periodic


@task()
def run_scheduled_assignments_task() -> dict[str, int]:
    """Run the teams whose period (``Team.assignment_every_hours``) has passed (idempotent: each team is
    claimed once per period)."""
    results = run_scheduled_assignments()
    return {"runs": len(results), "assigned": sum(r.assigned for r in results)}


# Checked every 15 minutes; each team runs on its own period (hours).
register_periodic("assignment", timedelta(minutes=15), run_scheduled_assignments_task)


@task()
def prune_member_loads_task() -> dict[str, int]:
    """Drop the members' day counts that no capacity window reads any more."""
    return {"removed": loads.prune(now=timezone.now())}


register_periodic("member-loads", timedelta(days=1), prune_member_loads_task)
