"""Automatic assignment of leads to teams and salespeople: runs, decisions and their explanations."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssignmentConfig(AppConfig):
    name = "pheu.assignment"
    verbose_name = _("Assignment")

    def ready(self) -> None:
        from pheu.assignment.history import decision_entries
        from pheu.assignment.views import lead_panel
        from pheu.core.history import register_history_source
        from pheu.core.navigation import register_nav
        from pheu.core.panels import register_panel
        from pheu.leads.models import Lead

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
