"""The admin site is where managers and administrators edit configuration records (SPEC section 11).

Access follows the roles, not Django's per-model permissions: sales managers edit configuration
(teams, stages, tags…), administrators also the settings and users. Records with a history (leads,
customers) are read-only here: their writes go through the pages and the API, which keep the history.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from pheu.core.models import PheuSettings

admin.site.site_header = _("Pheu configuration")
admin.site.site_title = _("Pheu")
admin.site.index_title = _("Configuration")


def _may_use_admin(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_staff or getattr(user, "manages_configuration", False)))


admin.site.has_permission = _may_use_admin  # type: ignore[method-assign]  # the admin's permission is ours


class ConfigurationAdmin(admin.ModelAdmin):
    """Configuration records: editable by sales managers and administrators."""

    def _allowed(self, request: HttpRequest) -> bool:
        return bool(getattr(request.user, "manages_configuration", False))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)


class AdministrationAdmin(ConfigurationAdmin):
    """Installation settings and users: administrators only."""

    def _allowed(self, request: HttpRequest) -> bool:
        return bool(getattr(request.user, "is_administrator", False))


class ReadOnlyAdmin(ConfigurationAdmin):
    """Shown for searching and checking; changed elsewhere (through the services that keep history)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PheuSettings)
class PheuSettingsAdmin(AdministrationAdmin):
    list_display = ("__str__", "currency", "use_leads", "realtime_assignment", "updated_at")
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One row (pk=1), created on first read.
        return super().has_add_permission(request) and not PheuSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
