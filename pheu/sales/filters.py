"""FilterSets of quotations, orders and products, shared by the list pages and the API."""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from pheu.core.filters import OrderingFilter
from pheu.sales.choices import OrderState, QuotationState
from pheu.sales.models import Order, Product, Quotation

_ID = {"min_value": 1, "max_value": 2**63 - 1, "decimal_places": 0}


class _DocumentFilterSet(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    lead = filters.NumberFilter(field_name="lead_id", label=_("Opportunity"), **_ID)
    partner = filters.NumberFilter(field_name="partner_id", label=_("Customer"), **_ID)
    user = filters.NumberFilter(field_name="user_id", label=_("Salesperson"), **_ID)
    team = filters.NumberFilter(field_name="team_id", label=_("Sales team"), **_ID)
    ordering = OrderingFilter(fields=("created_at", "total"), label=_("Sort by"))

    def filter_search(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.search(value)  # type: ignore[attr-defined]  # the FilterSet's queryset: a SalesDocumentQuerySet


class QuotationFilterSet(_DocumentFilterSet):
    state = filters.ChoiceFilter(choices=QuotationState.choices, label=_("Status"))

    class Meta:
        model = Quotation
        fields: list[str] = []


class OrderFilterSet(_DocumentFilterSet):
    state = filters.ChoiceFilter(choices=OrderState.choices, label=_("Status"))

    class Meta:
        model = Order
        fields: list[str] = []


class ProductFilterSet(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    active = filters.BooleanFilter(label=_("Active"))
    code = filters.CharFilter(label=_("Code"))

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        return queryset.search(value)  # type: ignore[attr-defined]  # the FilterSet's queryset: a ProductQuerySet
