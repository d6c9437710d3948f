"""Real-time assignment's config kept between creations, read again only when it changed.

Every creation assigned in real time decides from the teams, their members and the members' loads
(:func:`~pheu.assignment.facts.load_config`). Only the loads change with each creation; the rest changes
when a person edits a team, a member, a user, a stage or the installation's lead settings. So a process keeps
the config it read, under the token of :class:`~pheu.assignment.models.ConfigVersion`, and a creation reads
only the token and the members' loads, in one statement (:func:`realtime_config`). The token is changed by
database triggers in the transaction of every change to what the config reads, whatever makes it (a page,
the API, a queryset ``update``, a migration, plain SQL): a reader that sees the change sees the new token.

- PostgreSQL: one statement-level trigger a table (``INSERT``, ``DELETE``, ``TRUNCATE`` and ``UPDATE`` of the
  columns the config reads, so that a scheduled run stamping its team does not count as a change).
- SQLite: row-level triggers, one a table and event.

The token is random, not a counter, so that a database restored to an earlier state (or a test's rolled-back
transaction) never shows a token a process holds for another state. Like the lead table's triggers, they are
installed after every ``migrate`` (:func:`ensure_triggers`), which also puts the row back after a flush.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from pheu.accounts.models import User
from pheu.assignment.facts import CONFIG_COLUMNS, load_config_with_token
from pheu.assignment.loads import window_start
from pheu.assignment.models import ConfigVersion, MemberLoadDay
from pheu.assignment.planner import Config
from pheu.core.models import PheuSettings
from pheu.leads.models import Stage
from pheu.leads.triggers import install
from pheu.teams.models import Team, TeamMember

TABLE = ConfigVersion._meta.db_table
ROW_ID = ConfigVersion.ROW_ID
_NEW_TOKEN = {
    "postgresql": "md5(random()::text || clock_timestamp()::text)",
    "sqlite": "lower(hex(randomblob(16)))",
}
_EVENTS = ("insert", "update", "delete")


def _watched() -> list[tuple[str, list[str] | None]]:
    """The tables the config reads, each with the columns whose update changes it (None: every column)."""

    def columns(model: type[Any], names: tuple[str, ...]) -> list[str]:
        return [model._meta.get_field(name).column for name in names]

    return [
        (Team._meta.db_table, columns(Team, CONFIG_COLUMNS["team"])),
        (TeamMember._meta.db_table, None),
        (User._meta.db_table, columns(User, CONFIG_COLUMNS["user"])),
        (Stage._meta.db_table, columns(Stage, CONFIG_COLUMNS["stage"])),
        (PheuSettings._meta.db_table, columns(PheuSettings, CONFIG_COLUMNS["settings"])),
    ]


def trigger_names(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"assignment_config_{table}" for table, _ in _watched()]
    return [f"assignment_config_{table}_{event}" for table, _ in _watched() for event in _EVENTS]


def _bump(vendor: str) -> str:
    return f"UPDATE {TABLE} SET token = {_NEW_TOKEN[vendor]} WHERE id = {ROW_ID};"


def _postgresql_sql() -> list[str]:
    statements = [
        f"""
        CREATE OR REPLACE FUNCTION assignment_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {_bump("postgresql")}
            RETURN NULL;
        END $$
        """
    ]
    for table, columns in _watched():
        name = f"assignment_config_{table}"
        update = "UPDATE" if columns is None else f"UPDATE OF {', '.join(columns)}"
        statements += [
            f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR TRUNCATE OR {update} ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION assignment_config_changed()",
        ]
    return statements


def _sqlite_sql() -> list[str]:
    statements = []
    for table, columns in _watched():
        for event in _EVENTS:
            name = f"assignment_config_{table}_{event}"
            on = f"UPDATE OF {', '.join(columns)}" if event == "update" and columns else event.upper()
            statements += [
                f"DROP TRIGGER IF EXISTS {name}",
                f"CREATE TRIGGER {name} AFTER {on} ON {table} BEGIN {_bump('sqlite')} END",
            ]
    return statements


STATEMENTS = {"postgresql": _postgresql_sql, "sqlite": _sqlite_sql}


def ensure_triggers(conn: Any = connection) -> bool:
    """Install the triggers where any is missing, and the token's row where it is missing (after a flush);
    True when the triggers had to be installed."""
    installed = install(
        conn,
        names=trigger_names(conn.vendor),
        statements=STATEMENTS,
        then=lambda cursor: None,
        done="assignment config: triggers installed",
    )
    ConfigVersion.objects.using(conn.alias).get_or_create(
        pk=ROW_ID, defaults={"token": secrets.token_hex(16)}
    )
    return installed


# --- the cache ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Kept:
    token: str
    day: date  # members' absences are decided for a day
    config: Config


_KEPT: dict[str, _Kept] = {}  # by database alias; an entry is replaced whole, never changed

# The token and every active member's load in the capacity window, in one statement (one row when there is no
# member: its member columns NULL).
_LOADS_SQL = """
SELECT v.token, m.id, COALESCE((SELECT SUM(l.count) FROM {loads} l
    WHERE l.team_id = m.team_id AND l.user_id = m.user_id AND l.day >= %s), 0)
FROM {version} v LEFT JOIN {member} m ON m.active
WHERE v.id = {row}
"""


def _loads_sql() -> str:
    quote = connection.ops.quote_name
    return _LOADS_SQL.format(
        loads=quote(MemberLoadDay._meta.db_table),
        version=quote(TABLE),
        member=quote(TeamMember._meta.db_table),
        row=ROW_ID,
    )


def _copy(config: Config, recent: dict[int, int] | None = None) -> Config:
    """A config of its own for the caller (who narrows it, parses rules into it), with ``recent`` loads."""
    members = {
        team_id: [m if recent is None else replace(m, recent=recent[m.id]) for m in ms]
        for team_id, ms in config.members.items()
    }
    copy = Config(list(config.teams), members)
    copy.order_teams()
    return copy


def realtime_config(now: datetime) -> Config:
    """The teams and members as a creation assigns from, each member with their load now: the token and the
    loads (one statement), and the rest as kept since the token last changed (else read: one statement)."""
    with connection.cursor() as cursor:
        cursor.execute(_loads_sql(), [connection.ops.adapt_datefield_value(window_start(now))])
        rows = cursor.fetchall()
    day = timezone.localdate(now)
    kept = _KEPT.get(connection.alias)
    if rows and kept is not None and kept.token == rows[0][0] and kept.day == day:
        recent = {member_id: int(load) for _, member_id, load in rows if member_id is not None}
        if all(m.id in recent for m in kept.config.all_members()):
            return _copy(kept.config, recent)
    config, token = load_config_with_token(now=now)
    if token is not None:
        _KEPT[connection.alias] = _Kept(token=token, day=day, config=_copy(config))
    return config
