"""Scoring in the admin site: rules (written through the services, which re-score the open leads), and
page views and re-scorings to search and check (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from pheu.core.admin import ConfigurationAdmin, ReadOnlyAdmin
from pheu.scoring.models import PageView, RescoreRun, ScoringRule
from pheu.scoring.services import RULE_FIELDS, create_scoring_rule, delete_scoring_rule, update_scoring_rule
from pheu.teams.admin import DomainFieldAdminMixin


@admin.register(ScoringRule)
class ScoringRuleAdmin(DomainFieldAdminMixin, ConfigurationAdmin):
    domain_fields = ("domain",)
    list_display = ("name", "points", "window_days", "active", "sequence", "updated_at")
    list_filter = ("active",)
    search_fields = ("name", "domain")
    fields = RULE_FIELDS
    actions = None  # a bulk delete would skip the re-scoring

    class Media:
        js = ("vendor/htmx/htmx.min.js", "pheu/admin.js")
        css = {"all": ("pheu/admin.css",)}

    def save_model(self, request: HttpRequest, obj: ScoringRule, form: ModelForm, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in RULE_FIELDS if name in form.cleaned_data}
        if change:
            saved, _outcome = update_scoring_rule(actor=request.user, rule=obj, values=values)
        else:
            saved, _outcome = create_scoring_rule(actor=request.user, values=values)
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: ScoringRule) -> None:
        delete_scoring_rule(actor=request.user, rule=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ScoringRule]) -> None:
        for rule in queryset:
            delete_scoring_rule(actor=request.user, rule=rule)


@admin.register(PageView)
class PageViewAdmin(ReadOnlyAdmin):
    list_display = ("url", "lead", "visitor_id", "email_normalized", "created_at")
    search_fields = ("url", "visitor_id", "email_normalized")
    raw_id_fields = ("lead",)
    list_select_related = ("lead",)
    date_hierarchy = "created_at"


@admin.register(RescoreRun)
class RescoreRunAdmin(ReadOnlyAdmin):
    list_display = ("reason", "status", "total", "done", "changed", "created_by", "created_at", "finished_at")
    list_filter = ("status",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in RescoreRun._meta.fields]
