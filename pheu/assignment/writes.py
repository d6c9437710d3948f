"""The writes of an assignment, the one home of their SQL: each kind of statement is one function, which
writes it as the database it runs on (``connection.vendor``) does it best, the column lists taken from the
models.

- :func:`write_run`: a run's decisions — the leads written (team, salesperson, type, stage, probability and
  their dates) and one decision row per lead written (the run's explanation, which is also the lead's
  history: :mod:`pheu.assignment.history`). PostgreSQL: one statement per part of the run updates the leads
  and inserts their decisions, the parts sent in psycopg's pipeline while the planner decides the next;
  SQLite (and any database with JSON functions): one ``UPDATE … FROM json_each`` of the leads, then the
  decisions in bulk.
- :func:`lock_members`, :func:`lock_team_members`: the locks that make runs and creations count capacities
  one after the other (none on SQLite: one writer at a time).
- :func:`has_room`, :func:`update_if_room`: the single-lead statements of real time (the capacity re-count,
  the claim), the same SQL on every database.

A run writes a lead only if its team and salesperson are still those the run read: a lead that another run
or a person changed meanwhile is left alone, and :func:`write_run` returns the ids actually written. On each
database a run stores what Python computes for the same plan — the lead's changes of :func:`lead_changes`
(those real time writes), the rows of :func:`decision_row` (``tests/test_writes.py``).
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import BooleanField, Field

from pheu.assignment.loads import window_start
from pheu.assignment.models import AssignmentDecision, AssignmentRun, MemberLoadDay
from pheu.assignment.planner import Config, LeadDecision, LeadRow, Plan, stage_change
from pheu.core.fields import model_field
from pheu.leads.choices import LeadType
from pheu.leads.models import Lead
from pheu.teams.models import TeamMember

# A large run's writes go in at most this many statements on PostgreSQL, each sent as soon as its part of the
# plan is decided. The first part holds WRITE_PART_MIN leads, so that the database starts early; the others
# share the rest (at least WRITE_PART_MIN each), and a small run is one statement.
WRITE_PARTS = 4
WRITE_PART_MIN = 5_000

# The columns of a decision row (attnames, in the model's order), and those it takes as the decision has them
# (a field of LeadDecision of the same name): all but its id, the run and the time.
DECISION_COLUMNS: tuple[str, ...] = tuple(
    f.attname for f in AssignmentDecision._meta.concrete_fields if not f.primary_key
)
_OWN = ("id", "run_id", "created_at")
DECIDED_COLUMNS: tuple[str, ...] = tuple(c for c in DECISION_COLUMNS if c not in _OWN)
# Each column of the row, in the model's order, picked from ``(None, run id, time, *decision)``: the row is
# built from positional values (Model.__init__'s fast path: a run makes 100,000 rows).
_pick = itemgetter(
    *(
        _OWN.index(f.attname) if f.attname in _OWN else len(_OWN) + LeadDecision._fields.index(f.attname)
        for f in AssignmentDecision._meta.concrete_fields
    )
)


def decision_row(d: LeadDecision, run: AssignmentRun | None, now: datetime) -> AssignmentDecision:
    """The stored explanation of ``d`` (of ``run``, or of a real-time assignment: None)."""
    return AssignmentDecision(*_pick((None, None if run is None else run.pk, now, *d)))


def lead_changes(decision: LeadDecision, lead: LeadRow, config: Config, now: datetime) -> dict[str, Any]:
    """The lead fields ``decision`` sets, by attribute name (one lead: real time; a run sets the same)."""
    team = config.team(decision.team_id)  # type: ignore[arg-type]  # a decision that writes has a team
    assert team is not None
    changes: dict[str, Any] = {"team_id": decision.team_id}
    if decision.user_id is not None:
        changes.update(user_id=decision.user_id, assigned_at=now)
    if decision.converted:
        stage = stage_change(decision, lead, team)
        changes.update(type=LeadType.OPPORTUNITY, converted_at=now, stage_id=stage.stage_id)
        if stage.changed:
            changes["stage_changed_at"] = now
        if stage.probability is not None:
            changes["probability"] = stage.probability
    return changes


# --- a run ---------------------------------------------------------------------------------------------
def write_run(
    *,
    config: Config,
    rows: list[LeadRow],
    plan: Plan,
    keep: Callable[[LeadDecision], bool],
    run: AssignmentRun,
    now: datetime,
    table: str | None = None,
) -> set[int]:
    """Decide the member phase of ``plan`` and write its decisions that write and that ``keep`` accepts (of
    the leads ``rows``, as the run read them), as ``run`` at ``now``; the ids of the leads written.
    ``table``: the leads' table as the run read them (an import's staging table; PostgreSQL only)."""

    def writing(decisions: Iterable[LeadDecision | None]) -> list[LeadDecision]:
        return [d for d in decisions if d is not None and d.writes and keep(d)]

    if connection.vendor == "postgresql":
        parts = (writing(part) for part in plan.parts(WRITE_PARTS, smallest=WRITE_PART_MIN))
        return _write_postgresql(config=config, parts=parts, run=run, now=now, table=table)
    assert table is None, "staged leads are assigned on PostgreSQL only"
    return _write_portable(config=config, rows=rows, decisions=writing(plan.decide_all()), run=run, now=now)


class _PerDialect(NamedTuple):
    """One value of a statement, as each database writes it."""

    postgresql: str
    sqlite: str


# What a run sets on each lead it writes, by attname — on PostgreSQL from the decision ``v`` and the stored
# lead ``l``, on SQLite from the values Python computed for the lead (``v``: :func:`_portable_values`) and
# ``l``. Both set what :func:`lead_changes` gives, and ``updated_at``.
_FIRST_STAGE = "v.converted AND l.stage_id IS NULL AND v.first_stage_id IS NOT NULL"  # PostgreSQL
_LEAD_SET: dict[str, _PerDialect] = {
    "team_id": _PerDialect("v.team_id", "v.team_id"),
    "user_id": _PerDialect("COALESCE(v.user_id, l.user_id)", "v.user_id"),
    "type": _PerDialect("CASE WHEN v.converted THEN %(opportunity)s ELSE l.type END", "v.type"),
    "stage_id": _PerDialect(
        f"CASE WHEN {_FIRST_STAGE} THEN v.first_stage_id ELSE l.stage_id END", "v.stage_id"
    ),
    "probability": _PerDialect(
        f"CASE WHEN {_FIRST_STAGE} AND l.auto_probability THEN COALESCE(v.first_probability, 0) "
        "ELSE l.probability END",
        "COALESCE(v.probability, l.probability)",
    ),
    "assigned_at": _PerDialect(
        "CASE WHEN v.user_id IS NOT NULL THEN %(now)s ELSE l.assigned_at END",
        "CASE WHEN v.assigned THEN %(now)s ELSE l.assigned_at END",
    ),
    "converted_at": _PerDialect(
        "CASE WHEN v.converted THEN %(now)s ELSE l.converted_at END",
        "CASE WHEN v.converted THEN %(now)s ELSE l.converted_at END",
    ),
    "stage_changed_at": _PerDialect(
        f"CASE WHEN {_FIRST_STAGE} THEN %(now)s ELSE l.stage_changed_at END",
        "CASE WHEN v.stage_changed THEN %(now)s ELSE l.stage_changed_at END",
    ),
    "updated_at": _PerDialect("%(now)s", "%(now)s"),
}

# The lead fields a run writes (their names, as the rule language has them): a run re-scores its leads only
# when an active scoring rule reads one.
WRITTEN_FIELDS: frozenset[str] = frozenset(Lead._meta.get_field(attname).name for attname in _LEAD_SET)


def _set_clause(dialect: str) -> str:
    """``column = value, …`` of :data:`_LEAD_SET` for ``dialect`` (a field of :class:`_PerDialect`)."""
    quote = connection.ops.quote_name
    return ", ".join(
        f"{quote(_column(model_field(Lead, name)))} = {getattr(values, dialect)}"
        for name, values in _LEAD_SET.items()
    )


def _column(field: Field[Any, Any]) -> str:
    assert field.column is not None  # a concrete field
    return field.column


# --- SQLite (and any database with JSON functions) -----------------------------------------------------
# (RETURNING names the updated row's columns unqualified: SQLite reads no alias there.)
_PORTABLE_UPDATE = """
UPDATE {lead} AS l SET {assignments}
FROM (SELECT {values} FROM json_each(%(values)s)) AS v
WHERE l.id = v.id AND l.team_id IS v.prev_team_id AND l.user_id IS v.prev_user_id
RETURNING id
"""


def _portable_values(
    decisions: list[LeadDecision], rows: Mapping[int, LeadRow], config: Config
) -> Iterator[dict[str, Any]]:
    """The values of :data:`_PORTABLE_UPDATE`, a JSON object per lead (its keys are the columns of ``v``)."""
    teams = {t.id: t for t in config.teams}
    for d in decisions:
        lead = rows[d.lead_id]
        stage = stage_change(d, lead, teams[d.team_id])  # type: ignore[index]  # a decision that writes has a team
        yield {
            "id": d.lead_id,
            "team_id": d.team_id,
            "user_id": d.user_id if d.user_id is not None else lead.user_id,
            "type": LeadType.OPPORTUNITY if d.converted else lead.type,
            "stage_id": stage.stage_id,
            "probability": None if stage.probability is None else float(stage.probability),
            "assigned": d.user_id is not None,
            "converted": d.converted,
            "stage_changed": stage.changed,
            "prev_team_id": lead.team_id,
            "prev_user_id": lead.user_id,
        }


def _write_portable(
    *, config: Config, rows: list[LeadRow], decisions: list[LeadDecision], run: AssignmentRun, now: datetime
) -> set[int]:
    """Write ``decisions`` (all of which write): one UPDATE from JSON, then the decisions of the leads
    written in bulk; the ids written."""
    if not decisions:
        return set()
    values = list(_portable_values(decisions, {row.id: row for row in rows}, config))
    sql = _PORTABLE_UPDATE.format(
        lead=connection.ops.quote_name(Lead._meta.db_table),
        assignments=_set_clause("sqlite"),
        values=", ".join(f"json_extract(value, '$.{key}') AS {key}" for key in values[0]),
    )
    params = {"now": connection.ops.adapt_datetimefield_value(now), "values": json.dumps(values)}
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        written = {row[0] for row in cursor.fetchall()}
    AssignmentDecision.objects.bulk_create(
        [decision_row(d, run, now) for d in decisions if d.lead_id in written]
    )
    return written


# --- PostgreSQL ----------------------------------------------------------------------------------------
# One statement writes a run, or each part of a large run. The decisions come as arrays, one per column of
# the decision row a decision gives (each as one comma-separated text: quoting a 100,000-element list
# parameter costs more than the statement; the planner folds the constant arrays and knows their length); the
# leads are updated from them, and the decisions of the leads written are inserted from them too. The small
# per-team and per-member values (rules, capacities, first stage) come in short arrays, read by each
# decision's position in them (``t``, ``m``): no join per lead. A lead whose team or salesperson changed since
# it was read is left alone (manual assignment wins; another run took it): the statement returns those.
_PG_WRITE = """
WITH v AS MATERIALIZED (
  SELECT d.*,
    (%(t_stage)s::bigint[])[d.t] AS first_stage_id, (%(t_probability)s::numeric[])[d.t] AS first_probability,
    {from_config}
  FROM unnest({arrays}, string_to_array(%(t)s, ',')::integer[], string_to_array(%(m)s, ',', '')::integer[])
    AS d({per_lead}, t, m)
), written AS (
  UPDATE {lead} AS l SET {assignments}
  FROM v
  WHERE l.id = v.lead_id AND l.user_id IS NOT DISTINCT FROM v.previous_user_id
    AND l.team_id IS NOT DISTINCT FROM (CASE WHEN v.team_chosen THEN NULL ELSE v.team_id END)
  RETURNING l.id
), decisions AS (
  INSERT INTO {decision} ({columns})
  SELECT {values}
  FROM v JOIN written w ON w.id = v.lead_id
)
SELECT v.lead_id FROM v WHERE NOT EXISTS (SELECT 1 FROM written w WHERE w.id = v.lead_id)
"""
# The decision columns read from the per-team (``t``) and per-member (``m``) arrays; the others come per lead.
_FROM_CONFIG = {
    "team_rule": "CASE WHEN d.team_chosen THEN (%(t_rule)s::text[])[d.t] ELSE '' END",
    "min_score": "CASE WHEN d.team_chosen THEN (%(t_min)s::integer[])[d.t] END",
    "member_rule": "COALESCE((%(m_rule)s::text[])[d.m], '')",
    "capacity": "(%(m_capacity)s::integer[])[d.m]",
}
# The decision columns sent per lead (each an array parameter of its own name), in the model's order.
_PER_LEAD: tuple[str, ...] = tuple(c for c in DECIDED_COLUMNS if c not in _FROM_CONFIG)


@functools.cache
def _postgresql_sql(lead_table: str) -> str:
    """:data:`_PG_WRITE` for the columns of the models, writing the leads of ``lead_table`` (once a table)."""
    quote = connection.ops.quote_name
    arrays = ", ".join(
        f"string_to_array(%({c})s, ',', '')::{model_field(AssignmentDecision, c).db_type(connection)}[]"
        for c in _PER_LEAD
    )
    of_the_run = {"run_id": "%(run)s", "created_at": "%(now)s"}
    return _PG_WRITE.format(
        from_config=", ".join(f"{sql} AS {c}" for c, sql in _FROM_CONFIG.items()),
        arrays=arrays,
        per_lead=", ".join(_PER_LEAD),
        lead=quote(lead_table),
        assignments=_set_clause("postgresql"),
        decision=quote(AssignmentDecision._meta.db_table),
        columns=", ".join(quote(_column(model_field(AssignmentDecision, c))) for c in DECISION_COLUMNS),
        values=", ".join(of_the_run.get(c, f"v.{c}") for c in DECISION_COLUMNS),
    )


def _joined(values: Iterable[Any]) -> str:
    """``values`` as one comma-separated text for ``string_to_array(…, ',', '')`` ('' is NULL)."""
    return ",".join(["" if v is None else str(v) for v in values])


def _flags(values: Iterable[bool]) -> str:
    return ",".join(["t" if v else "f" for v in values])


def _write_params(
    *, config: Config, decisions: list[LeadDecision], run: AssignmentRun, now: datetime
) -> dict[str, Any]:
    """The parameters of :data:`_PG_WRITE` for ``decisions`` (all of which write)."""
    teams = {t.id: t for t in config.teams}
    members = {m.id: m for m in config.all_members()}
    team_ids = sorted({d.team_id for d in decisions if d.team_id is not None})
    member_ids = sorted({d.member_id for d in decisions if d.member_id is not None})
    team_at = {pk: position for position, pk in enumerate(team_ids, 1)}  # SQL arrays count from 1
    member_at = {pk: position for position, pk in enumerate(member_ids, 1)}
    per_lead = {
        c: (_flags if isinstance(model_field(AssignmentDecision, c), BooleanField) else _joined)(
            map(attrgetter(c), decisions)
        )
        for c in _PER_LEAD
    }
    return {
        **per_lead,
        "run": run.pk,
        "now": now,
        "t": _joined(team_at[d.team_id] for d in decisions),  # type: ignore[index]  # every written decision has a team
        "m": _joined(member_at.get(d.member_id) for d in decisions),  # type: ignore[arg-type]  # None: no member
        "t_rule": [teams[pk].rule for pk in team_ids],
        "t_min": [teams[pk].min_score for pk in team_ids],
        "t_stage": [teams[pk].first_stage_id for pk in team_ids],
        "t_probability": [teams[pk].first_stage_probability for pk in team_ids],
        "m_rule": [members[pk].rule for pk in member_ids],
        "m_capacity": [members[pk].capacity for pk in member_ids],
        "opportunity": LeadType.OPPORTUNITY.value,
    }


def _pipeline() -> contextlib.AbstractContextManager[Any]:
    """psycopg 3's pipeline mode where the driver and libpq have it (PostgreSQL only: imported here)."""
    import psycopg

    raw = connection.connection
    if isinstance(raw, psycopg.Connection) and psycopg.Pipeline.is_supported():
        return raw.pipeline()
    return contextlib.nullcontext()


