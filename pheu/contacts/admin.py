from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest

from pheu.contacts.models import Country, Partner, Tag
from pheu.core.admin import ConfigurationAdmin, ReadOnlyAdmin


@admin.register(Tag)
class TagAdmin(ConfigurationAdmin):
    list_display = ("name", "color")
    search_fields = ("name",)


@admin.register(Country)
class CountryAdmin(ConfigurationAdmin):
    """The ISO list comes from pycountry; only the names may be adjusted."""

    list_display = ("code", "code3", "name_vi", "name_en")
    search_fields = ("code", "code3", "name_vi", "name_en", "name_keys")
    readonly_fields = ("code", "code3")
    fields = ("code", "code3", "name_vi", "name_en")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Partner)
class PartnerAdmin(ReadOnlyAdmin):
    list_display = ("name", "is_company", "parent", "email", "phone", "city", "country", "active")
    list_filter = ("is_company", "active", "country", "tags")
    search_fields = ("name",)  # shows the search box; the search itself is get_search_results
    list_select_related = ("parent", "country")
    show_full_result_count = False

    def get_search_results(self, request, queryset, search_term):
        # Accent-insensitive on the name (as on the customer list), or the exact e-mail or tax id.
        term = search_term.strip()
        if not term:
            return queryset, False
        found = (
            Q(pk__in=Partner.objects.search(term).values("pk"))
            | Q(email_normalized=term.lower())
            | Q(vat=term)
        )
        return queryset.filter(found), False
