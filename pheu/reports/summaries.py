"""The reports' summary rows (:class:`~pheu.reports.models.CohortDay`, ``CohortStep``, ``ClosedDay``,
``OpenTotal``), kept by database triggers on the lead table.

Like the pipeline's running totals (:mod:`pheu.leads.totals`), each trigger appends a signed row — ``+1``
and the record's amounts to the row it enters, ``−1`` to the row it leaves — in the writer's own
transaction, for every path that writes leads (ORM saves, bulk updates, ``COPY`` of imports, merges,
deletes). Appending never waits on another writer (an upsert of today's row would make every intake of the
same team and source wait for the previous one's commit); :func:`compact` folds the rows, periodically. A
trigger fires only when a column it reads changes (``UPDATE OF`` and ``WHEN``), and writes one row per
summary row it touches: a new lead costs one appended row (its day's cohort), an opportunity one more.

Days are local days of the installation's time zone (``TIME_ZONE``), written into the triggers when they
are installed: after changing it, run ``pheu report_summaries --rebuild``.

The triggers are not in a migration (SQLite drops a table's triggers whenever a migration rebuilds it):
:func:`ensure_triggers` runs after every ``migrate`` and rebuilds the summaries when it installed anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from pheu.leads.triggers import KeptRows, lead_table_triggers

# An expression over a row alias ("NEW", "OLD", "leads_lead") → SQL.
Expr = Callable[[str], str]


@dataclass(frozen=True)
class Entry:
    """One summary row a record may count in: when (``where``), its dimensions, and its signed measures."""

    where: Expr
    dims: tuple[tuple[str, Expr], ...]
    measures: tuple[tuple[str, Expr], ...]  # each multiplied by the sign


@dataclass(frozen=True)
class Summary:
    table: str
    watched: tuple[str, ...]  # the lead columns its entries read
    entries: tuple[Entry, ...]

    @property
    def triggers(self) -> tuple[str, str, str]:
        return (f"{self.table}_insert", f"{self.table}_update", f"{self.table}_delete")


def _day(vendor: str, column: str) -> Expr:
    """The local day of a datetime column, in the installation's time zone."""
    zone = settings.TIME_ZONE
    if vendor == "postgresql":
        return lambda r: f"(({r}.{column} AT TIME ZONE '{zone}')::date)"
    offset = _fixed_offset(zone)
    if offset is not None and connection.timezone_name == "UTC":
        # A zone without daylight saving (Asia/Ho_Chi_Minh): plain SQL, no call back into Python per row.
        return lambda r: f"date({r}.{column}, '{offset:+d} minutes')"
    # The function Django registers on its SQLite connections (what ``TruncDate`` calls).
    db_zone = connection.timezone_name
    return lambda r: f"django_datetime_cast_date({r}.{column}, '{zone}', '{db_zone}')"


local_day = _day  # the same local days, for the other kept tables (pheu.reports.agenda)


