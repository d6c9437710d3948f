"""The assigned records and their first activity since the assignment
(:class:`~pheu.reports.models.AssignedRecord`), kept by database triggers on the lead and activity tables.

A record with a salesperson and an assignment time has one row: team, salesperson, ``assigned_at`` and
``first_activity_at`` — the earliest ``created_at`` of its activities created at or after ``assigned_at``
(the assignment report's and the dashboard's "days to the first activity"; null: none yet). So it is the
first activity *since the current assignment*: a reassignment (a new ``assigned_at``) looks again among the
record's activities, and the ones made for the previous salesperson before it no longer count.

What writes the row, in the writer's transaction, whatever the path (ORM saves, bulk updates, ``COPY`` of
imports, merges, deletes):

- the lead table: a record inserted with a salesperson, an update of its salesperson, team or assignment
  time (the row is written again, its first activity looked up), a delete, or losing its salesperson (the
  row goes);
- the activity table: an activity added (it becomes the first when it is the earliest since the
  assignment), deleted, or moved to another record or time (a merge moves them): the first is looked up
  again for the records concerned.

On PostgreSQL an activity's trigger first locks its record's row (``FOR NO KEY UPDATE``, what an update of
the record takes too), so that an activity and a concurrent reassignment of the same record never both
decide from a state the other is changing; each statement of a trigger reads what is committed by then.

As with :mod:`pheu.reports.summaries`, the triggers are installed after every ``migrate`` (SQLite drops a
table's triggers when a migration rebuilds it), and :func:`rebuild` counts the rows afresh after a load
with triggers off.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

from pheu.leads.triggers import KeptRows

TABLE = "reports_assignedrecord"
LEAD_TRIGGERS = ("reports_assigned_insert", "reports_assigned_update", "reports_assigned_delete")
ACTIVITY_TRIGGERS = (
    "reports_first_activity_insert",
    "reports_first_activity_update",
    "reports_first_activity_delete",
)
COLUMNS = "lead_id, team_id, user_id, assigned_at, first_activity_at"


def _first(lead: str, assigned: str) -> str:
    """The first activity of record ``lead`` created at or after ``assigned`` (SQL expressions)."""
    return (
        "(SELECT MIN(a.created_at) FROM activities_activity a "
        f"WHERE a.lead_id = {lead} AND a.created_at >= {assigned})"
    )


def _qualifies(row: str) -> str:
    return f"{row}.user_id IS NOT NULL AND {row}.assigned_at IS NOT NULL"


def _recompute(leads: str, vendor: str) -> str:
    """Look the first activity up again for the rows of the records ``leads`` (an SQL list); a row is
    written only when it changes."""
    first = _first(f"{TABLE}.lead_id", f"{TABLE}.assigned_at")
    differs = "IS DISTINCT FROM" if vendor == "postgresql" else "IS NOT"
    return (
        f"UPDATE {TABLE} SET first_activity_at = {first} "
        f"WHERE {TABLE}.lead_id IN ({leads}) AND {TABLE}.first_activity_at {differs} {first}"
    )


def _entered(row: str) -> str:
    """An activity of ``row`` made its record's first when it is the earliest since the assignment."""
    return (
        f"UPDATE {TABLE} SET first_activity_at = {row}.created_at "
        f"WHERE lead_id = {row}.lead_id AND {row}.created_at >= assigned_at "
        f"AND (first_activity_at IS NULL OR first_activity_at > {row}.created_at)"
    )


