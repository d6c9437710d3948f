from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "pheu.scoring"
    verbose_name = _("Lead scoring")