def _fixed_offset(zone: str) -> int | None:
    """The zone's offset from UTC in minutes when it has had one offset since 1980 and keeps it, else None."""
    import datetime as dt
    import zoneinfo

    tz = zoneinfo.ZoneInfo(zone)
    offsets = {
        dt.datetime(year, month, 15, tzinfo=dt.UTC).astimezone(tz).utcoffset()
        for year in range(1980, 2040)
        for month in (1, 4, 7, 10)
    }
    if len(offsets) != 1:
        return None
    (only,) = offsets
    return int(only.total_seconds() // 60) if only is not None else None


def _days_between(vendor: str, start: Expr, end: Expr) -> Expr:
    """The days (with fractions) the record query computes (``pheu.reports.services.DaysBetween``)."""
    if vendor == "postgresql":
        return lambda r: f"(EXTRACT(EPOCH FROM ({end(r)} - {start(r)})) / 86400.0)::float8"
    return lambda r: f"(julianday({end(r)}) - julianday({start(r)}))"


def _col(name: str) -> Expr:
    return lambda r: f"{r}.{name}"


def _flag(condition: Expr) -> Expr:
    return lambda r: f"(CASE WHEN {condition(r)} THEN 1 ELSE 0 END)"


def _if(condition: Expr, value: Expr) -> Expr:
    return lambda r: f"(CASE WHEN {condition(r)} THEN {value(r)} ELSE 0 END)"


def _one(r: str) -> str:
    return "1"


def _money(r: str) -> str:
    return f"COALESCE({r}.expected_revenue, 0)"


def _won(r: str) -> str:
    return f"{r}.won_status = 'won'"


def _lost(r: str) -> str:
    return f"{r}.won_status = 'lost'"


def _not_merged(r: str) -> str:
    return f"{r}.merged_into_id IS NULL"


def summaries(vendor: str) -> tuple[Summary, ...]:
    created = _day(vendor, "created_at")
    people = (("team_id", _col("team_id")), ("user_id", _col("user_id")))
    cohort = Summary(
        "reports_cohortday",
        (
            "created_at",
            "merged_into_id",
            "team_id",
            "user_id",
            "source_id",
            "medium_id",
            "campaign_id",
            "lost_reason_id",
            "type",
            "converted_at",
            "won_status",
            "expected_revenue",
        ),
        (
            Entry(
                _not_merged,
                (
                    ("day", created),
                    *people,
                    ("source_id", _col("source_id")),
                    ("medium_id", _col("medium_id")),
                    ("campaign_id", _col("campaign_id")),
                    ("lost_reason_id", lambda r: f"(CASE WHEN {_lost(r)} THEN {r}.lost_reason_id END)"),
                ),
                (
                    ("created", _one),
                    (
                        "opportunities",
                        _flag(lambda r: f"({r}.type = 'opportunity' OR {r}.converted_at IS NOT NULL)"),
                    ),
                    ("won", _flag(_won)),
                    ("lost", _flag(_lost)),
                    ("won_revenue", _if(_won, _money)),
                    ("lost_revenue", _if(_lost, _money)),
                ),
            ),
        ),
    )
    step_dims = (("day", created), *people, ("source_id", _col("source_id")))
    won_from = _days_between(
        vendor, lambda r: f"COALESCE({r}.converted_at, {r}.created_at)", _col("closed_at")
    )
    steps = Summary(
        "reports_cohortstep",
        (
            "created_at",
            "merged_into_id",
            "team_id",
            "user_id",
            "source_id",
            "converted_at",
            "won_status",
            "closed_at",
        ),
        (
            Entry(
                lambda r: f"{_not_merged(r)} AND {r}.converted_at IS NOT NULL",
                (
                    *step_dims,
                    ("step", lambda r: "1"),
                    ("days", _days_between(vendor, _col("created_at"), _col("converted_at"))),
                ),
                (("count", _one),),
            ),
            Entry(
                lambda r: f"{_not_merged(r)} AND {_won(r)} AND {r}.closed_at IS NOT NULL",
                (*step_dims, ("step", lambda r: "2"), ("days", won_from)),
                (("count", _one),),
            ),
        ),
    )
    closed = Summary(
        "reports_closedday",
        ("won_status", "closed_at", "team_id", "user_id", "merged_into_id", "expected_revenue"),
        (
            Entry(
                lambda r: f"{r}.won_status IN ('won', 'lost') AND {r}.closed_at IS NOT NULL",
                (
                    ("day", _day(vendor, "closed_at")),
                    *people,
                    ("merged", lambda r: f"({r}.merged_into_id IS NOT NULL)"),
                ),
                (("won", _flag(_won)), ("lost", _flag(_lost)), ("won_revenue", _if(_won, _money))),
            ),
        ),
    )
    open_ = Summary(
        "reports_opentotal",
        (
            "type",
            "active",
            "won_status",
            "team_id",
            "user_id",
            "stage_id",
            "expected_close_date",
            "expected_revenue",
            "probability",
        ),
        (
            Entry(
                lambda r: f"{r}.type = 'opportunity' AND {r}.active AND {r}.won_status = 'open'",
                (*people, ("stage_id", _col("stage_id")), ("close_date", _col("expected_close_date"))),
                (
                    ("count", _one),
                    ("expected_revenue", _money),
                    (
                        "weighted_revenue",
                        lambda r: f"(COALESCE({r}.expected_revenue, 0) * COALESCE({r}.probability, 0) / 100)",
                    ),
                ),
            ),
        ),
    )
    return (cohort, steps, closed, open_)


def _columns(entry: Entry) -> str:
    return ", ".join(name for name, _ in (*entry.dims, *entry.measures))


def _select(entry: Entry, row: str, sign: str) -> str:
    dims = [expr(row) for _, expr in entry.dims]
    measures = [f"{sign}{expr(row)}" for _, expr in entry.measures]
    return ", ".join(dims + measures)


def _append(summary: Summary, entry: Entry, row: str, sign: str) -> str:
    return (
        f"INSERT INTO {summary.table} ({_columns(entry)}) "
        f"SELECT {_select(entry, row, sign)} WHERE {entry.where(row)}"
    )


def _any(summary: Summary, row: str) -> str:
    return " OR ".join(f"({entry.where(row)})" for entry in summary.entries)


def _postgresql_sql() -> list[str]:
    statements = []
    for summary in summaries("postgresql"):
        function = f"{summary.table}_delta"
        leave = "\n".join(f"{_append(summary, e, 'OLD', '-')};" for e in summary.entries)
        enter = "\n".join(f"{_append(summary, e, 'NEW', '')};" for e in summary.entries)
        old = ", ".join(f"OLD.{c}" for c in summary.watched)
        new = ", ".join(f"NEW.{c}" for c in summary.watched)
        insert, update, delete = summary.triggers
        run = f"EXECUTE FUNCTION {function}()"
        statements += [
            f"""CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP <> 'INSERT' THEN {leave} END IF;
                IF TG_OP <> 'DELETE' THEN {enter} END IF;
                RETURN NULL;
            END $$""",
            *(f"DROP TRIGGER IF EXISTS {name} ON leads_lead" for name in summary.triggers),
            f"CREATE TRIGGER {insert} AFTER INSERT ON leads_lead "
            f"FOR EACH ROW WHEN ({_any(summary, 'NEW')}) {run}",
            f"CREATE TRIGGER {delete} AFTER DELETE ON leads_lead "
            f"FOR EACH ROW WHEN ({_any(summary, 'OLD')}) {run}",
            f"CREATE TRIGGER {update} AFTER UPDATE OF {', '.join(summary.watched)} ON leads_lead "
            f"FOR EACH ROW WHEN ((({_any(summary, 'OLD')}) OR ({_any(summary, 'NEW')})) "
            f"AND ({old}) IS DISTINCT FROM ({new})) {run}",
        ]
    return statements


def _sqlite_sql() -> list[str]:
    statements = []
    for summary in summaries("sqlite"):
        insert, update, delete = summary.triggers
        leave = " ".join(f"{_append(summary, e, 'OLD', '-')};" for e in summary.entries)
        enter = " ".join(f"{_append(summary, e, 'NEW', '')};" for e in summary.entries)
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in summary.watched)
        statements += [
            *(f"DROP TRIGGER IF EXISTS {name}" for name in summary.triggers),
            f"CREATE TRIGGER {insert} AFTER INSERT ON leads_lead WHEN {_any(summary, 'NEW')} "
            f"BEGIN {enter} END",
            f"CREATE TRIGGER {delete} AFTER DELETE ON leads_lead WHEN {_any(summary, 'OLD')} "
            f"BEGIN {leave} END",
            f"CREATE TRIGGER {update} AFTER UPDATE OF {', '.join(summary.watched)} ON leads_lead "
            f"WHEN ({changed}) AND (({_any(summary, 'OLD')}) OR ({_any(summary, 'NEW')})) "
            f"BEGIN {leave} {enter} END",
        ]
    return statements


