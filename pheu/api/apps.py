from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "pheu.api"
    verbose_name = _("API")

    def ready(self) -> None:
        # Webhook payloads show records as this API does.
        from pheu.api import webhooks

        webhooks.register()
