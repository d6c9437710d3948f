"""One FilterSet of customers for the list page, the API and exports.

``search`` is accent- and case-insensitive: every word must appear in the name ("nguyen" finds
"Nguyễn"), or the whole text in the e-mail address. By default only active customers are listed
(``active=false`` shows the archived ones).
"""

from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from pheu.contacts.models import Country, Partner, Tag
from pheu.core.filters import OrderingFilter
from pheu.lib.text import text_key


class PartnerFilterSet(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    is_company = filters.BooleanFilter(label=_("Is a company"))
    # Bounded whole numbers: an id beyond the database's integer range is a 400, not a database error.
    parent = filters.NumberFilter(
        field_name="parent_id", label=_("Company"), min_value=1, max_value=2**63 - 1, decimal_places=0
    )
    country = filters.ModelChoiceFilter(
        queryset=Country.objects.all(), to_field_name="code", label=_("Country")
    )
    tags = filters.ModelChoiceFilter(queryset=Tag.objects.all(), label=_("Tag"))
    active = filters.BooleanFilter(method="filter_active", label=_("Active"))
    email = filters.CharFilter(method="filter_email", label=_("E-mail"))
    ordering = OrderingFilter(fields=("name", "created_at", "updated_at"), label=_("Sort by"))

    class Meta:
        model = Partner
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[Partner]) -> QuerySet[Partner]:
        if self.form.cleaned_data.get("active") is None:
            queryset = queryset.filter(active=True)
        return super().filter_queryset(queryset)

    def filter_active(self, queryset: QuerySet[Partner], name: str, value: bool) -> QuerySet[Partner]:
        return queryset.filter(active=value)

    def filter_search(self, queryset: QuerySet[Partner], name: str, value: str) -> QuerySet[Partner]:
        if not text_key(value):
            return queryset
        by_email = queryset.filter(email_normalized__contains=value.strip().lower())
        return queryset.search(value) | by_email  # type: ignore[attr-defined]  # the FilterSet's queryset: a PartnerQuerySet

    def filter_email(self, queryset: QuerySet[Partner], name: str, value: str) -> QuerySet[Partner]:
        return queryset.filter(email_normalized=value.strip().lower()) if value else queryset


class CountryFilterSet(filters.FilterSet):
    """``search`` matches the code or any name, accent-insensitive ("viet" finds Việt Nam)."""

    search = filters.CharFilter(method="filter_search", label=_("Search"))

    class Meta:
        model = Country
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[Country], name: str, value: str) -> QuerySet[Country]:
        key = text_key(value)
        return queryset.filter(name_keys__contains=key) if key else queryset
