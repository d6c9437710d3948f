from __future__ import annotations

from django.contrib import admin

from pheu.core.admin import ConfigurationAdmin
from pheu.teams.models import Team, TeamMember


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 0
    fields = ("user", "capacity", "weight", "optout", "active", "assignment_domain")

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return bool(getattr(request.user, "manages_configuration", False))

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(Team)
class TeamAdmin(ConfigurationAdmin):
    list_display = ("name", "leader", "sequence", "use_leads", "min_score", "assignment_optout", "active")
    list_filter = ("active", "use_leads", "assignment_optout")
    search_fields = ("name", "email_alias")
    inlines = (TeamMemberInline,)
