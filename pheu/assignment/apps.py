"""Automatic assignment of leads to teams and salespeople: runs, decisions and their explanations."""

from typing import Any

from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_triggers(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    """After every ``migrate``: the triggers keeping the members' loads (:mod:`pheu.assignment.loads`) and
    the config's version (:mod:`pheu.assignment.config_cache`)."""
    from pheu.assignment import config_cache, loads

    conn = connections[using]
    tables = set(conn.introspection.table_names())
    if {"leads_lead", loads.TABLE} <= tables:
        loads.ensure_triggers(conn)
    if config_cache.TABLE in tables:
        config_cache.ensure_triggers(conn)


class AssignmentConfig(AppConfig):
    name = "pheu.assignment"
    verbose_name = _("Assignment")

    def ready(self) -> None:
        from pheu.assignment.history import decision_entries
        from pheu.assignment.lead_steps import assign_lead_in_real_time
        from pheu.assignment.views import lead_panel
        from pheu.core.history import register_history_source
        from pheu.core.navigation import register_nav
        from pheu.core.panels import register_panel
        from pheu.leads.models import Lead
        from pheu.leads.services.steps import Phase, register_creation_step

        # A new lead gets its team and salesperson before its insert, after its score (real time, SPEC 5).
        register_creation_step(phase=Phase.OWNER, step=assign_lead_in_real_time)

        register_nav(
            name="assignment",
            label=_("Assignment"),
            url_name="assignment:overview",
            app_names=("assignment",),
            order=60,
            visible=lambda user: bool(getattr(user, "manages_configuration", False)),
        )
        register_panel(
            page="lead",
            name="assignment",
            slot="side",
            template="assignment/_lead_panel.html",
            context=lead_panel,
            order=40,
        )
        register_history_source(Lead, decision_entries)
        post_migrate.connect(_ensure_triggers, sender=self)