def trigger_names(vendor: str = "postgresql") -> list[str]:
    return [name for summary in summaries(vendor) for name in summary.triggers]


def installed_triggers(conn: Any = connection) -> set[str]:
    return lead_table_triggers(conn) & set(trigger_names(conn.vendor))


def rolled_before() -> dt.date:
    """Rows of days before this date (the first of the current local month) are folded into one per month
    (their day becomes the month's first): a report over whole months reads a row per month and group."""
    today = timezone.localdate()
    return today.replace(day=1)


def _month(vendor: str, day: str) -> str:
    if vendor == "postgresql":
        return f"CAST(date_trunc('month', {day}) AS date)"
    return f"date({day}, 'start of month')"


def _rolled(vendor: str, day: str) -> str:
    """``day``, or the first of its month when before :func:`rolled_before` (a ``%s`` parameter)."""
    return f"(CASE WHEN {day} < %s THEN {_month(vendor, day)} ELSE {day} END)"


def _rolled_close(vendor: str, day: str) -> str:
    """An expected closing date, or the first of its month when it is in a month before the current one or
    two months ahead or later (two ``%s`` parameters): the forecast sums open records by month and splits
    only the current month's at today (overdue or not). The month after this one stays by day, so that the
    month it becomes at the turn of the month is still by day (the compaction runs every few minutes)."""
    return f"(CASE WHEN {day} < %s OR {day} >= %s THEN {_month(vendor, day)} ELSE {day} END)"


def _group_sql(summary: Summary, vendor: str, source: str) -> tuple[str, str, str]:
    """The dimensions (days rolled up), the sums and the HAVING of folding ``summary``'s rows."""
    entry = summary.entries[0]
    names = [name for name, _ in entry.dims]

    def dim(name: str) -> str:
        if name == "day":
            return _rolled(vendor, f"{source}day")
        if name == "close_date":
            return _rolled_close(vendor, f"{source}close_date")
        return f"{source}{name}"

    dims = ", ".join(dim(name) for name in names)
    sums = ", ".join(f"SUM({source}{name})" for name, _ in entry.measures)
    keep = "HAVING " + " OR ".join(f"SUM({source}{name}) <> 0" for name, _ in entry.measures)
    # Grouped by position: the rolled day's parameter written twice would be two expressions to PostgreSQL.
    by = "GROUP BY " + ", ".join(str(i + 1) for i in range(len(names)))
    return dims, sums, f"{by} {keep}"


