"""Background tasks of the reports: folding the summary rows the triggers append."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from pheu.core.periodic import register_periodic
from pheu.reports import agenda, summaries


@task()
def compact_report_summaries_task() -> dict[str, int]:
    """Fold the reports' summary rows (signed rows appended by the triggers) into one per group, so that a
    report sums a bounded number of rows."""
    return {"removed": summaries.compact() + agenda.compact()}


register_periodic("report-summaries", timedelta(minutes=5), compact_report_summaries_task)
