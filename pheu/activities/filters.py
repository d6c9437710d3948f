"""One FilterSet of activities for the API list (and any export): by record, person, type and state."""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from pheu.activities.choices import ActivityKind, ActivityState
from pheu.activities.models import Activity

_ID = {"min_value": 1, "max_value": 2**63 - 1, "decimal_places": 0}


class ActivityFilterSet(filters.FilterSet):
    lead = filters.NumberFilter(field_name="lead_id", label=_("Lead"), **_ID)
    partner = filters.NumberFilter(field_name="partner_id", label=_("Customer"), **_ID)
    assignee = filters.NumberFilter(field_name="assignee_id", label=_("Assigned to"), **_ID)
    kind = filters.ChoiceFilter(choices=ActivityKind.choices, label=_("Type"))
    state = filters.ChoiceFilter(choices=ActivityState.choices, method="filter_state", label=_("State"))
    mine = filters.BooleanFilter(method="filter_mine", label=_("Mine"))
    due_after = filters.DateFilter(field_name="due_date", lookup_expr="gte", label=_("Due from"))
    due_before = filters.DateFilter(field_name="due_date", lookup_expr="lte", label=_("Due until"))

    class Meta:
        model = Activity
        fields: list[str] = []

    def filter_state(self, queryset: QuerySet[Activity], name: str, value: Any) -> QuerySet[Activity]:
        return queryset.in_state(value) if value else queryset  # type: ignore[attr-defined]  # the FilterSet's queryset: an ActivityQuerySet

    def filter_mine(self, queryset: QuerySet[Activity], name: str, value: Any) -> QuerySet[Activity]:
        request = getattr(self, "request", None)
        if value and request is not None:
            return queryset.filter(assignee=request.user)
        return queryset
