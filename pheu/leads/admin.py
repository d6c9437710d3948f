from __future__ import annotations

from django.contrib import admin
from django.db.models import Q

from pheu.core.admin import ConfigurationAdmin, ReadOnlyAdmin
from pheu.leads.models import Campaign, Lead, LostReason, Medium, Source, Stage


@admin.register(Stage)
class StageAdmin(ConfigurationAdmin):
    list_display = ("name", "team", "sequence", "probability", "is_won", "folded", "rotting_days")
    list_filter = ("team", "is_won", "folded")
    list_editable = ("sequence",)
    search_fields = ("name",)


@admin.register(LostReason)
class LostReasonAdmin(ConfigurationAdmin):
    list_display = ("name", "active")
    list_filter = ("active",)
    search_fields = ("name",)


class UtmAdmin(ConfigurationAdmin):
    list_display = ("name", "active")
    list_filter = ("active",)
    search_fields = ("name",)


admin.site.register(Campaign, UtmAdmin)
admin.site.register(Source, UtmAdmin)
admin.site.register(Medium, UtmAdmin)


@admin.register(Lead)
class LeadAdmin(ReadOnlyAdmin):
    """Leads are looked up here; they are changed on their page, which keeps the history."""

    list_display = (
        "name",
        "type",
        "company_name",
        "email",
        "team",
        "user",
        "stage",
        "won_status",
        "expected_revenue",
        "created_at",
    )
    list_filter = (
        "type",
        "won_status",
        "active",
        "team",
        "stage",
        "rating",
        "source",
        "medium",
        "campaign",
        "tags",
    )
    search_fields = ("name",)  # shows the search box; the search itself is get_search_results
    list_select_related = ("team", "user", "stage")
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # The list page's accent-insensitive search ("nguyen van" finds "Nguyễn Văn An"), or an external id.
        if not search_term.strip():
            return queryset, False
        found = Q(pk__in=Lead.objects.search(search_term).values("pk")) | Q(external_id=search_term.strip())
        return queryset.filter(found), False
