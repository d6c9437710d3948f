"""Leads that come in by themselves: the web-to-lead form and e-mail to lead (IMAP mailboxes)."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaptureConfig(AppConfig):
    name = "pheu.capture"
    verbose_name = _("Lead capture")

    def ready(self) -> None:
        from pheu.capture.views import attachments_panel
        from pheu.core.navigation import register_nav
        from pheu.core.panels import register_panel

        register_nav(
            name="capture", label=_("Capture"), url_name="capture:index", app_names=("capture",), order=80
        )
        register_panel(
            page="lead",
            name="attachments",
            slot="main",
            template="capture/_attachments_panel.html",
            context=attachments_panel,
            order=60,
        )
