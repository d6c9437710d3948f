"""Activities (calls, meetings, e-mails, to-dos) on records, and e-mail sent from a record."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "pheu.activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        from pheu.activities import panels
        from pheu.core.navigation import register_nav
        from pheu.core.panels import register_panel

        register_nav(
            name="activities",
            label=_("Activities"),
            url_name="activities:mine",
            app_names=("activities",),
            order=30,
        )
        for page in ("lead", "partner"):
            register_panel(
                page=page,
                name="activities",
                slot="side",
                template="activities/_panel.html",
                context=panels.activities_panel,
                order=20,
            )
            register_panel(
                page=page,
                name="send_email",
                slot="actions",
                template="activities/_email_button.html",
                context=panels.email_button,
                order=50,
            )
