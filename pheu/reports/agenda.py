"""The activities report's summary rows (:class:`~pheu.reports.models.ActivityDay`), kept by database
triggers on the activity and lead tables.

One row per assignee × type × record (``on_lead``; a lead's team and salesperson, which the visibility rule
and the team filter read) × due date (open activities) or local day done (done ones), counting them. Like
:mod:`pheu.reports.summaries`, each trigger appends signed rows — ``−1`` to the row an activity leaves,
``+1`` to the one it enters — in the writer's transaction, whatever wrote (ORM saves, bulk updates, merges
moving activities, deletes), and :func:`compact` folds them (the done days before the current month into
one row per month):

- an activity added, deleted, or changed in a column the row reads (assignee, type, record, due date, done);
- a lead whose team or salesperson changes: its activities move from the old team and salesperson to the
  new ones; a lead deleted before its activities: they move to none.

On PostgreSQL an activity's trigger first locks its record's row (``FOR NO KEY UPDATE``, as an update of the
record does), so that an activity added while its record is reassigned counts under the team and
salesperson the record ends with. Installed after every ``migrate``; :func:`rebuild` after a load with
triggers off.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction

from pheu.leads.triggers import KeptRows
from pheu.reports.summaries import local_day, rolled_before

TABLE = "reports_activityday"
ACTIVITY = "activities_activity"
DIMS = ("assignee_id", "kind", "on_lead", "team_id", "user_id", "due_date", "done_day")
COLUMNS = ", ".join((*DIMS, "count"))
WATCHED = ("assignee_id", "kind", "lead_id", "due_date", "done_at")
ACTIVITY_TRIGGERS = ("reports_agenda_insert", "reports_agenda_update", "reports_agenda_delete")
LEAD_TRIGGERS = ("reports_agenda_lead", "reports_agenda_lead_delete")


def _value_list(vendor: str, row: str, team: str, user: str, sign: str) -> list[str]:
    """The row (:data:`COLUMNS`) of activity ``row`` whose record has ``team`` and ``user`` (SQL), counted
    ``sign``."""
    done = local_day(vendor, "done_at")(row)
    return [
        f"{row}.assignee_id",
        f"{row}.kind",
        f"({row}.lead_id IS NOT NULL)",
        team,
        user,
        f"CASE WHEN {row}.done_at IS NULL THEN {row}.due_date END",
        f"CASE WHEN {row}.done_at IS NOT NULL THEN {done} END",
        sign,
    ]


def _values(vendor: str, row: str, team: str, user: str, sign: str) -> str:
    return ", ".join(_value_list(vendor, row, team, user, sign))


def _of_record(vendor: str, row: str, sign: str) -> str:
    """Append the row of activity ``row`` (``NEW``/``OLD``), its record's team and salesperson read."""
    team = f"(SELECT l.team_id FROM leads_lead l WHERE l.id = {row}.lead_id)"
    user = f"(SELECT l.user_id FROM leads_lead l WHERE l.id = {row}.lead_id)"
    return f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {_values(vendor, row, team, user, sign)}"


def _moved(vendor: str, *, deleted: bool = False) -> str:
    """A lead's activities leave its old team and salesperson and enter the new ones — none when the lead
    is deleted before them (Django deletes a lead before its activities): they are then counted as the
    activities of a record that no longer is, until their own delete takes them out."""
    leave = _values(vendor, "a", "OLD.team_id", "OLD.user_id", "-1")
    if deleted:
        enter = _values(vendor, "a", "NULL", "NULL", "1")
    else:
        enter = _values(vendor, "a", "NEW.team_id", "NEW.user_id", "1")
    return (
        f"INSERT INTO {TABLE} ({COLUMNS}) SELECT {leave} FROM {ACTIVITY} a WHERE a.lead_id = OLD.id "
        f"UNION ALL SELECT {enter} FROM {ACTIVITY} a WHERE a.lead_id = OLD.id"
    )