def _postgresql_sql() -> list[str]:
    new_row = f"NEW.id, NEW.team_id, NEW.user_id, NEW.assigned_at, {_first('NEW.id', 'NEW.assigned_at')}"
    return [
        f"""CREATE OR REPLACE FUNCTION reports_assigned_lead() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                DELETE FROM {TABLE} WHERE lead_id = OLD.id;
            ELSIF NOT ({_qualifies("NEW")}) THEN
                DELETE FROM {TABLE} WHERE lead_id = NEW.id;
            ELSE
                INSERT INTO {TABLE} ({COLUMNS}) VALUES ({new_row})
                ON CONFLICT (lead_id) DO UPDATE SET team_id = EXCLUDED.team_id, user_id = EXCLUDED.user_id,
                    assigned_at = EXCLUDED.assigned_at, first_activity_at = EXCLUDED.first_activity_at;
            END IF;
            RETURN NULL;
        END $$""",
        # Inserted leads: once per statement, over its transition table (a single creation pays one short
        # statement, a COPY of a million leads one set-based insert instead of a million row triggers).
        f"""CREATE OR REPLACE FUNCTION reports_assigned_new_leads() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {TABLE} ({COLUMNS})
            SELECT n.id, n.team_id, n.user_id, n.assigned_at, {_first("n.id", "n.assigned_at")}
            FROM new_leads n WHERE {_qualifies("n")}
            ON CONFLICT (lead_id) DO UPDATE SET team_id = EXCLUDED.team_id, user_id = EXCLUDED.user_id,
                assigned_at = EXCLUDED.assigned_at, first_activity_at = EXCLUDED.first_activity_at;
            RETURN NULL;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION reports_first_activity() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                PERFORM 1 FROM leads_lead WHERE id = NEW.lead_id FOR NO KEY UPDATE;
                {_entered("NEW")};
            ELSIF TG_OP = 'DELETE' THEN
                PERFORM 1 FROM leads_lead WHERE id = OLD.lead_id FOR NO KEY UPDATE;
                {_recompute("OLD.lead_id", "postgresql")};
            ELSE
                PERFORM 1 FROM leads_lead WHERE id IN (OLD.lead_id, NEW.lead_id) ORDER BY id
                    FOR NO KEY UPDATE;
                {_recompute("OLD.lead_id, NEW.lead_id", "postgresql")};
            END IF;
            RETURN NULL;
        END $$""",
        *(f"DROP TRIGGER IF EXISTS {name} ON leads_lead" for name in LEAD_TRIGGERS),
        *(f"DROP TRIGGER IF EXISTS {name} ON activities_activity" for name in ACTIVITY_TRIGGERS),
        "CREATE TRIGGER reports_assigned_insert AFTER INSERT ON leads_lead "
        "REFERENCING NEW TABLE AS new_leads FOR EACH STATEMENT EXECUTE FUNCTION reports_assigned_new_leads()",
        # Only where the record is or was assigned: a run giving 70,000 leads a team and no salesperson
        # looked each up in the kept rows for nothing (12–18 s a part of 30,000 on a fresh table).
        "CREATE TRIGGER reports_assigned_update AFTER UPDATE OF user_id, team_id, assigned_at ON leads_lead "
        "FOR EACH ROW WHEN ((OLD.user_id, OLD.team_id, OLD.assigned_at) "
        "IS DISTINCT FROM (NEW.user_id, NEW.team_id, NEW.assigned_at) "
        f"AND (({_qualifies('OLD')}) OR ({_qualifies('NEW')}))) "
        "EXECUTE FUNCTION reports_assigned_lead()",
        "CREATE TRIGGER reports_assigned_delete AFTER DELETE ON leads_lead "
        f"FOR EACH ROW WHEN ({_qualifies('OLD')}) EXECUTE FUNCTION reports_assigned_lead()",
        "CREATE TRIGGER reports_first_activity_insert AFTER INSERT ON activities_activity "
        "FOR EACH ROW WHEN (NEW.lead_id IS NOT NULL) EXECUTE FUNCTION reports_first_activity()",
        "CREATE TRIGGER reports_first_activity_update AFTER UPDATE OF lead_id, created_at "
        "ON activities_activity FOR EACH ROW WHEN ((OLD.lead_id, OLD.created_at) "
        "IS DISTINCT FROM (NEW.lead_id, NEW.created_at)) EXECUTE FUNCTION reports_first_activity()",
        "CREATE TRIGGER reports_first_activity_delete AFTER DELETE ON activities_activity "
        "FOR EACH ROW WHEN (OLD.lead_id IS NOT NULL) EXECUTE FUNCTION reports_first_activity()",
    ]


