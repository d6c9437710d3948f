"""The report queries: each reads the records the reader may see (``visible_to`` first, then the filters,
which only narrow) with one set-based ``GROUP BY`` and returns typed rows (:mod:`pheu.reports.facts`).

Pages, the API and the exports all call these functions, so what each shows is the same figures. No loop
over records: Python only walks the groups (stages × teams × salespeople, months, sources…).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncMonth, TruncQuarter, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _

from pheu.accounts.permissions import record_scope, scope_queryset
from pheu.activities.choices import ActivityKind
from pheu.activities.models import Activity
from pheu.assignment.facts import (
    BITS_PER_COLUMN,
    LEAD_COLUMNS,
    LeadRow,
    load_config,
    mask_columns,
    parse_rules,
    recent_count,
)
from pheu.assignment.services import (
    MemberLoad,
    Outcome,
    WaitingReason,
    plan_assignment,
    waiting_reason,
)
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.models import Lead, LeadScore
from pheu.lib.names import full_name
from pheu.reports.facts import (
    ActivityRow,
    ForecastRow,
    FunnelRow,
    LostReasonRow,
    MemberRow,
    PipelineRow,
    ReportFilters,
    SourceRow,
    WaitingRow,
)
from pheu.reports.models import (
    ActivityDay,
    AssignedRecord,
    ClosedDay,
    CohortDay,
    CohortStep,
    OpenTotal,
    SalesTarget,
)
from pheu.teams.models import Team, TeamMember

ZERO = Decimal(0)
CENT = Decimal("0.01")
MONEY: DecimalField[Any, Any] = DecimalField(max_digits=24, decimal_places=2)
FORECAST_MONTHS = 12


# --- shared pieces ---------------------------------------------------------------------------------------
class DaysBetween(Func):
    """Days (with fractions) from ``start`` to ``end``, both datetimes; NULL when either is."""

    output_field = FloatField()
    arity = 2

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="(julianday(%(expressions)s))",
            arg_joiner=") - julianday(",
            **extra,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            # In double precision, as the summaries' triggers compute it: a numeric (what EXTRACT gives)
            # sorts several times slower in the medians' windows.
            template="(EXTRACT(EPOCH FROM (%(expressions)s)) / 86400.0)::float8",
            arg_joiner=" - ",
            **extra,
        )

    def __init__(self, start: Any, end: Any) -> None:
        # (end - start): the expressions are given in that order to the templates above.
        super().__init__(end, start)


def _money(value: Any) -> Decimal:
    return (Decimal(str(value)) if value is not None else ZERO).quantize(CENT)


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1")) if whole else None


def _days(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"))


def person_label(first: str | None, last: str | None, username: str | None) -> str:
    return full_name(first, last) or (username or "")


def start_of(day: dt.date) -> dt.datetime:
    """The first instant of local ``day`` (aware)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def month_start(day: dt.date, shift: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 + shift
    return dt.date(index // 12, index % 12 + 1, 1)


def scoped_leads(user: Any, filters: ReportFilters) -> QuerySet[Lead]:
    """The records a report reads: what ``user`` may see (the one visibility rule), then the report's
    domain, team and salesperson — each of which only narrows."""
    leads = Lead.objects.visible_to(user)
    if filters.domain is not None:
        leads = leads.matching(filters.domain)
    if filters.team_id:
        leads = leads.filter(team_id=filters.team_id)
    if filters.user_id:
        leads = leads.filter(user_id=filters.user_id)
    return leads.order_by()


def whole_months(start: dt.date, end: dt.date) -> bool:
    """Whether the days ``start`` to ``end`` (both included) can be read from summary rows, whose days
    before the current month are folded into one row per month (:func:`pheu.reports.summaries.compact`):
    they start on a month's first day and end on a month's last day or in the current month or later."""
    return start.day == 1 and ((end + dt.timedelta(1)).day == 1 or end >= month_start(timezone.localdate()))


def summary_rows(
    model: Any, user: Any, filters: ReportFilters, *, days: tuple[dt.date, dt.date] | None = None
) -> QuerySet[Any] | None:
    """The summary rows (:mod:`pheu.reports.summaries`) of what ``user`` may see — the same visibility rule
    on the rows' team and salesperson — narrowed by the team and salesperson; None when only the records
    can answer: the report has a rule-language domain, or reads ``days`` that are not whole months."""
    if filters.domain is not None or (days is not None and not whole_months(*days)):
        return None
    rows = scope_queryset(model.objects.all(), user)
    if filters.team_id:
        rows = rows.filter(team_id=filters.team_id)
    if filters.user_id:
        rows = rows.filter(user_id=filters.user_id)
    unordered: QuerySet[Any, Any] = rows.order_by()
    return unordered


def _created_days(filters: ReportFilters) -> Q:
    return Q(day__gte=filters.date_from, day__lte=filters.date_to)


def _created_in(filters: ReportFilters) -> Q:
    return Q(
        created_at__gte=start_of(filters.date_from),
        created_at__lt=start_of(filters.date_to + dt.timedelta(1)),
    )


@dataclass(frozen=True)
class GroupMedians:
    """Per group: its rows, and for each value its median and how many rows have it (not null)."""

    rows: dict[Any, int]
    median: dict[str, dict[Any, float]]
    counted: dict[str, dict[Any, int]]


def group_key(value: Any) -> Any:
    """A group's value as both the ORM and a raw row give it: a date for a period (the local day a period
    starts on), the value itself otherwise."""
    if isinstance(value, dt.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        return dt.date.fromisoformat(value[:10])  # SQLite's truncated datetime, local time
    return value


def medians(queryset: QuerySet[Any], *, group: str, values: Sequence[str]) -> GroupMedians:
    """The median of each annotation of ``values`` per value of ``group`` over the rows where it is set, and
    the groups' sizes — in one query, in the database (window functions, both databases): each group's first
    row and the one or two middle rows of each value come back, never the group's rows. Keys are
    :func:`group_key`'s.

    The rows of ``queryset`` are read in a subquery, so that each expression is computed once per row (on
    SQLite a truncated date is a Python function: once per window, it cost 4× the time)."""
    quote = connections[queryset.db].ops.quote_name
    picked = {"_g": F(group), "_pk": F("pk"), **{f"_v{i}": F(value) for i, value in enumerate(values)}}
    inner, params = queryset.annotate(**picked).values_list(*picked).order_by().query.sql_with_params()
    g, pk = f"t.{quote('_g')}", f"t.{quote('_pk')}"
    windows = [f"COUNT(*) OVER (PARTITION BY {g})"]
    keep = []
    for i in range(len(values)):
        v = f"t.{quote(f'_v{i}')}"
        windows += [
            v,
            f"ROW_NUMBER() OVER (PARTITION BY {g} ORDER BY ({v} IS NULL), {v}, {pk})",
            f"COUNT({v}) OVER (PARTITION BY {g})",
        ]
        rank, size = f"w.r{i}", f"w.s{i}"
        keep.append(f"({rank} <= {size} AND 2 * {rank} >= {size} AND 2 * {rank} <= {size} + 2)")
    names = ["n"] + [name for i in range(len(values)) for name in (f"v{i}", f"r{i}", f"s{i}")]
    select = ", ".join(f"{expr} AS {name}" for expr, name in zip(windows, names, strict=True))
    sql = (
        f"SELECT w.g, w.{', w.'.join(names)} FROM (SELECT {g} AS g, {select} FROM ({inner}) t) w "
        f"WHERE w.r0 = 1 OR {' OR '.join(keep)}"
    )
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    rows: dict[Any, int] = {}
    middles: dict[str, dict[Any, list[float]]] = {value: {} for value in values}
    counted: dict[str, dict[Any, int]] = {value: {} for value in values}
    for row in fetched:
        key = group_key(row[0])
        rows[key] = row[1]
        for i, value in enumerate(values):
            number, rank, size = row[2 + 3 * i : 5 + 3 * i]
            counted[value][key] = size
            if number is not None and rank <= size and size <= 2 * rank <= size + 2:
                middles[value].setdefault(key, []).append(float(number))
    median = {value: {key: sum(ns) / len(ns) for key, ns in by.items()} for value, by in middles.items()}
    return GroupMedians(rows, median, counted)


# --- pipeline --------------------------------------------------------------------------------------------
def pipeline_rows(*, user: Any, filters: ReportFilters) -> list[PipelineRow]:
    """Opportunities by stage × team × salesperson: count, expected and weighted revenue (1 query).

    Open records now (active, status open); with ``filters.as_of``, the records open at the end of that day
    — created and converted by then, closed (won or lost) after it, never merged away — in their current
    stage (the stage a record had on that day is in its history, not replayed here).
    """
    totals = summary_rows(OpenTotal, user, filters) if filters.as_of is None else None
    leads: QuerySet[Any]
    sums: dict[str, Any]
    if totals is not None:  # the open opportunities' summary rows (no domain)
        leads = totals
        sums = {"n": Sum("count"), "expected": Sum("expected_revenue"), "weighted": Sum("weighted_revenue")}
    else:
        leads = scoped_leads(user, filters).filter(type=LeadType.OPPORTUNITY)
        weighted = ExpressionWrapper(
            F("expected_revenue") * F("probability") / Value(100), output_field=MONEY
        )
        sums = {"n": Count("id"), "expected": Sum("expected_revenue"), "weighted": Sum(weighted)}
        if filters.as_of is None:
            leads = leads.filter(active=True, won_status=WonStatus.OPEN)
        else:
            end = start_of(filters.as_of + dt.timedelta(1))
            leads = leads.filter(created_at__lt=end, merged_into__isnull=True).filter(
                Q(converted_at__isnull=True) | Q(converted_at__lt=end),
                Q(closed_at__isnull=True, active=True) | Q(closed_at__gte=end),
            )
    groups = (
        leads.values(
            "stage_id",
            "stage__name",
            "stage__sequence",
            "team_id",
            "team__name",
            "user_id",
            "user__first_name",
            "user__last_name",
            "user__username",
        )
        .annotate(**sums)
        .filter(Q(n__gt=0))
        .order_by("stage__sequence", "stage_id", "team__name", "team_id", "user__username")
    )
    return [
        PipelineRow(
            g["stage_id"],
            g["stage__name"] or _("No stage"),
            g["team_id"],
            g["team__name"] or _("No team"),
            g["user_id"],
            person_label(g["user__first_name"], g["user__last_name"], g["user__username"]) or _("Unassigned"),
            g["n"],
            _money(g["expected"]),
            _money(g["weighted"]),
        )
        for g in groups
    ]


# --- forecast --------------------------------------------------------------------------------------------
def _target_teams(user: Any, filters: ReportFilters) -> QuerySet[Team] | None:
    """The teams whose targets stand against what ``user`` sees: every team for a manager, the teams a
    leader leads; none for a salesperson or a report narrowed to one salesperson (a team's target says
    nothing of one person's share)."""
    if filters.user_id or not user.is_authenticated:
        return None
    if user.sees_all_records:
        teams = Team.objects.all()
    elif user.role == "team_leader":
        teams = user.led_teams.all()
    else:
        return None
    return teams.filter(pk=filters.team_id) if filters.team_id else teams


def forecast_rows(*, user: Any, filters: ReportFilters, months: int = FORECAST_MONTHS) -> list[ForecastRow]:
    """Open opportunities by expected closing month — the overdue ones (expected before today) first, then
    this month and the next ones — with what was won in each month so far and the teams' targets (1
    query)."""
    today = timezone.localdate()
    first = month_start(today)
    end = month_start(today, months)
    day: DateField[Any, Any] = DateField()
    # One statement: the open records by month (part 0 overdue, 1 ahead), the won ones (2), the targets (3).
    part = Case(When(close_date__lt=today, then=Value(0)), default=Value(1))
    open_totals = summary_rows(OpenTotal, user, filters)
    closed = summary_rows(ClosedDay, user, filters, days=(first, end - dt.timedelta(1)))
    open_groups: QuerySet[Any]
    won_groups: QuerySet[Any]
    if open_totals is not None and closed is not None:  # the summary rows (no domain)
        open_groups = (
            open_totals.filter(close_date__lt=end)
            .values(part=part, month=TruncMonth("close_date", output_field=day))
            .annotate(n=Sum("count"), expected=Sum("expected_revenue"), weighted=Sum("weighted_revenue"))
            .filter(n__gt=0)
            .order_by()
        )
        won_groups = (
            closed.filter(day__gte=first, day__lt=end)
            .values(part=Value(2), month=TruncMonth("day", output_field=day))
            .annotate(n=Sum("won"), expected=Sum("won_revenue"), weighted=Sum("won_revenue"))
            .filter(n__gt=0)
            .order_by()
        )
    else:
        weighted = ExpressionWrapper(
            F("expected_revenue") * F("probability") / Value(100), output_field=MONEY
        )
        base = scoped_leads(user, filters)
        open_groups = (
            base.filter(
                type=LeadType.OPPORTUNITY, active=True, won_status=WonStatus.OPEN, expected_close_date__lt=end
            )
            .values(
                part=Case(When(expected_close_date__lt=today, then=Value(0)), default=Value(1)),
                month=TruncMonth("expected_close_date", output_field=day),
            )
            .annotate(n=Count("id"), expected=Sum("expected_revenue"), weighted=Sum(weighted))
            .order_by()
        )
        won_groups = (
            base.filter(won_status=WonStatus.WON, closed_at__gte=start_of(first), closed_at__lt=start_of(end))
            .values(part=Value(2), month=TruncMonth("closed_at", output_field=day))
            .annotate(n=Count("id"), expected=Sum("expected_revenue"), weighted=Sum("expected_revenue"))
            .order_by()
        )
    parts = open_groups.union(won_groups, all=True)
    teams = _target_teams(user, filters)
    if teams is not None:
        target_groups = (
            SalesTarget.objects.filter(team__in=teams.values("pk"), month__gte=first, month__lt=end)
            .values(part=Value(3), month_=F("month"))
            .annotate(n=Count("id"), expected=Sum("amount"), weighted=Sum("amount"))
            .order_by()
        )
        parts = parts.union(target_groups, all=True)
    buckets: dict[dt.date | None, list[Any]] = {None: [0, ZERO, ZERO]}
    for index in range(months):
        buckets[month_start(today, index)] = [0, ZERO, ZERO]
    won: dict[dt.date, Decimal] = {}
    targets: dict[dt.date, Decimal] = {}
    for part, month, n, expected, weighted_sum in parts.values_list(
        "part", "month", "n", "expected", "weighted"
    ):
        if isinstance(month, dt.datetime):
            month = month.date()
        if part <= 1:
            bucket = buckets[None if part == 0 else month]
            bucket[0] += n
            bucket[1] += _money(expected)
            bucket[2] += _money(weighted_sum)
        elif part == 2:
            won[month] = won.get(month, ZERO) + _money(expected)
        else:
            targets[month] = targets.get(month, ZERO) + _money(expected)
    result = []
    for month, (n, expected, weighted_sum) in buckets.items():
        won_sum = won.get(month, ZERO) if month else ZERO
        target = targets.get(month) if month and teams is not None else None
        label = _("Overdue") if month is None else f"{month:%m/%Y}"
        attainment = percent(won_sum, target) if target else None
        result.append(ForecastRow(month, label, n, expected, weighted_sum, won_sum, target, attainment))
    return result


# --- funnel and win rate ---------------------------------------------------------------------------------
_TRUNC = {"week": TruncWeek, "month": TruncMonth, "quarter": TruncQuarter}


def _bucket_label(value: Any, period: str) -> tuple[str, str]:
    day = timezone.localtime(value).date() if isinstance(value, dt.datetime) else value
    if period == "week":
        year, week, _weekday = day.isocalendar()
        return day.isoformat(), _("Week %(week)s/%(year)s") % {"week": week, "year": year}
    if period == "quarter":
        return day.isoformat(), f"Q{(day.month - 1) // 3 + 1}/{day.year}"
    return day.isoformat(), f"{day:%m/%Y}"


def _funnel_group(filters: ReportFilters, day: str = "created_at") -> tuple[dict[str, Any], list[str]]:
    """The grouping annotation (``g``) of the funnel and the names read with it; ``day``: the records'
    creation, or the summary rows' day."""
    if filters.group == "team":
        return {"g": F("team_id")}, ["team__name"]
    if filters.group == "user":
        return {"g": F("user_id")}, ["user__first_name", "user__last_name", "user__username"]
    if filters.group == "source":
        return {"g": F("source_id")}, ["source__name"]
    if day == "created_at":
        return {"g": _TRUNC[filters.period]("created_at")}, []
    return {"g": _TRUNC[filters.period](day, output_field=DateField())}, []


def histogram_medians(rows: QuerySet[Any], *, group: str) -> dict[int, dict[Any, float]]:
    """Per ``step``, the median of ``days`` per value of ``group`` over histogram rows (a value and how
    many records have it, :class:`~pheu.reports.models.CohortStep`), in one query: per step and group, the
    one or two values at the middle ranks come back. Keys are :func:`group_key`'s."""
    quote = connections[rows.db].ops.quote_name
    inner, params = (
        rows.values(_s=F("step"), _g=F(group), _v=F("days"))
        .annotate(_n=Sum("count"))
        .filter(_n__gt=0)
        .values_list("_s", "_g", "_v", "_n")
        .order_by()
        .query.sql_with_params()
    )
    s, g, v, n = (f"t.{quote(name)}" for name in ("_s", "_g", "_v", "_n"))
    window = f"PARTITION BY {s}, {g}"
    sql = (
        "SELECT w.s, w.g, w.v, w.below, w.upto, w.size FROM ("
        # CAST: PostgreSQL sums bigints as numeric, whose division is not the integer one needed here.
        f"SELECT {s} AS s, {g} AS g, {v} AS v, "
        f"CAST(SUM({n}) OVER ({window} ORDER BY {v}) - {n} AS BIGINT) AS below, "
        f"CAST(SUM({n}) OVER ({window} ORDER BY {v}) AS BIGINT) AS upto, "
        f"CAST(SUM({n}) OVER ({window}) AS BIGINT) AS size "
        f"FROM ({inner}) t) w "
        "WHERE (w.below < (w.size + 1) / 2 AND (w.size + 1) / 2 <= w.upto) "
        "OR (w.below < w.size / 2 + 1 AND w.size / 2 + 1 <= w.upto)"
    )
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        fetched = cursor.fetchall()
    low: dict[tuple[int, Any], float] = {}
    high: dict[tuple[int, Any], float] = {}
    for step, key_value, number, below, upto, size in fetched:
        key = (int(step), group_key(key_value))
        size, below, upto = int(size), int(below), int(upto)
        if below < (size + 1) // 2 <= upto:
            low[key] = float(number)
        if below < size // 2 + 1 <= upto:
            high[key] = float(number)
    # One middle value (low and high are the same), or the mean of the two: medians()' arithmetic.
    found: dict[int, dict[Any, float]] = {1: {}, 2: {}}
    for key in low:
        if key in high:
            found.setdefault(key[0], {})[key[1]] = (low[key] + high[key]) / 2
    return found


def _funnel_medians(user: Any, filters: ReportFilters) -> tuple[dict[Any, float], dict[Any, float]] | None:
    """Both medians of the funnel from the summary histograms (1 query), None with a domain."""
    if filters.group == "period" and filters.period == "week":
        return None  # weeks straddle months
    steps = summary_rows(CohortStep, user, filters, days=(filters.date_from, filters.date_to))
    if steps is None:
        return None
    steps = steps.filter(_created_days(filters)).annotate(**_funnel_group(filters, "day")[0])
    found = histogram_medians(steps, group="g")
    return found[1], found[2]


def funnel_rows(*, user: Any, filters: ReportFilters) -> list[FunnelRow]:
    """The records created in the period (merged-away ones excepted) by period, team, salesperson or source:
    how many became opportunities, were won or lost, the rates, and the median days between the steps
    (2 queries, from the summaries or, with a domain, the records: the counts, and both medians)."""
    cohort_days = summary_rows(CohortDay, user, filters, days=(filters.date_from, filters.date_to))
    found = _funnel_medians(user, filters)
    if cohort_days is not None and found is not None:
        group, names = _funnel_group(filters, "day")
        counts = (
            cohort_days.filter(_created_days(filters))
            .annotate(**group)
            .values("g", *names)
            .annotate(
                created=Sum("created"),
                converted=Sum("opportunities"),
                won=Sum("won"),
                lost=Sum("lost"),
                won_revenue=Sum("won_revenue"),
            )
            .filter(created__gt=0)
            .order_by("g")
        )
        to_convert, to_win = found
    else:
        to_convert, to_win, counts = _funnel_from_records(user, filters)
    rows = []
    for c in counts:
        key, label = _funnel_label(filters, c)
        rows.append(
            FunnelRow(
                key,
                label,
                c["created"],
                c["converted"],
                c["won"],
                c["lost"],
                _money(c["won_revenue"]),
                percent(c["converted"], c["created"]),
                percent(c["won"], c["converted"]),
                percent(c["won"], c["won"] + c["lost"]),
                _days(to_convert.get(group_key(c["g"]))),
                _days(to_win.get(group_key(c["g"]))),
            )
        )
    if filters.group != "period":
        rows.sort(key=lambda row: (-row.created, row.label))
    return rows


def _funnel_from_records(
    user: Any, filters: ReportFilters
) -> tuple[dict[Any, float], dict[Any, float], QuerySet[Any]]:
    """The funnel's medians and counts from the records (a report with a domain; 2 queries)."""
    group, names = _funnel_group(filters)
    cohort = (
        scoped_leads(user, filters).filter(_created_in(filters), merged_into__isnull=True).annotate(**group)
    )
    opportunity = Q(type=LeadType.OPPORTUNITY) | Q(converted_at__isnull=False)
    counts = (
        cohort.values("g", *names)
        .annotate(
            created=Count("id"),
            converted=Count("id", filter=opportunity),
            won=Count("id", filter=Q(won_status=WonStatus.WON)),
            lost=Count("id", filter=Q(won_status=WonStatus.LOST)),
            won_revenue=Sum("expected_revenue", filter=Q(won_status=WonStatus.WON)),
        )
        .order_by("g")
    )
    won = Q(won_status=WonStatus.WON)
    days = medians(
        cohort.annotate(
            to_convert=DaysBetween("created_at", "converted_at"),
            to_win=Case(
                When(won, then=DaysBetween(Coalesce("converted_at", "created_at"), "closed_at")),
                output_field=FloatField(),
            ),
        ),
        group="g",
        values=("to_convert", "to_win"),
    )
    return days.median["to_convert"], days.median["to_win"], counts


def _funnel_label(filters: ReportFilters, c: dict[str, Any]) -> tuple[str, str]:
    if filters.group == "period":
        return _bucket_label(c["g"], filters.period)
    key = str(c["g"] or "")
    if filters.group == "team":
        return key, c["team__name"] or _("No team")
    if filters.group == "user":
        label = person_label(c["user__first_name"], c["user__last_name"], c["user__username"])
        return key, label or _("Unassigned")
    return key, c["source__name"] or _("No source")


def lost_reason_rows(*, user: Any, filters: ReportFilters) -> list[LostReasonRow]:
    """The records created in the period and lost since, by lost reason (1 query, of the summaries without
    a domain)."""
    cohort_days = summary_rows(CohortDay, user, filters, days=(filters.date_from, filters.date_to))
    groups: QuerySet[Any]
    if cohort_days is not None:
        groups = (
            cohort_days.filter(_created_days(filters))
            .values("lost_reason_id", "lost_reason__name")
            .annotate(n=Sum("lost"), expected=Sum("lost_revenue"))
            .filter(n__gt=0)
        )
    else:
        groups = (
            scoped_leads(user, filters)
            .filter(_created_in(filters), won_status=WonStatus.LOST, merged_into__isnull=True)
            .values("lost_reason_id", "lost_reason__name")
            .annotate(n=Count("id"), expected=Sum("expected_revenue"))
        )
    groups = groups.order_by("-n", "lost_reason__name")
    return [
        LostReasonRow(
            g["lost_reason_id"], g["lost_reason__name"] or _("No reason"), g["n"], _money(g["expected"])
        )
        for g in groups
    ]


# --- sources and campaigns -------------------------------------------------------------------------------
def source_rows(*, user: Any, filters: ReportFilters) -> list[SourceRow]:
    """The records created in the period by source × medium × campaign: how many, how many became
    opportunities, won and lost, the won revenue and the win rate (1 query, of the summaries without a
    domain)."""
    names = ("source__name", "medium__name", "campaign__name")
    cohort_days = summary_rows(CohortDay, user, filters, days=(filters.date_from, filters.date_to))
    groups: QuerySet[Any]
    if cohort_days is not None:
        groups = (
            cohort_days.filter(_created_days(filters))
            .values(*names)
            .annotate(
                n=Sum("created"),
                opportunities=Sum("opportunities"),
                won=Sum("won"),
                lost=Sum("lost"),
                won_revenue=Sum("won_revenue"),
            )
            .filter(n__gt=0)
        )
    else:
        opportunity = Q(type=LeadType.OPPORTUNITY) | Q(converted_at__isnull=False)
        groups = (
            scoped_leads(user, filters)
            .filter(_created_in(filters), merged_into__isnull=True)
            .values(*names)
            .annotate(
                n=Count("id"),
                opportunities=Count("id", filter=opportunity),
                won=Count("id", filter=Q(won_status=WonStatus.WON)),
                lost=Count("id", filter=Q(won_status=WonStatus.LOST)),
                won_revenue=Sum("expected_revenue", filter=Q(won_status=WonStatus.WON)),
            )
        )
    groups = groups.order_by("-n", *names)
    return [
        SourceRow(
            g["source__name"] or _("No source"),
            g["medium__name"] or "",
            g["campaign__name"] or "",
            g["n"],
            g["opportunities"],
            g["won"],
            g["lost"],
            _money(g["won_revenue"]),
            percent(g["won"], g["won"] + g["lost"]),
        )
        for g in groups
    ]


# --- assignment ------------------------------------------------------------------------------------------
def _mask(parts: Any) -> int:
    mask = 0
    for position, part in enumerate(parts):
        mask |= int(part or 0) << (position * BITS_PER_COLUMN)
    return mask


def waiting_rows(*, user: Any, filters: ReportFilters) -> list[WaitingRow]:
    """The open leads without a salesperson that the reader may see, counted by why they wait: the reason
    the assignment service's own plan gives (read-only: nothing is written), so it is the one the next run
    would meet.

    The plan is not run over every waiting lead. Leads alike — same team, score and rule matches — share a
    team-phase outcome, so the plan first decides one lead per such group (counted in SQL). Only the groups
    that reach a team's members are planned lead by lead, and of each group only its first *free seats + 1*
    leads (by id, as the run orders them): of any group more numerous than the seats, one lead at least finds
    no member, and from then on none of its later leads can (seats only fill), so they take its last lead's
    reason; with no free seat at all, none is read. The counts are those of a plan over every lead (tested
    against it). A lead's score decides only the team phase, of the leads without a team: the others are
    grouped without it (from the waiting leads' index, no look-up into the score table), and counted by
    score again only when their groups reach members with free seats (the member phase takes the best
    scored first). Queries: the configuration (2, and the rules' look-ups), the groups, and when a group
    reaches free seats the groups of teams by score and the leads planned one by one.
    """
    now = timezone.now()
    config = load_config(now=now)
    parse_rules(config)
    columns = mask_columns(config)
    waiting = scoped_leads(user, filters).filter(active=True, won_status=WonStatus.OPEN, user__isnull=True)
    key_columns = ["team_id", "score_row__score", *columns]

    def grouped(leads: QuerySet[Lead], score: Any) -> dict[tuple[int | None, int, int], int]:
        keyed = leads.annotate(**columns, _score=score).values_list("team_id", "_score", *columns)
        return {
            (row[0], row[1] or 0, _mask(row[2:-1])): row[-1]
            for row in keyed.annotate(n=Count("id")).order_by()
        }

    # The score decides only the team phase, of the leads without a team: theirs is read (one look-up each
    # into the score table), the others' counted as 0 — their groups differ in team and rule matches only,
    # read from the waiting leads' index. The groups that reach members are counted by score again below.
    own_score = Subquery(LeadScore.objects.filter(lead_id=OuterRef("pk")).values("score")[:1])
    groups = grouped(waiting, Case(When(team__isnull=True, then=own_score), default=Value(0)))
    lowest = min((t.min_score for t in config.teams), default=None)
    keys = list(groups)
    samples = [
        LeadRow(-(i + 1), team, None, score, "lead", None, True, mask)
        for i, (team, score, mask) in enumerate(keys)
    ]
    counts: dict[str, int] = {}
    seated: list[tuple[int | None, int, int]] = []  # the groups that reach a team's members
    for key, decision in zip(keys, plan_assignment(config, samples), strict=True):
        if decision.outcome in (Outcome.NO_TEAM, Outcome.OTHER_TEAM):
            reason = waiting_reason(config, decision)
            counts[reason] = counts.get(reason, 0) + groups[key]
        else:
            seated.append(key)
    cap = sum(config.free_capacity(team.id) for team in config.teams) + 1
    if seated and cap == 1:  # no member anywhere can take a lead: each of these waits for a free seat
        counts[WaitingReason.MEMBERS_FULL] = counts.get(WaitingReason.MEMBERS_FULL, 0) + sum(
            groups[key] for key in seated
        )
    elif seated:
        teamed = {key for key in seated if key[0] is not None}
        if teamed:  # by score too (the member phase takes the best scored first): 1 query more
            exact = grouped(waiting.filter(team_id__in={key[0] for key in teamed}), F("score_row__score"))
            seated = [key for key in seated if key[0] is None] + [
                key for key in exact if (key[0], 0, key[2]) in teamed
            ]
            groups.update(exact)
        ranked = (
            waiting.filter(
                Q(team_id__in={key[0] for key in seated if key[0] is not None})
                | Q(team__isnull=True, score_row__score__gte=lowest or 0)
            )
            .annotate(**columns)
            .annotate(
                _rank=Window(RowNumber(), partition_by=[F(c) for c in key_columns], order_by=F("id").asc())
            )
            .filter(_rank__lte=cap)
            .values_list(*LEAD_COLUMNS, *columns)
            .order_by("id")
        )
        width = len(LEAD_COLUMNS)
        rows = [LeadRow._make((*row[:3], row[3] or 0, *row[4:width], _mask(row[width:]))) for row in ranked]
        wanted = set(seated)
        rows = [row for row in rows if (row.team_id, row.score, row.mask) in wanted]
        planned: dict[tuple[int | None, int, int], int] = {}
        last: dict[tuple[int | None, int, int], str] = {}
        for row, decision in zip(rows, plan_assignment(config, rows), strict=True):
            key = (row.team_id, row.score, row.mask)
            reason = waiting_reason(config, decision)
            counts[reason] = counts.get(reason, 0) + 1
            planned[key] = planned.get(key, 0) + 1
            last[key] = reason
        for key in seated:
            rest = groups[key] - planned.get(key, 0)
            if rest:
                counts[last[key]] = counts.get(last[key], 0) + rest
    labels = WaitingReason.labels()
    return [WaitingRow(reason, labels[reason], counts[reason]) for reason in labels if counts.get(reason)]


def _visible_members(user: Any, filters: ReportFilters) -> QuerySet[TeamMember]:
    members = TeamMember.objects.all()
    if not user.sees_all_records:
        scope = Q(user_id=user.pk)
        if user.role == "team_leader":
            scope |= Q(team__in=user.led_teams.values("pk"))
        members = members.filter(scope)
    if filters.team_id:
        members = members.filter(team_id=filters.team_id)
    if filters.user_id:
        members = members.filter(user_id=filters.user_id)
    return members


def first_activity(leads: QuerySet[Lead]) -> Subquery:
    """Per record of ``leads``: when its first activity since its assignment was created (the records and
    their activities; :class:`~pheu.reports.models.AssignedRecord` keeps it)."""
    return Subquery(
        Activity.objects.filter(lead_id=OuterRef("pk"), created_at__gte=OuterRef("assigned_at"))
        .order_by()
        .values("lead_id")
        .annotate(first=Min("created_at"))
        .values("first")
    )


def assigned_records(user: Any, filters: ReportFilters, *, since: dt.datetime) -> QuerySet[Any]:
    """The records ``user`` may see with a salesperson, assigned at ``since`` or later, each with ``d``, the
    days from the assignment to its first activity since (null: none yet): the kept rows
    (:mod:`pheu.reports.firsts`) without a domain, else the records and their activities."""
    kept = summary_rows(AssignedRecord, user, filters)
    if kept is not None:
        rows: QuerySet[Any] = kept.filter(user__isnull=False, assigned_at__gte=since).annotate(
            d=DaysBetween("assigned_at", "first_activity_at")
        )
        return rows
    leads = scoped_leads(user, filters).filter(user__isnull=False, assigned_at__gte=since)
    return leads.annotate(d=DaysBetween("assigned_at", first_activity(leads)))


def member_rows(*, user: Any, filters: ReportFilters) -> list[MemberRow]:
    """Per team member the reader may see: leads received in the last 30 days against capacity (the
    assignment app's own count), away periods, and for the records assigned to them in the period the median
    days from assignment to the first activity (2 queries: the members with their loads, the medians)."""
    now = timezone.now()
    today = timezone.localdate(now)
    # The assignment app's own count of each member's recent leads (``recent_count``, what its statistics
    # and runs read), in the query of the members the reader may see.
    members = (
        _visible_members(user, filters)
        .select_related("team", "user")
        .annotate(recent=recent_count(now))
        .order_by()
    )
    loads = {m.pk: MemberLoad.of(m, today) for m in members}
    assigned = assigned_records(user, filters, since=start_of(filters.date_from)).filter(
        assigned_at__lt=start_of(filters.date_to + dt.timedelta(1))
    )
    firsts = medians(assigned, group="user_id", values=("d",))
    median = firsts.median["d"]
    counts = {key: (n, n - firsts.counted["d"].get(key, 0)) for key, n in firsts.rows.items()}
    rows = []
    for member in members:
        member_id, user_id, away_from, away_until = (
            member.pk,
            member.user_id,
            member.away_from,
            member.away_until,
        )
        load = loads[member_id]
        away = ""
        if away_from is not None and (away_until is None or away_until >= today):
            away = (
                f"{away_from:%d/%m/%Y} – {away_until:%d/%m/%Y}" if away_until else f"{away_from:%d/%m/%Y} –"
            )
        n, untouched = counts.get(user_id, (0, 0))
        available = load.active and not load.optout and not load.away and load.free > 0
        rows.append(
            MemberRow(
                member_id,
                load.team_id,
                load.team_name,
                user_id,
                load.user_label,
                load.recent,
                load.capacity,
                percent(load.recent, load.capacity),
                away,
                available,
                n,
                untouched,
                _days(median.get(user_id)),
            )
        )
    rows.sort(key=lambda row: (row.team, row.salesperson))
    return rows


# --- activities ------------------------------------------------------------------------------------------
def _activity_days(user: Any, filters: ReportFilters) -> QuerySet[Any] | None:
    """The activities' summary rows (:mod:`pheu.reports.agenda`) ``user`` may see — the rule of
    ``Activity.objects.visible_to``: those of the records they may see (the one visibility rule on the
    rows' team and salesperson), of customers, and those given to them —, narrowed like the activities; None
    when only the activities can answer (a domain, or a period that is not whole months)."""
    if filters.domain is not None or not whole_months(filters.date_from, filters.date_to):
        return None
    rows = ActivityDay.objects.all()
    if not (user.is_authenticated and user.is_active):
        return rows.none()
    scope = record_scope(user)
    if scope is not None:
        rows = rows.filter((Q(on_lead=True) & scope) | Q(on_lead=False) | Q(assignee_id=user.pk))
    if filters.team_id:
        rows = rows.filter(
            Q(on_lead=True, team_id=filters.team_id)
            | Q(
                on_lead=False,
                assignee__in=TeamMember.objects.filter(team_id=filters.team_id).values("user_id"),
            )
        )
    if filters.user_id:
        rows = rows.filter(assignee_id=filters.user_id)
    unordered: QuerySet[Any] = rows.order_by()
    return unordered


def activity_rows(*, user: Any, filters: ReportFilters) -> list[ActivityRow]:
    """Activities the reader may see, per assignee and type: done in the period, and the open ones overdue,
    due today and planned (1 query, of the summary rows without a domain)."""
    today = timezone.localdate()
    names = ("assignee_id", "assignee__first_name", "assignee__last_name", "assignee__username", "kind")
    days = _activity_days(user, filters)
    groups: QuerySet[Any]
    if days is not None:
        groups = days.values(*names).annotate(
            done=Coalesce(
                Sum("count", filter=Q(done_day__gte=filters.date_from, done_day__lte=filters.date_to)), 0
            ),
            overdue=Coalesce(Sum("count", filter=Q(due_date__lt=today)), 0),
            today=Coalesce(Sum("count", filter=Q(due_date=today)), 0),
            planned=Coalesce(Sum("count", filter=Q(due_date__gt=today)), 0),
        )
    else:
        groups = _activities_from_records(user, filters, today, names)
    groups = groups.order_by("assignee__username", "kind")
    kinds = dict(ActivityKind.choices)
    return [
        ActivityRow(
            g["assignee_id"],
            person_label(g["assignee__first_name"], g["assignee__last_name"], g["assignee__username"]),
            g["kind"],
            str(kinds.get(g["kind"], g["kind"])),
            g["done"],
            g["overdue"],
            g["today"],
            g["planned"],
        )
        for g in groups
        if g["done"] or g["overdue"] or g["today"] or g["planned"]
    ]


def _activities_from_records(
    user: Any, filters: ReportFilters, today: dt.date, names: tuple[str, ...]
) -> QuerySet[Any]:
    """The activity report's groups from the activities themselves (a domain, or a period that is not
    whole months)."""
    activities = Activity.objects.visible_to(user)
    if filters.domain is not None:
        activities = activities.filter(
            lead__in=Lead.objects.visible_to(user).matching(filters.domain).values("pk")
        )
    if filters.team_id:
        activities = activities.filter(
            Q(lead__team_id=filters.team_id)
            | Q(
                lead__isnull=True,
                assignee__in=TeamMember.objects.filter(team_id=filters.team_id).values("user_id"),
            )
        )
    if filters.user_id:
        activities = activities.filter(assignee_id=filters.user_id)
    open_ = Q(done_at__isnull=True)
    groups: QuerySet[Any] = activities.values(*names).annotate(
        done=Count(
            "id",
            filter=Q(
                done_at__gte=start_of(filters.date_from),
                done_at__lt=start_of(filters.date_to + dt.timedelta(1)),
            ),
        ),
        overdue=Count("id", filter=open_ & Q(due_date__lt=today)),
        today=Count("id", filter=open_ & Q(due_date=today)),
        planned=Count("id", filter=open_ & Q(due_date__gt=today)),
    )
    return groups
