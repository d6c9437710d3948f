"""The home dashboards (the page after login), built from the reports' own queries.

A salesperson sees their day: today's and overdue activities, their pipeline by stage, the leads newly
given to them. A team leader or manager sees the month: this month against the last (new leads, won
revenue, win rate, median days from assignment to the first activity), the pipeline by stage, the forecast
of the next 3 months, and the leads waiting without a salesperson with their reason.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pheu.activities.models import Activity
from pheu.core.models import PheuSettings
from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead
from pheu.reports.facts import ForecastRow, ReportFilters, WaitingRow
from pheu.reports.models import AssignedRecord, ClosedDay, CohortDay
from pheu.reports.services import (
    assigned_records,
    forecast_rows,
    medians,
    month_start,
    percent,
    pipeline_rows,
    scoped_leads,
    start_of,
    summary_rows,
    waiting_rows,
)

NEW_LEAD_DAYS = 7


@dataclass(frozen=True)
class StageSum:
    stage: str
    count: int
    expected_revenue: Decimal
    weighted_revenue: Decimal


@dataclass(frozen=True)
class Figure:
    """One figure of "this month against the last"."""

    name: str
    label: Any
    kind: str  # count | money | percent | days
    current: Any
    previous: Any

    @property
    def change(self) -> Decimal | None:
        """The change in percent of the previous month's value (None when there was none)."""
        if self.current is None or not self.previous:
            return None
        return ((Decimal(self.current) - Decimal(self.previous)) * 100 / Decimal(self.previous)).quantize(
            Decimal("1")
        )


@dataclass(frozen=True)
class Dashboard:
    kind: str  # "salesperson" or "manager" (leaders and managers)
    currency: str
    month: dt.date
    stages: tuple[StageSum, ...]
    activities: tuple[Activity, ...] = ()
    new_leads: tuple[Lead, ...] = ()
    figures: tuple[Figure, ...] = ()
    forecast: tuple[ForecastRow, ...] = ()
    waiting: tuple[WaitingRow, ...] = ()
    links: dict[str, str] = field(default_factory=dict)


def _stages(user: Any, filters: ReportFilters) -> tuple[StageSum, ...]:
    sums: dict[str, list[Any]] = {}
    for row in pipeline_rows(user=user, filters=filters):
        entry = sums.setdefault(row.stage, [0, Decimal(0), Decimal(0)])
        entry[0] += row.count
        entry[1] += row.expected_revenue
        entry[2] += row.weighted_revenue
    return tuple(StageSum(stage, *values) for stage, values in sums.items())


