"""Running totals of the pipeline (:class:`~pheu.leads.models.PipelineTotal`), kept by database triggers.

The kanban's column sums over a team's board used to be an aggregate over every active opportunity of the
filter (≈ 30–50 ms for 100,000 records on PostgreSQL, whatever the index). The triggers below append a
signed row to ``leads_pipelinetotal`` whenever an active opportunity appears, disappears or changes team,
stage, salesperson or expected revenue — in the writer's own transaction, for every path that writes leads
(ORM saves, bulk updates of assignment, COPY of imports, deletes). Appending never waits on another writer;
:func:`compact` folds the rows into one per (team, stage, salesperson), periodically.

The triggers are not in a migration: SQLite drops a table's triggers whenever a migration rebuilds the
table, so :func:`ensure_triggers` runs after every ``migrate`` (``post_migrate``), installs what is missing
and then rebuilds the totals from the leads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection, transaction

from pheu.leads.models import PipelineTotal
from pheu.leads.triggers import install, lead_table_triggers

TABLE = PipelineTotal._meta.db_table
TRIGGERS = ("leads_pipeline_total_insert", "leads_pipeline_total_update", "leads_pipeline_total_delete")
# What a total is kept by (its links: team, stage, salesperson), the same columns in the lead table.
_KEY: tuple[str, ...] = tuple(f.column for f in PipelineTotal._meta.concrete_fields if f.is_relation)
_GROUP = ", ".join(_KEY)
_COLUMNS = f"{_GROUP}, count, expected_revenue"
# What makes a row count, and the columns whose change moves it between totals.
_WATCHED = ("active", "type", *_KEY, "expected_revenue")


def _delta(row: str, sign: str) -> str:
    key = ", ".join(f"{row}.{column}" for column in _KEY)
    return f"{key}, {sign}1, {sign}COALESCE({row}.expected_revenue, 0)"


def _counts(row: str) -> str:
    return f"{row}.active AND {row}.type = 'opportunity'"


def _postgresql_sql() -> list[str]:
    old_tuple = ", ".join(f"OLD.{c}" for c in _WATCHED)
    new_tuple = ", ".join(f"NEW.{c}" for c in _WATCHED)
    function = f"""
        CREATE OR REPLACE FUNCTION leads_pipeline_total_delta() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                IF {_counts("OLD")} THEN
                    INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({_delta("OLD", "-")});
                END IF;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                IF {_counts("NEW")} THEN
                    INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({_delta("NEW", "")});
                END IF;
            END IF;
            RETURN NULL;
        END $$
    """
    run = "EXECUTE FUNCTION leads_pipeline_total_delta()"
    return [
        function,
        *(f"DROP TRIGGER IF EXISTS {name} ON leads_lead" for name in TRIGGERS),
        f"CREATE TRIGGER leads_pipeline_total_insert AFTER INSERT ON leads_lead "
        f"FOR EACH ROW WHEN ({_counts('NEW')}) {run}",
        f"CREATE TRIGGER leads_pipeline_total_delete AFTER DELETE ON leads_lead "
        f"FOR EACH ROW WHEN ({_counts('OLD')}) {run}",
        # UPDATE OF: a statement that does not set these columns (a re-score) does not even test the WHEN.
        f"CREATE TRIGGER leads_pipeline_total_update AFTER UPDATE OF {', '.join(_WATCHED)} ON leads_lead "
        f"FOR EACH ROW WHEN ((({_counts('OLD')}) OR ({_counts('NEW')})) "
        f"AND ({old_tuple}) IS DISTINCT FROM ({new_tuple})) {run}",
    ]


def _sqlite_sql() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _WATCHED)
    return [
        *(f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS),
        f"CREATE TRIGGER leads_pipeline_total_insert AFTER INSERT ON leads_lead WHEN {_counts('NEW')} "
        f"BEGIN INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({_delta('NEW', '')}); END",
        f"CREATE TRIGGER leads_pipeline_total_delete AFTER DELETE ON leads_lead WHEN {_counts('OLD')} "
        f"BEGIN INSERT INTO {TABLE} ({_COLUMNS}) VALUES ({_delta('OLD', '-')}); END",
        f"CREATE TRIGGER leads_pipeline_total_update AFTER UPDATE OF {', '.join(_WATCHED)} ON leads_lead "
        f"WHEN {changed} BEGIN "
        f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT {_delta('OLD', '-')} WHERE {_counts('OLD')}; "
        f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT {_delta('NEW', '')} WHERE {_counts('NEW')}; END",
    ]


# The statements that drop and create the pipeline totals' triggers, per database (``connection.vendor``):
# the one definition of what they do, written for each database (held to the same result by a test run on
# each).
STATEMENTS: dict[str, Callable[[], list[str]]] = {"postgresql": _postgresql_sql, "sqlite": _sqlite_sql}


def installed_triggers(conn: Any = connection) -> set[str]:
    return lead_table_triggers(conn) & set(TRIGGERS)


def ensure_triggers(conn: Any = connection) -> bool:
    """Install the triggers where any is missing, then rebuild the totals; True when it had to."""
    return install(
        conn,
        names=TRIGGERS,
        statements=STATEMENTS,
        then=lambda c: _rebuild(c, conn.vendor),
        done="pipeline totals: triggers installed and totals rebuilt",
    )


def _rebuild(cursor: Any, vendor: str) -> None:
    if vendor == "postgresql":
        # Writers wait for the few hundred milliseconds this takes, so that no change falls in between.
        cursor.execute("LOCK TABLE leads_lead IN SHARE MODE")
    cursor.execute(f"DELETE FROM {TABLE}")
    cursor.execute(
        f"INSERT INTO {TABLE} ({_COLUMNS}) "
        f"SELECT {_GROUP}, COUNT(*), COALESCE(SUM(expected_revenue), 0) FROM leads_lead "
        f"WHERE {_counts('leads_lead')} GROUP BY {_GROUP}"
    )


def rebuild() -> None:
    """The totals again from the leads (after a load that bypassed the triggers, e.g. a restore)."""
    with transaction.atomic(), connection.cursor() as cursor:
        _rebuild(cursor, connection.vendor)


def compact() -> int:
    """Fold the appended rows into one per (team, stage, salesperson), dropping empty ones; rows removed.

    On PostgreSQL one statement (one snapshot): rows appended meanwhile are not seen, so they stay as they
    are. SQLite has a single writer: the two statements of the transaction see the same rows.
    """
    group = _GROUP
    keep = "HAVING SUM(count) <> 0 OR SUM(expected_revenue) <> 0"
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"WITH gone AS (DELETE FROM {TABLE} RETURNING {_COLUMNS}), "
                f"kept AS (INSERT INTO {TABLE} ({_COLUMNS}) "
                f"SELECT {group}, SUM(count), SUM(expected_revenue) FROM gone GROUP BY {group} {keep} "
                "RETURNING 1) "
                "SELECT (SELECT COUNT(*) FROM gone) - (SELECT COUNT(*) FROM kept)"
            )
            return int(cursor.fetchone()[0])
        cursor.execute(f"SELECT COUNT(*), MAX(id) FROM {TABLE}")
        before, last = cursor.fetchone()
        if not last:
            return 0
        cursor.execute(
            f"INSERT INTO {TABLE} ({_COLUMNS}) SELECT {group}, SUM(count), SUM(expected_revenue) "
            f"FROM {TABLE} WHERE id <= %s GROUP BY {group} {keep}",
            [last],
        )
        cursor.execute(f"DELETE FROM {TABLE} WHERE id <= %s", [last])
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")
        return int(before) - int(cursor.fetchone()[0])
