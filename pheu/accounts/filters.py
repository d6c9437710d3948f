"""Filters of the user list (API and pages)."""

from __future__ import annotations

import django_filters as filters
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from pheu.accounts.models import Role, User
from pheu.lib.text import text_key


class UserFilterSet(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    role = filters.ChoiceFilter(choices=Role.choices, label=_("Role"))
    active = filters.BooleanFilter(field_name="is_active", label=_("Active"))
    team = filters.NumberFilter(
        method="filter_team", label=_("Member of team"), min_value=1, max_value=2**63 - 1, decimal_places=0
    )

    class Meta:
        model = User
        fields: list[str] = []

    def filter_search(self, queryset: QuerySet[User], name: str, value: str) -> QuerySet[User]:
        # Few users: a case-insensitive match on the typed text is enough (no accent key stored).
        text = value.strip()
        if not text_key(text):
            return queryset
        return queryset.filter(
            Q(username__icontains=text)
            | Q(first_name__icontains=text)
            | Q(last_name__icontains=text)
            | Q(email__icontains=text)
        )

    def filter_team(self, queryset: QuerySet[User], name: str, value: int | None) -> QuerySet[User]:
        if value is None:
            return queryset
        return queryset.filter(team_memberships__team_id=value, team_memberships__active=True).distinct()
