"""The values a report hands to its page, API and export: filters in, typed rows out, and the table and chart
that present them (frozen dataclasses; nothing here reads the database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pheu.rules import Domain

PERIODS = ("week", "month", "quarter")
FUNNEL_GROUPS = ("period", "team", "user", "source")


@dataclass(frozen=True)
class ReportFilters:
    """What every report is narrowed by, after the reader's visibility (each only narrows).

    ``date_from``/``date_to`` are local dates, both included. ``as_of`` (pipeline only): the records open at
    the end of that day instead of those open now. ``period`` and ``group``: the funnel's buckets.
    """

    date_from: dt.date
    date_to: dt.date
    team_id: int | None = None
    user_id: int | None = None
    domain: Domain | None = field(default=None, compare=False, repr=False)
    domain_text: str = ""
    period: str = "month"
    group: str = "period"
    as_of: dt.date | None = None

    def query(self) -> dict[str, str]:
        """The filters as the query string that selects them again (links, exports, the API)."""
        values = {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "team": str(self.team_id or ""),
            "user": str(self.user_id or ""),
            "domain": self.domain_text,
            "period": self.period,
            "group": self.group,
            "as_of": self.as_of.isoformat() if self.as_of else "",
        }
        return {key: value for key, value in values.items() if value}


# --- rows of each report ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class PipelineRow:
    stage_id: int | None
    stage: str
    team_id: int | None
    team: str
    user_id: int | None
    salesperson: str
    count: int
    expected_revenue: Decimal
    weighted_revenue: Decimal


@dataclass(frozen=True)
class ForecastRow:
    month: dt.date | None  # None: the overdue records (expected to close before today, still open)
    label: str
    count: int
    expected_revenue: Decimal
    weighted_revenue: Decimal
    won_revenue: Decimal
    target: Decimal | None  # None: no target applies to what the reader sees
    attainment: Decimal | None  # won / target, in percent


@dataclass(frozen=True)
class FunnelRow:
    key: str
    label: str
    created: int
    converted: int
    won: int
    lost: int
    won_revenue: Decimal
    conversion_rate: Decimal | None  # converted / created, percent
    won_rate: Decimal | None  # won / converted, percent
    win_rate: Decimal | None  # won / (won + lost), percent
    days_to_convert: Decimal | None  # median days from creation to conversion
    days_to_win: Decimal | None  # median days from conversion (or creation as an opportunity) to won


@dataclass(frozen=True)
class LostReasonRow:
    lost_reason_id: int | None
    lost_reason: str
    count: int
    expected_revenue: Decimal


@dataclass(frozen=True)
class SourceRow:
    source: str
    medium: str
    campaign: str
    leads: int
    opportunities: int
    won: int
    lost: int
    won_revenue: Decimal
    win_rate: Decimal | None


@dataclass(frozen=True)
class MemberRow:
    member_id: int
    team_id: int
    team: str
    user_id: int
    salesperson: str
    received: int  # leads given to them in the team in the last 30 days
    capacity: int
    load: Decimal | None  # received / capacity, percent to 0.1 (None: capacity 0)
    away: str  # "" or the away period, e.g. "2026-12-01 – 2026-12-24"
    available: bool  # takes leads now (active, not opted out, not away, capacity left)
    assigned: int  # leads assigned to them in the report's period (their records)
    untouched: int  # of those, without any activity yet
    days_to_first_activity: Decimal | None  # median, assignment → first activity


@dataclass(frozen=True)
class WaitingRow:
    reason: str  # a WaitingReason value
    label: str
    count: int


@dataclass(frozen=True)
class ActivityRow:
    user_id: int
    person: str
    kind: str
    kind_label: str
    done: int
    overdue: int
    today: int
    planned: int


# --- presentation ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """A column of a table: ``key`` names the row attribute; ``kind`` how it is written (text, count,
    money, percent, days, date)."""

    key: str
    label: Any
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    name: str
    title: Any
    columns: tuple[Column, ...]
    rows: tuple[Any, ...]
    totals: dict[str, Any] | None = None  # by column key; the sums of the rows, shown last

    def values(self, row: Any) -> list[Any]:
        return [getattr(row, column.key) for column in self.columns]

    def total_values(self) -> list[Any] | None:
        if self.totals is None:
            return None
        return [self.totals.get(column.key, "") for column in self.columns]


@dataclass(frozen=True)
class Series:
    label: Any
    values: tuple[Any, ...]
    kind: str = "bar"  # bar | line
    axis: str = "y"  # y (left) | y1 (right: counts or percents beside money)
    stack: str = ""


@dataclass(frozen=True)
class Chart:
    kind: str  # bar | line
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    money_axis: bool = True  # the left axis is money
    right_axis: str = ""  # "", "count" or "percent"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "labels": list(self.labels),
            "money_axis": self.money_axis,
            "right_axis": self.right_axis,
            "series": [
                {
                    "label": str(s.label),
                    "values": [None if v is None else float(v) for v in s.values],
                    "kind": s.kind,
                    "axis": s.axis,
                    "stack": s.stack,
                }
                for s in self.series
            ],
        }


@dataclass(frozen=True)
class Report:
    """One report as shown: its tables (the first is the main one) and its chart."""

    name: str
    title: Any
    filters: ReportFilters
    tables: tuple[Table, ...]
    chart: Chart
    currency: str = "VND"
    notes: tuple[Any, ...] = ()
