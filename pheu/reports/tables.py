"""Each report as it is shown: the rows of its service in tables (with their totals) and a chart. The page,
the API and the exports all render the :class:`~pheu.reports.facts.Report` built here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from pheu.core.models import PheuSettings
from pheu.reports import services
from pheu.reports.facts import Chart, Column, Report, ReportFilters, Series, Table


def _sums(rows: Iterable[Any], keys: Iterable[str]) -> dict[str, Any]:
    rows = list(rows)
    return (
        {key: sum((getattr(row, key) for row in rows), start=type(getattr(rows[0], key))(0)) for key in keys}
        if rows
        else {key: 0 for key in keys}
    )


def _ratio(part: Any, whole: Any) -> Decimal | None:
    return services.percent(part, whole)  # the same rounding as the rows


def _by(rows: Iterable[Any], key: Callable[[Any], str], fields: tuple[str, ...]) -> dict[str, list[Any]]:
    """Rows summed by ``key`` (in first-seen order): the chart's bars over a table's groups."""
    out: dict[str, list[Any]] = {}
    for row in rows:
        sums = out.setdefault(key(row), [0] * len(fields))
        for index, name in enumerate(fields):
            sums[index] += getattr(row, name)
    return out


@dataclass(frozen=True)
class ReportKind:
    name: str
    title: Any
    description: Any
    build: Callable[[Any, ReportFilters], tuple[tuple[Table, ...], Chart]]
    filters: tuple[str, ...] = ("dates",)  # which filter fields the page offers beyond team/user/domain
    default_days: int | None = None  # the default period: the last that many days (None: 12 months)


TOTAL = _("Total")


def _pipeline(user: Any, filters: ReportFilters) -> tuple[tuple[Table, ...], Chart]:
    rows = services.pipeline_rows(user=user, filters=filters)
    totals = {"stage": TOTAL, **_sums(rows, ("count", "expected_revenue", "weighted_revenue"))}
    table = Table(
        "pipeline",
        _("Pipeline by stage, team and salesperson"),
        (
            Column("stage", _("Stage")),
            Column("team", _("Team")),
            Column("salesperson", _("Salesperson")),
            Column("count", _("Opportunities"), "count"),
            Column("expected_revenue", _("Expected revenue"), "money"),
            Column("weighted_revenue", _("Weighted revenue"), "money"),
        ),
        tuple(rows),
        totals,
    )
    stages = _by(rows, lambda row: row.stage, ("expected_revenue", "weighted_revenue", "count"))
    chart = Chart(
        "bar",
        tuple(stages),
        (
            Series(_("Expected revenue"), tuple(v[0] for v in stages.values())),
            Series(_("Weighted revenue"), tuple(v[1] for v in stages.values())),
            Series(_("Opportunities"), tuple(v[2] for v in stages.values()), "line", "y1"),
        ),
        right_axis="count",
    )
    return (table,), chart


def _forecast(user: Any, filters: ReportFilters) -> tuple[tuple[Table, ...], Chart]:
    rows = services.forecast_rows(user=user, filters=filters)
    totals = {"label": TOTAL, **_sums(rows, ("count", "expected_revenue", "weighted_revenue", "won_revenue"))}
    targets = [row.target for row in rows if row.target is not None]
    if targets:
        totals["target"] = sum(targets, start=Decimal(0))
    table = Table(
        "forecast",
        _("Forecast by expected closing month"),
        (
            Column("label", _("Month")),
            Column("count", _("Opportunities"), "count"),
            Column("expected_revenue", _("Expected revenue"), "money"),
            Column("weighted_revenue", _("Weighted revenue"), "money"),
            Column("won_revenue", _("Won so far"), "money"),
            Column("target", _("Target"), "money"),
            Column("attainment", _("Won / target"), "percent"),
        ),
        tuple(rows),
        totals,
    )
    series = [
        Series(_("Expected revenue"), tuple(row.expected_revenue for row in rows)),
        Series(_("Weighted revenue"), tuple(row.weighted_revenue for row in rows)),
        Series(_("Won so far"), tuple(row.won_revenue for row in rows)),
    ]
    if targets:
        series.append(Series(_("Target"), tuple(row.target for row in rows), "line"))
    return (table,), Chart("bar", tuple(row.label for row in rows), tuple(series))


def _funnel(user: Any, filters: ReportFilters) -> tuple[tuple[Table, ...], Chart]:
    rows = services.funnel_rows(user=user, filters=filters)
    lost = services.lost_reason_rows(user=user, filters=filters)
    sums = _sums(rows, ("created", "converted", "won", "lost", "won_revenue"))
    totals = {
        "label": TOTAL,
        **sums,
        "conversion_rate": _ratio(sums["converted"], sums["created"]),
        "won_rate": _ratio(sums["won"], sums["converted"]),
        "win_rate": _ratio(sums["won"], sums["won"] + sums["lost"]),
    }
    group_label = {"period": _("Period"), "team": _("Team"), "user": _("Salesperson"), "source": _("Source")}
    table = Table(
        "funnel",
        _("Funnel: created → opportunity → won"),
        (
            Column("label", group_label.get(filters.group, _("Period"))),
            Column("created", _("New records"), "count"),
            Column("converted", _("Opportunities"), "count"),
            Column("won", _("Won"), "count"),
            Column("lost", _("Lost"), "count"),
            Column("conversion_rate", _("To opportunity"), "percent"),
            Column("won_rate", _("Opportunity → won"), "percent"),
            Column("win_rate", _("Win rate"), "percent"),
            Column("won_revenue", _("Won revenue"), "money"),
            Column("days_to_convert", _("Median days to opportunity"), "days"),
            Column("days_to_win", _("Median days to won"), "days"),
        ),
        tuple(rows),
        totals,
    )
    lost_table = Table(
        "lost_reasons",
        _("Lost, by lost reason"),
        (
            Column("lost_reason", _("Lost reason")),
            Column("count", _("Records"), "count"),
            Column("expected_revenue", _("Expected revenue"), "money"),
        ),
        tuple(lost),
        {"lost_reason": TOTAL, **_sums(lost, ("count", "expected_revenue"))},
    )
    chart = Chart(
        "bar",
        tuple(row.label for row in rows),
        (
            Series(_("New records"), tuple(row.created for row in rows)),
            Series(_("Opportunities"), tuple(row.converted for row in rows)),
            Series(_("Won"), tuple(row.won for row in rows)),
            Series(_("Win rate"), tuple(row.win_rate for row in rows), "line", "y1"),
        ),
        money_axis=False,
        right_axis="percent",
    )
    return (table, lost_table), chart


def _sources(user: Any, filters: ReportFilters) -> tuple[tuple[Table, ...], Chart]:
    rows = services.source_rows(user=user, filters=filters)
    sums = _sums(rows, ("leads", "opportunities", "won", "lost", "won_revenue"))
    totals = {"source": TOTAL, **sums, "win_rate": _ratio(sums["won"], sums["won"] + sums["lost"])}
    table = Table(
        "sources",
        _("Sources, mediums and campaigns"),
        (
            Column("source", _("Source")),
            Column("medium", _("Medium")),
            Column("campaign", _("Campaign")),
            Column("leads", _("Leads"), "count"),
            Column("opportunities", _("Opportunities"), "count"),
            Column("won", _("Won"), "count"),
            Column("lost", _("Lost"), "count"),
            Column("won_revenue", _("Won revenue"), "money"),
            Column("win_rate", _("Win rate"), "percent"),
        ),
        tuple(rows),
        totals,
    )
    by_source = _by(rows, lambda row: row.source, ("won_revenue", "leads", "won"))
    chart = Chart(
        "bar",
        tuple(by_source),
        (
            Series(_("Won revenue"), tuple(v[0] for v in by_source.values())),
            Series(_("Leads"), tuple(v[1] for v in by_source.values()), "line", "y1"),
            Series(_("Won"), tuple(v[2] for v in by_source.values()), "line", "y1"),
        ),
        right_axis="count",
    )
    return (table,), chart


def _assignment(user: Any, filters: ReportFilters) -> tuple[tuple[Table, ...], Chart]:
    rows = services.member_rows(user=user, filters=filters)
    waiting = services.waiting_rows(user=user, filters=filters)
    members = Table(
        "members",
        _("Members: leads received in the last 30 days against capacity"),
        (
            Column("team", _("Team")),
            Column("salesperson", _("Salesperson")),
            Column("received", _("Received (30 days)"), "count"),
            Column("capacity", _("Capacity"), "count"),
            Column("load", _("Load"), "percent"),
            Column("away", _("Away")),
            Column("available", _("Takes leads now"), "yesno"),
            Column("assigned", _("Assigned in the period"), "count"),
            Column("untouched", _("Without activity"), "count"),
            Column("days_to_first_activity", _("Median days to first activity"), "days"),
        ),
        tuple(rows),
        {"team": TOTAL, **_sums(rows, ("received", "capacity", "assigned", "untouched"))},
    )
    waiting_table = Table(
        "waiting",
        _("Leads waiting without a salesperson, and why"),
        (Column("label", _("Reason")), Column("count", _("Leads"), "count")),
        tuple(waiting),
        {"label": TOTAL, **_sums(waiting, ("count",))},
    )
    chart = Chart(
        "bar",
        tuple(f"{row.salesperson} ({row.team})" for row in rows),
        (
            Series(_("Received (30 days)"), tuple(row.received for row in rows)),
            Series(_("Capacity"), tuple(row.capacity for row in rows)),
        ),
        money_axis=False,
    )
    return (members, waiting_table), chart


def _activities(user: Any, filters: ReportFilters) -> tuple[tuple[Table, ...], Chart]:
    rows = services.activity_rows(user=user, filters=filters)
    table = Table(
        "activities",
        _("Activities per person and type"),
        (
            Column("person", _("Assigned to")),
            Column("kind_label", _("Type")),
            Column("done", _("Done in the period"), "count"),
            Column("overdue", _("Overdue"), "count"),
            Column("today", _("Today"), "count"),
            Column("planned", _("Planned"), "count"),
        ),
        tuple(rows),
        {"person": TOTAL, **_sums(rows, ("done", "overdue", "today", "planned"))},
    )
    people = _by(rows, lambda row: row.person, ("done", "overdue", "today", "planned"))
    names = (_("Done in the period"), _("Overdue"), _("Today"), _("Planned"))
    chart = Chart(
        "bar",
        tuple(people),
        tuple(
            Series(name, tuple(v[i] for v in people.values()), stack="all") for i, name in enumerate(names)
        ),
        money_axis=False,
    )
    return (table,), chart


REPORTS: dict[str, ReportKind] = {
    kind.name: kind
    for kind in (
        ReportKind(
            "pipeline",
            _("Pipeline"),
            _("Open opportunities by stage, team and salesperson: count, expected and weighted revenue."),
            _pipeline,
            ("as_of",),
        ),
        ReportKind(
            "forecast",
            _("Forecast"),
            _("Open opportunities by expected closing month, what was won, against the teams' targets."),
            _forecast,
            (),
        ),
        ReportKind(
            "funnel",
            _("Funnel and win rate"),
            _("Records created → opportunities → won, conversion rates, median days, lost reasons."),
            _funnel,
            ("dates", "period", "group"),
        ),
        ReportKind(
            "sources",
            _("Sources and campaigns"),
            _("Leads, opportunities, won count and revenue, win rate per source, medium and campaign."),
            _sources,
        ),
        ReportKind(
            "assignment",
            _("Assignment"),
            _("Leads received against capacity, away periods, time to first activity, leads waiting."),
            _assignment,
            default_days=30,  # as the capacity's window
        ),
        ReportKind(
            "activities",
            _("Activities"),
            _("Done, overdue, today's and planned activities per person and type."),
            _activities,
        ),
    )
}


def build_report(name: str, *, user: Any, filters: ReportFilters) -> Report:
    """The report ``name`` (a key of :data:`REPORTS`) as ``user`` may see it."""
    kind = REPORTS[name]
    tables, chart = kind.build(user, filters)
    return Report(name, kind.title, filters, tables, chart, PheuSettings.load().currency)
