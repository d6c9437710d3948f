"""One FilterSet for the lead list page, the API list and exports (netbox's rule: one filter, every view).

Query parameters use the API's field names; relations filter by id (``team=3``), country by ISO code.
``search`` is accent-insensitive over name, company, contact, e-mail and phones. ``mine=1`` narrows to the
requesting user's own records. By default only active records are listed (``active=false`` shows lost and
merged-away ones).

``domain`` is a rule-language domain (SPEC section 2) as typed — JSON or a Python literal, such as
``[['country_id', 'in', ['United States', 'Canada']]]`` — applied after visibility, so it only narrows. A
domain that cannot be read is a form error naming every problem (the API answers 400 with
``{"domain": [messages]}``; the page shows them next to the field) and then selects nothing, never
everything.
"""

from __future__ import annotations

from typing import Any

import django_filters as filters
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from pheu.accounts.models import User
from pheu.contacts.models import Country, Tag
from pheu.core.filters import OrderingFilter
from pheu.leads.choices import LeadPriority, LeadRating, LeadType, WonStatus
from pheu.leads.models import Campaign, Lead, Medium, Source, Stage
from pheu.rules import CleanDomain, DomainError, clean_domain
from pheu.teams.models import Team

ORDERING_FIELDS = (
    "created_at",
    "updated_at",
    "name",
    "company_name",
    "expected_revenue",
    "probability",
    ("score_row__score", "score"),  # the score lives in its own table (LeadScore)
    "priority",
    "expected_close_date",
    "stage_changed_at",
    "assigned_at",
)


class DomainFormField(forms.CharField):
    """A domain over leads as typed; cleans to a :class:`CleanDomain` (None when blank)."""

    def clean(self, value: Any) -> CleanDomain | None:
        text = super().clean(value)
        if not text:
            return None
        try:
            return clean_domain(text, "lead")
        except DomainError as exc:
            raise forms.ValidationError(exc.messages, code=str(exc.code)) from exc


class DomainFilter(filters.CharFilter):
    field_class = DomainFormField

    def filter(self, qs: QuerySet[Lead], value: CleanDomain | None) -> QuerySet[Lead]:
        if value is None:
            return qs
        return qs.matching(value.domain)  # type: ignore[attr-defined]  # the FilterSet's queryset: a LeadQuerySet


class LeadFilterSet(filters.FilterSet):
    search = filters.CharFilter(method="filter_search", label=_("Search"))
    type = filters.ChoiceFilter(choices=LeadType.choices, label=_("Type"))
    team = filters.ModelChoiceFilter(queryset=Team.objects.all(), label=_("Sales team"))
    user = filters.ModelChoiceFilter(queryset=User.objects.all(), label=_("Salesperson"))
    unassigned = filters.BooleanFilter(field_name="user", lookup_expr="isnull", label=_("Unassigned"))
    stage = filters.ModelChoiceFilter(queryset=Stage.objects.all(), label=_("Stage"))
    won_status = filters.ChoiceFilter(choices=WonStatus.choices, label=_("Status"))
    active = filters.BooleanFilter(method="filter_active", label=_("Active"))
    rating = filters.ChoiceFilter(choices=LeadRating.choices, label=_("Rating"))
    # django-filter's ChoiceFilter, for its empty choice (shown "All" on the pages): with the typed filter the
    # select had none, and showed — and looked set to — "Normal" when no priority was chosen.
    priority = filters.ChoiceFilter(choices=LeadPriority.choices, label=_("Priority"))
    tags = filters.ModelChoiceFilter(queryset=Tag.objects.all(), label=_("Tag"))
    country = filters.ModelChoiceFilter(
        queryset=Country.objects.all(), to_field_name="code", label=_("Country")
    )
    campaign = filters.ModelChoiceFilter(queryset=Campaign.objects.all(), label=_("Campaign"))
    source = filters.ModelChoiceFilter(queryset=Source.objects.all(), label=_("Source"))
    medium = filters.ModelChoiceFilter(queryset=Medium.objects.all(), label=_("Medium"))
    # Bounded whole numbers: an id beyond the database's integer range is a 400, not a database error.
    partner = filters.NumberFilter(
        field_name="partner_id", label=_("Customer"), min_value=1, max_value=2**63 - 1, decimal_places=0
    )
    email = filters.CharFilter(method="filter_email", label=_("E-mail"))
    external_id = filters.CharFilter(label=_("External ID"))
    created_after = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("Created from")
    )
    created_before = filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("Created before")
    )
    score_min = filters.NumberFilter(
        field_name="score_row__score", lookup_expr="gte", label=_("Score at least")
    )
    mine = filters.BooleanFilter(method="filter_mine", label=_("My records"))
    domain = DomainFilter(
        label=_("Rule"),
        help_text=_(
            "A rule-language domain, as JSON or a Python literal, "
            "e.g. [['country_id', 'in', ['United States', 'Canada']]]."
        ),
    )
    ordering = OrderingFilter(fields=ORDERING_FIELDS, label=_("Sort by"))

    class Meta:
        model = Lead
        fields: list[str] = []

    def filter_queryset(self, queryset: QuerySet[Lead]) -> QuerySet[Lead]:
        if "domain" in self.form.errors:
            # An unreadable rule narrows to nothing: a filter never widens the list to every record.
            return queryset.none()
        # Active records only, unless the request asks about `active` itself.
        if self.form.cleaned_data.get("active") is None:
            queryset = queryset.filter(active=True)
        return super().filter_queryset(queryset)

    def filter_active(self, queryset: QuerySet[Lead], name: str, value: Any) -> QuerySet[Lead]:
        return queryset.filter(active=value)

    def filter_search(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return queryset.search(value) if value else queryset  # type: ignore[attr-defined]  # the FilterSet's queryset: a LeadQuerySet

    def filter_email(self, queryset: QuerySet[Lead], name: str, value: str) -> QuerySet[Lead]:
        return queryset.filter(email_normalized=value.strip().lower()) if value else queryset

    def filter_mine(self, queryset: QuerySet[Lead], name: str, value: Any) -> QuerySet[Lead]:
        user = getattr(self.request, "user", None)
        if value and user is not None and user.is_authenticated:
            return queryset.filter(user=user)
        return queryset
