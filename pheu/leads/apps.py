from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_triggers(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After every ``migrate``: the triggers of the lead table (see :mod:`pheu.leads.totals` and
    :mod:`pheu.leads.scores`)."""
    from pheu.leads import scores, totals

    conn = connections[using]
    tables = set(conn.introspection.table_names())
    if {"leads_lead", totals.TABLE} <= tables:
        totals.ensure_triggers(conn)
    if {"leads_lead", scores.TABLE} <= tables:
        scores.ensure_triggers(conn)


class LeadsConfig(AppConfig):
    name = "pheu.leads"
    verbose_name = _("Leads and opportunities")

    def ready(self) -> None:
        # Teams store rules over leads without importing this app: they ask the registry for "lead".
        from pheu.leads.rules_schema import lead_schema
        from pheu.rules.registry import register_schema

        register_schema("lead", lead_schema)
        post_migrate.connect(_ensure_triggers, sender=self)
        self._register_pipeline()
        self._register_duplicates()

    def _register_pipeline(self) -> None:
        # The pipeline's menu entry, and the Won / Lost / Restore buttons of a record's page.
        from pheu.core.navigation import register_nav
        from pheu.core.panels import register_panel
        from pheu.leads.views.pipeline import outcome_panel

        register_nav(name="pipeline", label=_("Pipeline"), url_name="leads:pipeline", order=10)
        register_panel(
            page="lead",
            name="outcome",
            slot="actions",
            template="leads/pipeline/_outcome_actions.html",
            context=outcome_panel,
            order=10,
        )

    def _register_duplicates(self) -> None:
        # The Duplicates menu entry; the "N similar", Convert and Merges panels of a record's page.
        from pheu.core.navigation import register_nav
        from pheu.core.panels import register_panel
        from pheu.leads.views import duplicates

        register_nav(name="duplicates", label=_("Duplicates"), url_name="leads:duplicates", order=15)
        register_panel(
            page="lead",
            name="convert",
            slot="actions",
            template="leads/duplicates/_panel_convert.html",
            context=duplicates.convert_panel,
            order=5,
        )
        register_panel(
            page="lead",
            name="similar",
            slot="side",
            template="leads/duplicates/_panel_similar.html",
            context=duplicates.similar_panel,
            order=20,
        )
        register_panel(
            page="lead",
            name="merges",
            slot="side",
            template="leads/duplicates/_panel_merges.html",
            context=duplicates.merges_panel,
            order=25,
        )
