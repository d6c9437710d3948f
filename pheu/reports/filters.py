"""The filters of every report, parsed once from a query string by the page, the API and the exports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pheu.accounts.models import User
from pheu.accounts.permissions import assignable_users
from pheu.leads.filters import DomainFormField
from pheu.reports.facts import FUNNEL_GROUPS, PERIODS, ReportFilters
from pheu.teams.models import Team

PERIOD_CHOICES = [("week", _("Week")), ("month", _("Month")), ("quarter", _("Quarter"))]
GROUP_CHOICES = [
    ("period", _("Period")),
    ("team", _("Team")),
    ("user", _("Salesperson")),
    ("source", _("Source")),
]


def default_period(today: dt.date | None = None, *, days: int | None = None) -> tuple[dt.date, dt.date]:
    """This month and the 11 before it (from the first day of the month 11 months ago to today), or with
    ``days`` the last that many days, today included."""
    today = today or timezone.localdate()
    if days is not None:
        return today - dt.timedelta(days=days - 1), today
    index = today.year * 12 + today.month - 1 - 11
    return dt.date(index // 12, index % 12 + 1, 1), today


def report_teams(user: Any) -> QuerySet[Team]:
    """The teams a reader may narrow a report to: all for managers, else those they lead or belong to."""
    teams = Team.objects.filter(active=True)
    if getattr(user, "sees_all_records", False):
        return teams
    return teams.filter(
        Q(pk__in=user.led_teams.values("pk"))
        | Q(pk__in=user.team_memberships.filter(active=True).values("team_id"))
    ).distinct()


class ReportFilterForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    as_of = forms.DateField(
        label=_("As of"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: the records open now."),
    )
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    user = forms.ModelChoiceField(label=_("Salesperson"), queryset=User.objects.none(), required=False)
    period = forms.ChoiceField(label=_("Per"), choices=PERIOD_CHOICES, required=False)
    group = forms.ChoiceField(label=_("Rows by"), choices=GROUP_CHOICES, required=False)
    domain = DomainFormField(
        label=_("Rule"),
        required=False,
        help_text=_("A rule-language domain on the records, e.g. [['country_id', '=', 'VN']]."),
    )

    def __init__(
        self, data: Any = None, *, user: Any, default_days: int | None = None, **kwargs: Any
    ) -> None:
        # The defaults written into the form, so that it shows the period and buckets the report uses.
        data = data.copy() if data is not None else QueryDict(mutable=True)
        start, end = self.default_period = default_period(days=default_days)
        for name, value in (
            ("date_from", start.isoformat()),
            ("date_to", end.isoformat()),
            ("period", "month"),
            ("group", "period"),
        ):
            if not data.get(name):
                data[name] = value
        super().__init__(data, **kwargs)
        self.fields["team"].queryset = report_teams(user)  # type: ignore[attr-defined]
        self.fields["user"].queryset = assignable_users(user).order_by("username")  # type: ignore[attr-defined]
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs.setdefault(
                "class", "form-select form-select-sm" if select else "form-control form-control-sm"
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period comes before its start."))
        return data

    def report_filters(self) -> ReportFilters:
        """The filters of a valid form (the defaults for what was left empty)."""
        data = self.cleaned_data
        default_from, default_to = self.default_period
        domain = data.get("domain")
        return ReportFilters(
            date_from=data.get("date_from") or default_from,
            date_to=data.get("date_to") or default_to,
            team_id=data["team"].pk if data.get("team") else None,
            user_id=data["user"].pk if data.get("user") else None,
            domain=domain.domain if domain is not None else None,
            domain_text=domain.text if domain is not None else "",
            period=data["period"] if data.get("period") in PERIODS else "month",
            group=data["group"] if data.get("group") in FUNNEL_GROUPS else "period",
            as_of=data.get("as_of"),
        )
