"""Reports (pipeline, forecast, funnel, sources, assignment, activities) and the home dashboards."""

from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_triggers(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After every ``migrate``: the triggers keeping the reports' summaries
    (:mod:`pheu.reports.summaries`), the assigned records' first activities (:mod:`pheu.reports.firsts`) and
    the activities' summary (:mod:`pheu.reports.agenda`)."""
    from pheu.reports import agenda, firsts, summaries

    conn = connections[using]
    tables = set(conn.introspection.table_names())
    if {"leads_lead", "reports_cohortday", "reports_opentotal"} <= tables:
        summaries.ensure_triggers(conn)
    if {"leads_lead", "activities_activity", firsts.TABLE} <= tables:
        firsts.ensure_triggers(conn)
    if {"leads_lead", "activities_activity", agenda.TABLE} <= tables:
        agenda.ensure_triggers(conn)


class ReportsConfig(AppConfig):
    name = "pheu.reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from pheu.core.navigation import register_nav

        post_migrate.connect(_ensure_triggers, sender=self)

        register_nav(
            name="reports",
            label=_("Reports"),
            url_name="reports:index",
            app_names=("reports",),
            order=40,
        )
