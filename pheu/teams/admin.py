from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from pheu.core.admin import ConfigurationAdmin
from pheu.core.forms import DomainField
from pheu.teams.models import Team, TeamMember


class DomainFieldAdminMixin:
    """Assignment rules edited with the domain field: live preview, and a rule with problems is refused
    with every problem's message."""

    domain_fields: tuple[str, ...] = ("assignment_domain",)

    def formfield_for_dbfield(
        self, db_field: models.Field, request: HttpRequest | None, **kwargs: Any
    ) -> forms.Field | None:
        if db_field.name in self.domain_fields:
            return DomainField(
                schema="lead",
                required=not db_field.blank,
                label=str(db_field.verbose_name).capitalize(),
                help_text=db_field.help_text,
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]  # a mixin: super() is the admin it is mixed into


class TeamMemberInline(DomainFieldAdminMixin, admin.TabularInline):
    model = TeamMember
    extra = 0
    fields = ("user", "capacity", "weight", "optout", "active", "assignment_domain")

    def has_view_permission(self, request, obj=None):
        return bool(getattr(request.user, "manages_configuration", False))

    has_add_permission = has_change_permission = has_delete_permission = has_view_permission


@admin.register(Team)
class TeamAdmin(DomainFieldAdminMixin, ConfigurationAdmin):
    list_display = ("name", "leader", "sequence", "use_leads", "min_score", "assignment_optout", "active")
    list_filter = ("active", "use_leads", "assignment_optout")
    search_fields = ("name", "email_alias")
    inlines = (TeamMemberInline,)

    class Media:
        # The admin has neither htmx nor Pheu's styles; the domain field's live preview needs both.
        js = ("vendor/htmx/htmx.min.js", "pheu/admin.js")
        css = {"all": ("pheu/admin.css",)}