def _params(summary: Summary) -> list[Any]:
    names = {name for name, _ in summary.entries[0].dims}
    first = rolled_before()
    if "day" in names:
        return [first]
    if "close_date" in names:
        index = first.year * 12 + first.month - 1 + 2
        return [first, dt.date(index // 12, index % 12 + 1, 1)]
    return []


def _folded(entry: Entry, source: str) -> str:
    """The rows of ``entry`` over ``source`` (the lead table), one per group (days not rolled up)."""
    dims = [f"{expr('leads_lead')} AS {name}" for name, expr in entry.dims]
    measures = [f"SUM({expr('leads_lead')}) AS {name}" for name, expr in entry.measures]
    groups = ", ".join(str(i + 1) for i in range(len(dims)))
    return (
        f"SELECT {', '.join(dims + measures)} FROM {source} WHERE {entry.where('leads_lead')} "
        f"GROUP BY {groups}"
    )


def _rebuild(cursor: Any, vendor: str) -> None:
    if vendor == "postgresql":
        # Writers wait while this runs, so that no change falls in between.
        cursor.execute("LOCK TABLE leads_lead IN SHARE MODE")
    for summary in summaries(vendor):
        cursor.execute(f"DELETE FROM {summary.table}")
        for entry in summary.entries:
            cursor.execute(f"INSERT INTO {summary.table} ({_columns(entry)}) {_folded(entry, 'leads_lead')}")
    _compact(cursor, vendor)


_KEPT = KeptRows(
    names=trigger_names,
    statements={"postgresql": _postgresql_sql, "sqlite": _sqlite_sql},
    rebuild_rows=_rebuild,
    done="report summaries: triggers installed and summaries rebuilt",
)
ensure_triggers = _KEPT.ensure_triggers
reinstall = _KEPT.reinstall
rebuild = _KEPT.rebuild


def compact() -> int:
    """Fold each summary's appended rows into one per group — the days before the current month into one
    per month — dropping the empty ones; rows removed.

    On PostgreSQL one statement per table (one snapshot): rows appended meanwhile are not seen, so they
    stay. SQLite has a single writer: the statements of the transaction see the same rows."""
    with transaction.atomic(), connection.cursor() as cursor:
        return _compact(cursor, connection.vendor)


def _compact(cursor: Any, vendor: str) -> int:
    removed = 0
    for summary in summaries(vendor):
        columns = _columns(summary.entries[0])
        dims, sums, keep = _group_sql(summary, vendor, "")
        params = _params(summary)
        if vendor == "postgresql":
            cursor.execute(
                f"WITH gone AS (DELETE FROM {summary.table} RETURNING {columns}), "
                f"kept AS (INSERT INTO {summary.table} ({columns}) "
                f"SELECT {dims}, {sums} FROM gone {keep} RETURNING 1) "
                "SELECT (SELECT COUNT(*) FROM gone) - (SELECT COUNT(*) FROM kept)",
                params,
            )
            removed += int(cursor.fetchone()[0])
            continue
        cursor.execute(f"SELECT COUNT(*), MAX(id) FROM {summary.table}")
        before, last = cursor.fetchone()
        if not last:
            continue
        cursor.execute(
            f"INSERT INTO {summary.table} ({columns}) SELECT {dims}, {sums} FROM {summary.table} "
            f"WHERE id <= %s {keep}",
            [*params, last],
        )
        cursor.execute(f"DELETE FROM {summary.table} WHERE id <= %s", [last])
        cursor.execute(f"SELECT COUNT(*) FROM {summary.table}")
        removed += int(before) - int(cursor.fetchone()[0])
    return removed


def drift(conn: Any = connection) -> dict[str, tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]]:
    """Per summary whose folded rows differ from the records': (rows only in the summary, rows only in the
    records), each a group's dimensions (days before the current month rolled up) and sums. Empty when the
    summaries are exact."""

    def value(v: Any) -> Any:
        if v is None or isinstance(v, str | bool):
            return v
        return str(v)[:10] if hasattr(v, "isoformat") else float(v)

    def norm(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(value(v) for v in row)

    found = {}
    with conn.cursor() as cursor:
        for summary in summaries(conn.vendor):
            dims, sums, keep = _group_sql(summary, conn.vendor, "t.")
            params = _params(summary)
            cursor.execute(f"SELECT {dims}, {sums} FROM {summary.table} t {keep}", params)
            kept = {norm(row) for row in cursor.fetchall()}
            records = " UNION ALL ".join(_folded(each, "leads_lead") for each in summary.entries)
            cursor.execute(f"SELECT {dims}, {sums} FROM ({records}) t {keep}", params)
            fresh = {norm(row) for row in cursor.fetchall()}
            if kept != fresh:
                found[summary.table] = (kept - fresh, fresh - kept)
    return found