def _postgresql_sql() -> list[str]:
    changed = ", ".join(WATCHED)
    old = ", ".join(f"OLD.{c}" for c in WATCHED)
    new = ", ".join(f"NEW.{c}" for c in WATCHED)
    lock = "PERFORM 1 FROM leads_lead WHERE id IN ({ids}) ORDER BY id FOR NO KEY UPDATE;"
    return [
        f"""CREATE OR REPLACE FUNCTION reports_agenda_activity() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {lock.format(ids="NEW.lead_id")}
                {_of_record("postgresql", "NEW", "1")};
            ELSIF TG_OP = 'DELETE' THEN
                {lock.format(ids="OLD.lead_id")}
                {_of_record("postgresql", "OLD", "-1")};
            ELSE
                {lock.format(ids="OLD.lead_id, NEW.lead_id")}
                {_of_record("postgresql", "OLD", "-1")};
                {_of_record("postgresql", "NEW", "1")};
            END IF;
            RETURN NULL;
        END $$""",
        f"""CREATE OR REPLACE FUNCTION reports_agenda_lead() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                {_moved("postgresql", deleted=True)};
            ELSE
                {_moved("postgresql")};
            END IF;
            RETURN NULL;
        END $$""",
        *(f"DROP TRIGGER IF EXISTS {name} ON {ACTIVITY}" for name in ACTIVITY_TRIGGERS),
        *(f"DROP TRIGGER IF EXISTS {name} ON leads_lead" for name in LEAD_TRIGGERS),
        f"CREATE TRIGGER reports_agenda_insert AFTER INSERT ON {ACTIVITY} "
        "FOR EACH ROW EXECUTE FUNCTION reports_agenda_activity()",
        f"CREATE TRIGGER reports_agenda_delete AFTER DELETE ON {ACTIVITY} "
        "FOR EACH ROW EXECUTE FUNCTION reports_agenda_activity()",
        f"CREATE TRIGGER reports_agenda_update AFTER UPDATE OF {changed} ON {ACTIVITY} "
        f"FOR EACH ROW WHEN (({old}) IS DISTINCT FROM ({new})) EXECUTE FUNCTION reports_agenda_activity()",
        "CREATE TRIGGER reports_agenda_lead AFTER UPDATE OF team_id, user_id ON leads_lead "
        "FOR EACH ROW WHEN ((OLD.team_id, OLD.user_id) IS DISTINCT FROM (NEW.team_id, NEW.user_id)) "
        "EXECUTE FUNCTION reports_agenda_lead()",
        "CREATE TRIGGER reports_agenda_lead_delete AFTER DELETE ON leads_lead "
        "FOR EACH ROW WHEN (OLD.team_id IS NOT NULL OR OLD.user_id IS NOT NULL) "
        "EXECUTE FUNCTION reports_agenda_lead()",
    ]


def _sqlite_sql() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
    return [
        *(f"DROP TRIGGER IF EXISTS {name}" for name in (*ACTIVITY_TRIGGERS, *LEAD_TRIGGERS)),
        f"CREATE TRIGGER reports_agenda_insert AFTER INSERT ON {ACTIVITY} "
        f"BEGIN {_of_record('sqlite', 'NEW', '1')}; END",
        f"CREATE TRIGGER reports_agenda_delete AFTER DELETE ON {ACTIVITY} "
        f"BEGIN {_of_record('sqlite', 'OLD', '-1')}; END",
        f"CREATE TRIGGER reports_agenda_update AFTER UPDATE OF {', '.join(WATCHED)} ON {ACTIVITY} "
        f"WHEN {changed} BEGIN {_of_record('sqlite', 'OLD', '-1')}; {_of_record('sqlite', 'NEW', '1')}; END",
        "CREATE TRIGGER reports_agenda_lead AFTER UPDATE OF team_id, user_id ON leads_lead "
        "WHEN OLD.team_id IS NOT NEW.team_id OR OLD.user_id IS NOT NEW.user_id "
        f"BEGIN {_moved('sqlite')}; END",
        "CREATE TRIGGER reports_agenda_lead_delete AFTER DELETE ON leads_lead "
        "WHEN OLD.team_id IS NOT NULL OR OLD.user_id IS NOT NULL "
        f"BEGIN {_moved('sqlite', deleted=True)}; END",
    ]


