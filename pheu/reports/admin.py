from __future__ import annotations

from django.contrib import admin

from pheu.core.admin import ConfigurationAdmin
from pheu.reports.models import SalesTarget


@admin.register(SalesTarget)
class SalesTargetAdmin(ConfigurationAdmin):
    list_display = ("month", "team", "amount")
    list_filter = ("team",)
    date_hierarchy = "month"
