from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LeadsConfig(AppConfig):
    name = "pheu.leads"
    verbose_name = _("Leads and opportunities")

    def ready(self) -> None:
        # Teams store rules over leads without importing this app: they ask the registry for "lead".
        from pheu.leads.rules_schema import lead_schema
        from pheu.rules.registry import register_schema

        register_schema("lead", lead_schema)