def _sqlite_sql() -> list[str]:
    enter = (
        f"INSERT OR REPLACE INTO {TABLE} ({COLUMNS}) SELECT NEW.id, NEW.team_id, NEW.user_id, "
        f"NEW.assigned_at, {_first('NEW.id', 'NEW.assigned_at')} WHERE {_qualifies('NEW')};"
    )
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in ("user_id", "team_id", "assigned_at"))
    return [
        *(f"DROP TRIGGER IF EXISTS {name}" for name in (*LEAD_TRIGGERS, *ACTIVITY_TRIGGERS)),
        f"CREATE TRIGGER reports_assigned_insert AFTER INSERT ON leads_lead WHEN {_qualifies('NEW')} "
        f"BEGIN {enter} END",
        "CREATE TRIGGER reports_assigned_update AFTER UPDATE OF user_id, team_id, assigned_at ON leads_lead "
        f"WHEN {changed} BEGIN DELETE FROM {TABLE} WHERE lead_id = OLD.id; {enter} END",
        f"CREATE TRIGGER reports_assigned_delete AFTER DELETE ON leads_lead WHEN {_qualifies('OLD')} "
        f"BEGIN DELETE FROM {TABLE} WHERE lead_id = OLD.id; END",
        "CREATE TRIGGER reports_first_activity_insert AFTER INSERT ON activities_activity "
        f"WHEN NEW.lead_id IS NOT NULL BEGIN {_entered('NEW')}; END",
        "CREATE TRIGGER reports_first_activity_update AFTER UPDATE OF lead_id, created_at "
        "ON activities_activity WHEN OLD.lead_id IS NOT NEW.lead_id OR OLD.created_at IS NOT NEW.created_at "
        f"BEGIN {_recompute('OLD.lead_id, NEW.lead_id', 'sqlite')}; END",
        "CREATE TRIGGER reports_first_activity_delete AFTER DELETE ON activities_activity "
        f"WHEN OLD.lead_id IS NOT NULL BEGIN {_recompute('OLD.lead_id', 'sqlite')}; END",
    ]


def trigger_names() -> list[str]:
    return [*LEAD_TRIGGERS, *ACTIVITY_TRIGGERS]


def _fresh() -> str:
    """The rows computed from the records and their activities (one set-based statement)."""
    return (
        "SELECT l.id, l.team_id, l.user_id, l.assigned_at, f.first FROM leads_lead l LEFT JOIN ("
        "SELECT a.lead_id, MIN(a.created_at) AS first FROM activities_activity a "
        "JOIN leads_lead m ON m.id = a.lead_id "
        "WHERE a.created_at >= m.assigned_at AND m.user_id IS NOT NULL GROUP BY a.lead_id"
        f") f ON f.lead_id = l.id WHERE {_qualifies('l')}"
    )


def _rebuild(cursor: Any, vendor: str) -> None:
    if vendor == "postgresql":
        # Writers of the two tables wait while this runs, so that no change falls in between.
        cursor.execute("LOCK TABLE leads_lead, activities_activity IN SHARE MODE")
    cursor.execute(f"DELETE FROM {TABLE}")
    cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) {_fresh()}")


_KEPT = KeptRows(
    names=lambda vendor: trigger_names(),
    statements={"postgresql": _postgresql_sql, "sqlite": _sqlite_sql},
    rebuild_rows=_rebuild,
    done="report first activities: triggers installed and rows rebuilt",
)
ensure_triggers = _KEPT.ensure_triggers
reinstall = _KEPT.reinstall
rebuild = _KEPT.rebuild


def drift(conn: Any = connection) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """(rows only kept, rows only computed from the records): both empty when the kept rows are exact."""

    def norm(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(v if v is None or isinstance(v, int) else str(v) for v in row)

    with conn.cursor() as cursor:
        cursor.execute(f"SELECT {COLUMNS} FROM {TABLE}")
        kept = {norm(row) for row in cursor.fetchall()}
        cursor.execute(_fresh())
        fresh = {norm(row) for row in cursor.fetchall()}
    return kept - fresh, fresh - kept
