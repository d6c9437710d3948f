"""The row of :class:`~pheu.leads.models.LeadScore` that every lead has, made by a database trigger.

Leads are inserted by many paths: ORM saves, ``bulk_create``, ``COPY`` (imports), restores. A trigger on the
lead table gives each new lead its score row (score 0) in the same statement, so that reads can join the
score table without an outer join and without ``COALESCE``; the scoring service then writes the score. The
row goes with its lead: the foreign key cascades (Django deletes it first), and on PostgreSQL a raw ``DELETE``
of leads is covered by the same kind of trigger.

As for :mod:`pheu.leads.totals`, the triggers are installed after every ``migrate``: SQLite drops a
table's triggers when a migration rebuilds it. Leads found without a row then (a load that bypassed the
trigger) get one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connection

from pheu.leads.triggers import install, lead_table_triggers

TABLE = "leads_leadscore"
TRIGGERS = ("leads_score_row_add", "leads_score_row_delete")
# Replaced (the insert's trigger now leaves a row written in the lead's statement): dropped on install, and
# a database that has only these gets the new ones at its next migrate.
OLD_TRIGGERS = ("leads_score_row_insert",)


def _postgresql_sql() -> list[str]:
    return [
        # One statement per inserting statement, over its transition table: a COPY of a million leads
        # inserts their rows in one go, and a single lead pays one short statement.
        # A creation may write its lead's row in the lead's own statement (pheu.core.rows.insert_with), with
        # its score: the trigger, run at the statement's end, leaves such a row as it is.
        f"""
        CREATE OR REPLACE FUNCTION leads_score_row_add() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {TABLE} (lead_id, score) SELECT id, 0 FROM new_leads ON CONFLICT (lead_id) DO NOTHING;
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE OR REPLACE FUNCTION leads_score_row_delete() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM {TABLE} WHERE lead_id IN (SELECT id FROM old_leads);
            RETURN NULL;
        END $$
        """,
        *(f"DROP TRIGGER IF EXISTS {name} ON leads_lead" for name in (*TRIGGERS, *OLD_TRIGGERS)),
        *(f"DROP FUNCTION IF EXISTS {name}()" for name in OLD_TRIGGERS),
        "CREATE TRIGGER leads_score_row_add AFTER INSERT ON leads_lead REFERENCING NEW TABLE AS new_leads "
        "FOR EACH STATEMENT EXECUTE FUNCTION leads_score_row_add()",
        "CREATE TRIGGER leads_score_row_delete AFTER DELETE ON leads_lead REFERENCING OLD TABLE AS old_leads "
        "FOR EACH STATEMENT EXECUTE FUNCTION leads_score_row_delete()",
    ]


def _sqlite_sql() -> list[str]:
    return [
        *(f"DROP TRIGGER IF EXISTS {name}" for name in (*TRIGGERS, *OLD_TRIGGERS)),
        "CREATE TRIGGER leads_score_row_add AFTER INSERT ON leads_lead "
        f"BEGIN INSERT INTO {TABLE} (lead_id, score) VALUES (NEW.id, 0); END",
        "CREATE TRIGGER leads_score_row_delete AFTER DELETE ON leads_lead "
        f"BEGIN DELETE FROM {TABLE} WHERE lead_id = OLD.id; END",
    ]


# The statements that drop and create the score rows' triggers, per database (``connection.vendor``): the one
# definition of what they do, written for each database (held to the same result by a test run on each).
STATEMENTS: dict[str, Callable[[], list[str]]] = {"postgresql": _postgresql_sql, "sqlite": _sqlite_sql}


def installed_triggers(conn: Any = connection) -> set[str]:
    return lead_table_triggers(conn) & set(TRIGGERS)


def ensure_triggers(conn: Any = connection) -> bool:
    """Install the triggers where any is missing, and give a row to every lead without one; True when it
    had to."""
    return install(
        conn,
        names=TRIGGERS,
        statements=STATEMENTS,
        then=add_missing_rows,
        done="lead scores: triggers installed",
    )


def add_missing_rows(cursor: Any) -> int:
    """A score row (0) for every lead without one, after a load that bypassed the trigger (a restore with
    ``session_replication_role = replica``); how many were added. Re-score them afterwards."""
    cursor.execute(
        f"INSERT INTO {TABLE} (lead_id, score) SELECT l.id, 0 FROM leads_lead l "
        f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} s WHERE s.lead_id = l.id)"
    )
    return int(cursor.rowcount)
