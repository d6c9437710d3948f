"""The members' loads (:class:`~pheu.assignment.models.MemberLoadDay`): leads per team, salesperson and day of
assignment, kept by database triggers on ``leads_lead``.

A member's capacity is "leads per 30 days" (SPEC 5). Counting them on the lead table read every lead a member
holds and filtered by date: at 1,000,000 leads that query was 80–140 ms of a 110–190 ms creation. The
triggers below keep, in the writer's own transaction, one row per (team, salesperson, UTC day of
``assigned_at``) for every lead that has all three; the window is then a sum of at most 31 small rows.

- PostgreSQL: statement-level triggers with transition tables, so that an assignment run moving 100,000
  leads adds one grouped ``INSERT … ON CONFLICT DO UPDATE`` per statement, not one per lead; the rows are
  written in key order, so two statements never lock them in opposite orders.
- SQLite: row-level triggers (one writer at a time; a row upsert costs microseconds there).

The window counts whole days: the rows from the UTC day of ``now - 30 days`` on (:func:`window_start`), so a
lead assigned up to 31 days ago may still count — never fewer than the exact 30 days, so the automatic
assignment never goes over a capacity. Like the pipeline totals, the triggers are installed after every
``migrate`` (SQLite drops them when a migration rebuilds the table) and the rows are then counted afresh; a
load that bypassed them (``session_replication_role = replica``) calls :func:`rebuild`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import UniqueConstraint

from pheu.assignment.models import MemberLoadDay
from pheu.leads.triggers import install

TABLE = MemberLoadDay._meta.db_table
WINDOW = timedelta(days=30)  # capacity is "leads per 30 days"
KEEP_DAYS = 40  # rows older than this are pruned (nothing reads them)
TRIGGERS = ("assignment_member_load_insert", "assignment_member_load_update", "assignment_member_load_delete")
_HAS = "{r}.team_id IS NOT NULL AND {r}.user_id IS NOT NULL AND {r}.assigned_at IS NOT NULL"
# The rows' columns, and their key: the unique constraint every upsert names as its conflict target.
_COLUMNS = ", ".join(f.column for f in MemberLoadDay._meta.concrete_fields if not f.primary_key)
_KEY = ", ".join(next(c for c in MemberLoadDay._meta.constraints if isinstance(c, UniqueConstraint)).fields)


def window_start(now: datetime) -> date:
    """The first day (UTC) whose rows count in the load at ``now``."""
    return (now - WINDOW).astimezone(UTC).date()


def _pg_day(row: str) -> str:
    return f"({row}.assigned_at AT TIME ZONE 'UTC')::date"


def _postgresql_sql() -> list[str]:
    def rows(table: str, sign: str) -> str:
        return (
            f"SELECT r.team_id, r.user_id, {_pg_day('r')} AS day, {sign}1 AS n FROM {table} r "
            f"WHERE {_HAS.format(r='r')}"
        )

    def upsert(select: str) -> str:
        return (
            f"INSERT INTO {TABLE} ({_COLUMNS}) "
            f"SELECT {_KEY}, SUM(n) FROM ({select}) d GROUP BY {_KEY} "
            f"HAVING SUM(n) <> 0 ORDER BY {_KEY} "
            f"ON CONFLICT ({_KEY}) DO UPDATE SET count = {TABLE}.count + EXCLUDED.count;"
        )

    function = f"""
        CREATE OR REPLACE FUNCTION assignment_member_load_delta() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {upsert(rows("new_rows", ""))}
            ELSIF TG_OP = 'DELETE' THEN
                {upsert(rows("old_rows", "-"))}
            ELSE
                {upsert(rows("new_rows", "") + " UNION ALL " + rows("old_rows", "-"))}
            END IF;
            RETURN NULL;
        END $$
    """
    run = "FOR EACH STATEMENT EXECUTE FUNCTION assignment_member_load_delta()"
    return [
        function,
        *(f"DROP TRIGGER IF EXISTS {name} ON leads_lead" for name in TRIGGERS),
        f"CREATE TRIGGER assignment_member_load_insert AFTER INSERT ON leads_lead "
        f"REFERENCING NEW TABLE AS new_rows {run}",
        f"CREATE TRIGGER assignment_member_load_update AFTER UPDATE ON leads_lead "
        f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows {run}",
        f"CREATE TRIGGER assignment_member_load_delete AFTER DELETE ON leads_lead "
        f"REFERENCING OLD TABLE AS old_rows {run}",
    ]


def _sqlite_sql() -> list[str]:
    def add(row: str, sign: str) -> str:
        return (
            f"INSERT INTO {TABLE} ({_COLUMNS}) "
            f"SELECT {row}.team_id, {row}.user_id, date({row}.assigned_at), {sign}1 "
            f"WHERE {_HAS.format(r=row)} "
            f"ON CONFLICT ({_KEY}) DO UPDATE SET count = count + excluded.count;"
        )

    watched = ("team_id", "user_id", "assigned_at")
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
    return [
        *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS),
        f"CREATE TRIGGER assignment_member_load_insert AFTER INSERT ON leads_lead "
        f"WHEN {_HAS.format(r='NEW')} BEGIN {add('NEW', '')} END",
        f"CREATE TRIGGER assignment_member_load_delete AFTER DELETE ON leads_lead "
        f"WHEN {_HAS.format(r='OLD')} BEGIN {add('OLD', '-')} END",
        f"CREATE TRIGGER assignment_member_load_update AFTER UPDATE OF {', '.join(watched)} ON leads_lead "
        f"WHEN {changed} BEGIN {add('OLD', '-')} {add('NEW', '')} END",
    ]


def ensure_triggers(conn: Any = connection) -> bool:
    """Install the triggers where any is missing, then count the loads afresh; True when it had to."""
    statements = {"postgresql": _postgresql_sql, "sqlite": _sqlite_sql}
    return install(
        conn,
        names=TRIGGERS,
        statements=statements,
        then=lambda c: _rebuild(c, conn.vendor),
        done="member loads: triggers installed and loads counted",
    )


def _rebuild(cursor: Any, vendor: str) -> None:
    if vendor == "postgresql":
        cursor.execute("LOCK TABLE leads_lead IN SHARE MODE")  # no change falls in between
        day = _pg_day("leads_lead")
    else:
        day = "date(assigned_at)"
    cursor.execute(f"DELETE FROM {TABLE}")
    cursor.execute(
        f"INSERT INTO {TABLE} ({_COLUMNS}) "
        f"SELECT team_id, user_id, {day}, COUNT(*) FROM leads_lead WHERE {_HAS.format(r='leads_lead')} "
        f"GROUP BY team_id, user_id, {day}"
    )


def rebuild() -> None:
    """The loads again from the leads (after a load of leads that bypassed the triggers)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _rebuild(cursor, connection.vendor)


def prune(*, now: datetime) -> int:
    """Delete the rows no window reads any more, and the empty ones; how many."""
    oldest = window_start(now) - timedelta(days=KEEP_DAYS - WINDOW.days)
    with transaction.atomic():
        deleted, _ = MemberLoadDay.objects.filter(day__lt=oldest).delete()
        empty, _ = MemberLoadDay.objects.filter(count=0, day__lt=window_start(now)).delete()
    return deleted + empty
