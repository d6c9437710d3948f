"""Reports (pipeline, forecast, funnel, sources, assignment, activities) and the home dashboards."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "pheu.reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from pheu.core.navigation import register_nav

        register_nav(
            name="reports",
            label=_("Reports"),
            url_name="reports:index",
            app_names=("reports",),
            order=40,
        )
