"""Webhooks: HTTP endpoints told of what happens to records (a lead created, assigned, won…), signed."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "pheu.webhooks"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from pheu.core.navigation import register_nav

        register_nav(
            name="webhooks",
            label=_("Webhooks"),
            url_name="webhooks:index",
            app_names=("webhooks",),
            order=95,
            visible=lambda user: bool(getattr(user, "manages_configuration", False)),
        )