def trigger_names() -> list[str]:
    return [*ACTIVITY_TRIGGERS, *LEAD_TRIGGERS]


def _month(vendor: str, day: str) -> str:
    if vendor == "postgresql":
        return f"CAST(date_trunc('month', {day}) AS date)"
    return f"date({day}, 'start of month')"


def _grouped(vendor: str, source: str) -> str:
    """``source``'s rows (with the columns of :data:`COLUMNS`) folded: one per group, the done days before
    the current month rolled up into the month's first (a ``%s`` parameter), the empty groups dropped."""
    rolled = f"(CASE WHEN done_day < %s THEN {_month(vendor, 'done_day')} ELSE done_day END)"
    dims = [rolled if d == "done_day" else d for d in DIMS]
    by = ", ".join(str(i + 1) for i in range(len(DIMS)))
    return f"SELECT {', '.join(dims)}, SUM(count) FROM {source} GROUP BY {by} HAVING SUM(count) <> 0"


def _records(vendor: str) -> str:
    """The rows computed from the activities and their records, one per activity."""
    values = zip(_value_list(vendor, "a", "l.team_id", "l.user_id", "1"), (*DIMS, "count"), strict=True)
    names = ", ".join(f"{expr} AS {name}" for expr, name in values)
    return f"(SELECT {names} FROM {ACTIVITY} a LEFT JOIN leads_lead l ON l.id = a.lead_id) t"


def _rebuild(cursor: Any, vendor: str) -> None:
    if vendor == "postgresql":
        cursor.execute(f"LOCK TABLE leads_lead, {ACTIVITY} IN SHARE MODE")
    cursor.execute(f"DELETE FROM {TABLE}")
    cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) {_grouped(vendor, _records(vendor))}", [rolled_before()])


def _compact(cursor: Any, vendor: str) -> int:
    if vendor == "postgresql":
        gone = f"(SELECT {COLUMNS} FROM gone) g"
        cursor.execute(
            f"WITH gone AS (DELETE FROM {TABLE} RETURNING {COLUMNS}), "
            f"kept AS (INSERT INTO {TABLE} ({COLUMNS}) {_grouped(vendor, gone)} RETURNING 1) "
            "SELECT (SELECT COUNT(*) FROM gone) - (SELECT COUNT(*) FROM kept)",
            [rolled_before()],
        )
        return int(cursor.fetchone()[0])
    cursor.execute(f"SELECT COUNT(*), MAX(id) FROM {TABLE}")
    before, last = cursor.fetchone()
    if not last:
        return 0
    source = f"(SELECT {COLUMNS} FROM {TABLE} WHERE id <= {int(last)}) g"
    cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) {_grouped(vendor, source)}", [rolled_before()])
    cursor.execute(f"DELETE FROM {TABLE} WHERE id <= %s", [last])
    cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
    return int(before) - int(cursor.fetchone()[0])


_KEPT = KeptRows(
    names=lambda vendor: trigger_names(),
    statements={"postgresql": _postgresql_sql, "sqlite": _sqlite_sql},
    rebuild_rows=_rebuild,
    done="report activities: triggers installed and rows rebuilt",
)
ensure_triggers = _KEPT.ensure_triggers
reinstall = _KEPT.reinstall
rebuild = _KEPT.rebuild


def compact() -> int:
    """Fold the appended rows into one per group (done days before this month into months); rows removed."""
    with transaction.atomic(), connection.cursor() as cursor:
        return _compact(cursor, connection.vendor)


def drift(conn: Any = connection) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """(groups only kept, groups only computed from the activities), each folded: both empty when exact."""

    def norm(row: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(v if v is None or isinstance(v, int | str) else str(v)[:10] for v in row)

    first = rolled_before()
    with conn.cursor() as cursor:
        cursor.execute(_grouped(conn.vendor, f"(SELECT {COLUMNS} FROM {TABLE}) k"), [first])
        kept = {norm(row) for row in cursor.fetchall()}
        cursor.execute(_grouped(conn.vendor, _records(conn.vendor)), [first])
        fresh = {norm(row) for row in cursor.fetchall()}
    return kept - fresh, fresh - kept