def _write_postgresql(
    *,
    config: Config,
    parts: Iterable[list[LeadDecision]],
    run: AssignmentRun,
    now: datetime,
    table: str | None = None,
) -> set[int]:
    """Write each part (decisions that all write) in one statement, each sent as soon as ``parts`` yields
    it (in pipeline mode: PostgreSQL writes a part while Python decides the next one); the ids written.
    ``table``: the table of the leads (an import's staging table, of the leads' columns; default: the
    leads')."""
    sql = _postgresql_sql(table or Lead._meta.db_table)
    sent: list[tuple[Any, list[LeadDecision]]] = []
    with contextlib.ExitStack() as cursors:
        with _pipeline():
            for part in parts:
                if not part:
                    continue
                # In the leads' order: the rows and their index entries are then visited in the order they
                # lie on disk (a run of 100,000 leads in the teams' order took 2 s longer).
                part.sort(key=lambda d: d.lead_id)
                cursor = cursors.enter_context(connection.cursor())
                cursor.execute(sql, _write_params(config=config, decisions=part, run=run, now=now))
                sent.append((cursor, part))
        written: set[int] = set()
        for cursor, part in sent:
            left_alone = {row[0] for row in cursor.fetchall()}
            written.update(d.lead_id for d in part if d.lead_id not in left_alone)
    return written


