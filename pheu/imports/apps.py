"""Imports of leads and opportunities from CSV/XLSX files, and exports of lists."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    name = "pheu.imports"
    verbose_name = _("Imports and exports")
