"""Background tasks of leads, and their periodic jobs."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from pheu.core.periodic import register_periodic
from pheu.leads import totals


@task()
def compact_pipeline_totals_task() -> dict[str, int]:
    """Fold the pipeline's running totals (the rows the triggers appended) into one row per team, stage and
    salesperson, so that a board's sums read a handful of rows."""
    return {"removed": totals.compact()}


register_periodic("pipeline-totals", timedelta(minutes=5), compact_pipeline_totals_task)