def month_figures(*, user: Any, today: dt.date | None = None) -> tuple[Figure, ...]:
    """This month against the last, over the records ``user`` may see (2 queries)."""
    today = today or timezone.localdate()
    this, last = month_start(today), month_start(today, -1)
    since = start_of(last)
    this_start = start_of(this)
    leads = scoped_leads(user, ReportFilters(last, today))
    created_now, created_before = (
        Q(created_at__gte=this_start),
        Q(created_at__gte=since, created_at__lt=this_start),
    )
    closed_now, closed_before = (
        Q(closed_at__gte=this_start),
        Q(closed_at__gte=since, closed_at__lt=this_start),
    )
    won, lost = Q(won_status=WonStatus.WON), Q(won_status=WonStatus.LOST)
    filters = ReportFilters(last, today)
    cohort_days = summary_rows(CohortDay, user, filters, days=(last, today))
    closed = summary_rows(ClosedDay, user, filters, days=(last, today))
    figures: dict[str, Any]
    if cohort_days is not None and closed is not None:  # the summary rows (2 queries)
        figures = cohort_days.filter(day__gte=last).aggregate(
            new_now=Coalesce(Sum("created", filter=Q(day__gte=this)), 0),
            new_before=Coalesce(Sum("created", filter=Q(day__lt=this)), 0),
        )
        ended, ended_before = Q(day__gte=this), Q(day__lt=this)
        figures |= closed.filter(day__gte=last, merged=False).aggregate(
            won_now=Coalesce(Sum("won", filter=ended), 0),
            won_before=Coalesce(Sum("won", filter=ended_before), 0),
            lost_now=Coalesce(Sum("lost", filter=ended), 0),
            lost_before=Coalesce(Sum("lost", filter=ended_before), 0),
            revenue_now=Sum("won_revenue", filter=ended),
            revenue_before=Sum("won_revenue", filter=ended_before),
        )
    else:
        figures = (
            leads.filter(Q(created_at__gte=since) | Q(closed_at__gte=since))
            .filter(merged_into__isnull=True)
            .aggregate(
                new_now=Count("id", filter=created_now),
                new_before=Count("id", filter=created_before),
                won_now=Count("id", filter=won & closed_now),
                won_before=Count("id", filter=won & closed_before),
                lost_now=Count("id", filter=lost & closed_now),
                lost_before=Count("id", filter=lost & closed_before),
                revenue_now=Sum("expected_revenue", filter=won & closed_now),
                revenue_before=Sum("expected_revenue", filter=won & closed_before),
            )
        )
    assigned = assigned_records(user, filters, since=since).annotate(month=TruncMonth("assigned_at"))
    days = medians(assigned, group="month", values=("d",)).median["d"]

    def rate(won_n: int, lost_n: int) -> Decimal | None:
        return percent(won_n, won_n + lost_n)

    def rounded(value: float | None) -> Decimal | None:
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"))

    money = Decimal(0)
    return (
        Figure("new_leads", _("New leads"), "count", figures["new_now"], figures["new_before"]),
        Figure(
            "won_revenue",
            _("Won revenue"),
            "money",
            (figures["revenue_now"] or money),
            (figures["revenue_before"] or money),
        ),
        Figure(
            "win_rate",
            _("Win rate"),
            "percent",
            rate(figures["won_now"], figures["lost_now"]),
            rate(figures["won_before"], figures["lost_before"]),
        ),
        Figure(
            "days_to_first_activity",
            _("Median days to first activity"),
            "days",
            rounded(days.get(this)),
            rounded(days.get(last)),
        ),
    )


def dashboard(*, user: Any) -> Dashboard:
    today = timezone.localdate()
    currency = PheuSettings.load().currency
    month = month_start(today)
    links = {
        "pipeline": "",
        "forecast": "",
        "funnel": f"date_from={month_start(today, -11).isoformat()}&date_to={today.isoformat()}",
        "sources": f"date_from={month.isoformat()}&date_to={today.isoformat()}",
        "assignment": f"date_from={month_start(today, -1).isoformat()}&date_to={today.isoformat()}",
        "activities": f"date_from={month.isoformat()}&date_to={today.isoformat()}",
    }
    if not (user.sees_all_records or user.role == "team_leader"):
        mine = ReportFilters(month, today, user_id=user.pk)
        activities = (
            Activity.objects.visible_to(user)
            .assigned_to(user)
            .open()
            .filter(due_date__lte=today)
            .select_related("lead", "partner")
            .order_by("due_date", "id")[:20]
        )
        since = timezone.now() - dt.timedelta(days=NEW_LEAD_DAYS)
        # The records assigned to them lately, found by the assigned records' rows (by assignment time)
        # rather than among all of theirs.
        lately = AssignedRecord.objects.filter(user=user, assigned_at__gte=since).values("lead_id")
        new_leads = (
            Lead.objects.visible_to(user)
            .filter(user=user, active=True, assigned_at__gte=since, pk__in=lately)
            .select_related("stage")
            .order_by("-assigned_at", "-id")[:10]
        )
        links = {name: f"{query}&user={user.pk}".lstrip("&") for name, query in links.items()}
        return Dashboard(
            "salesperson",
            currency,
            month,
            _stages(user, mine),
            activities=tuple(activities),
            new_leads=tuple(new_leads),
            links=links,
        )
    everything = ReportFilters(month, today)
    return Dashboard(
        "manager",
        currency,
        month,
        _stages(user, everything),
        figures=month_figures(user=user, today=today),
        forecast=tuple(forecast_rows(user=user, filters=everything, months=3)),
        waiting=tuple(waiting_rows(user=user, filters=everything)),
        links=links,
    )