# --- locks ---------------------------------------------------------------------------------------------
def lock_members(team_id: int | None) -> None:
    """Lock the members whose capacities a run spends (of ``team_id``, or of every team taking part), in
    one order for every run (no deadlock), so that concurrent runs count the leads given in the capacity
    window one after the other."""
    if not connection.features.has_select_for_update:
        return
    members = TeamMember.objects.filter(active=True, team__active=True, team__assignment_optout=False)
    if team_id is not None:
        members = members.filter(team_id=team_id)
    list(members.select_for_update(of=("self",)).order_by("pk").values_list("pk"))


def lock_team_members(team_id: int) -> None:
    """Lock the members of the team a new lead goes to, in the order every run locks members (by id, as
    :func:`lock_members`), so that creations and runs count the team's capacities one after the other and
    never wait for each other in a cycle. Only the members' rows: a join would lock the team and user rows
    too, which the foreign-key checks of concurrent creations also lock (a deadlock seen under 8 clients)."""
    if not connection.features.has_select_for_update:  # SQLite: one writer at a time
        return
    table = connection.ops.quote_name(TeamMember._meta.db_table)
    with connection.cursor() as cursor:  # hand-written: the ORM's form cost ≈ 0.3 ms a creation
        cursor.execute(f"SELECT id FROM {table} WHERE team_id = %s ORDER BY id FOR NO KEY UPDATE", [team_id])
        cursor.fetchall()


