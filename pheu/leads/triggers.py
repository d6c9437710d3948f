"""Installing the database triggers of the lead table (pipeline totals, score rows) after ``migrate``.

SQLite drops a table's triggers whenever a migration rebuilds the table, so the triggers are not in
migrations: each owner (:mod:`pheu.leads.totals`, :mod:`pheu.leads.scores`) names its triggers, writes them
for each database, and says what to bring up to date once they are in place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def lead_table_triggers(conn: Any) -> set[str]:
    """The names of the triggers on ``leads_lead``."""
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = 'leads_lead'::regclass AND NOT tgisinternal"
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'leads_lead'"
            )
        return {row[0] for row in cursor.fetchall()}


def install(
    conn: Any,
    *,
    names: Sequence[str],
    statements: Mapping[str, Callable[[], list[str]]],
    then: Callable[[Any], object],
    done: str,
) -> bool:
    """Where any of ``names`` is missing, run the statements written for the database (they drop and create
    them all), then ``then(cursor)``, in one transaction, and log ``done``; True when it had to."""
    if conn.vendor not in statements:
        raise NotImplementedError(f"the lead table's triggers are not written for {conn.vendor}")
    if set(names) <= lead_table_triggers(conn):
        return False
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        for statement in statements[conn.vendor]():
            cursor.execute(statement)
        then(cursor)
    logger.info(done)
    return True
