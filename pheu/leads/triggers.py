"""Installing database triggers (the lead table's pipeline totals and score rows, the assignment config's
version…) after ``migrate``.

SQLite drops a table's triggers whenever a migration rebuilds the table, so the triggers are not in
migrations: each owner (:mod:`pheu.leads.totals`, :mod:`pheu.leads.scores`) names its triggers, writes them
for each database, and says what to bring up to date once they are in place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction

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


def named_triggers(conn: Any, names: Sequence[str]) -> set[str]:
    """Those of ``names`` that are triggers of the database, on whatever table."""
    with conn.cursor() as cursor:
        if conn.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgname = ANY(%s)", [list(names)]
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        return {row[0] for row in cursor.fetchall()} & set(names)


def install(
    conn: Any,
    *,
    names: Sequence[str],
    statements: Mapping[str, Callable[[], list[str]]],
    then: Callable[[Any], object],  # its result is not used
    done: str,
) -> bool:
    """Where any of ``names`` is missing, run the statements written for the database (they drop and create
    them all), then ``then(cursor)``, in one transaction, and log ``done``; True when it had to. The names are
    the database's own (prefixed by their owner): the triggers may be on any table."""
    if conn.vendor not in statements:
        raise NotImplementedError(f"these triggers are not written for {conn.vendor}")
    if set(names) <= named_triggers(conn, names):
        return False
    with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
        for statement in statements[conn.vendor]():
            cursor.execute(statement)
        then(cursor)
    logger.info(done)
    return True


@dataclass(frozen=True)
class KeptRows:
    """Rows kept from the records by triggers (a report's summary table): the triggers' names and
    statements per database, and the statement that rebuilds the rows from the records."""

    names: Callable[[str], Sequence[str]]  # by ``connection.vendor``
    statements: Mapping[str, Callable[[], list[str]]]
    rebuild_rows: Callable[[Any, str], object]  # (cursor, vendor); its result is not used
    done: str  # logged once installed

    def ensure_triggers(self, conn: Any = connection) -> bool:
        """Install the triggers where any is missing, then rebuild the rows; True when it had to."""
        return install(
            conn,
            names=self.names(conn.vendor),
            statements=self.statements,
            then=lambda cursor: self.rebuild_rows(cursor, conn.vendor),
            done=self.done,
        )

    def reinstall(self, conn: Any = connection) -> None:
        """Write the triggers again (after a change of ``TIME_ZONE``) and rebuild the rows."""
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            for statement in self.statements[conn.vendor]():
                cursor.execute(statement)
            self.rebuild_rows(cursor, conn.vendor)

    def rebuild(self, conn: Any = connection) -> None:
        """The rows again from the records (after a load that bypassed the triggers, e.g. a restore)."""
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            self.rebuild_rows(cursor, conn.vendor)