# --- real time: one lead ---------------------------------------------------------------------------------
_LOAD_SQL = "SELECT SUM(l.count) FROM {loads} l WHERE l.team_id = %s AND l.user_id = %s AND l.day >= %s"
# One UPDATE that gives the lead its team and salesperson if it still has no salesperson (and, for a member's
# decision, the member is below capacity); hand-written because the ORM's form cost ≈ 1 ms a creation to
# compile.
_CLAIM_SQL = "UPDATE {lead} SET {assignments} WHERE id = %s AND user_id IS NULL"
_ROOM_SQL = " AND COALESCE(({load}), 0) < %s"


def _load_params(decision: LeadDecision, now: datetime) -> list[Any]:
    return [decision.team_id, decision.user_id, connection.ops.adapt_datefield_value(window_start(now))]


def has_room(decision: LeadDecision, now: datetime) -> bool:
    """Whether the decision's member is still below capacity, counted after :func:`lock_team_members` so
    that it sees every lead a concurrent creation gave them."""
    sql = f"SELECT COALESCE(({_LOAD_SQL}), 0)".format(
        loads=connection.ops.quote_name(MemberLoadDay._meta.db_table)
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, _load_params(decision, now))
        (count,) = cursor.fetchone()
    return int(count) < (decision.capacity or 0)


def update_if_room(
    lead_id: int, changes: Mapping[str, Any], *, decision: LeadDecision, now: datetime
) -> bool:
    """Write ``changes`` (attribute → value) to the stored lead, if it still has no salesperson and the
    decision's member (if any) is below capacity, counted by the ``UPDATE`` itself; whether it was
    written."""
    quote = connection.ops.quote_name
    columns: list[str] = []
    params: list[Any] = []
    for name, value in changes.items():
        field = model_field(Lead, name)  # "team_id" finds the team field too
        columns.append(f"{quote(_column(field))} = %s")
        params.append(field.get_db_prep_save(value, connection))
    sql = _CLAIM_SQL.format(lead=quote(Lead._meta.db_table), assignments=", ".join(columns))
    params.append(lead_id)
    if decision.member_id is not None:
        sql += _ROOM_SQL.format(load=_LOAD_SQL.format(loads=quote(MemberLoadDay._meta.db_table)))
        params += [*_load_params(decision, now), decision.capacity]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.rowcount == 1)
