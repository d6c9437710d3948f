"""The writes of an assignment, per dialect: a run's decisions in a few set-based statements, and the
single-lead statements of real time (the lock of a team's members, the capacity re-count).

- **PostgreSQL** (:func:`write_postgresql`): one statement per part of a run updates the leads and inserts
  the decisions of the leads written, parts sent in psycopg's pipeline while the planner decides the next;
- **SQLite and others** (:func:`write_portable`): one ``UPDATE … FROM json_each`` of the leads, then the
  decisions in bulk.

Both write a lead only if its team and salesperson are still those the run read: a lead that another run or
a person changed meanwhile is left alone, and the writers return the ids actually written. Both give the
same rows (``test_writes`` compares them with :func:`decision_row`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Field

from pheu.assignment.loads import window_start
from pheu.assignment.models import AssignmentDecision, AssignmentRun, MemberLoadDay
from pheu.assignment.planner import Config, LeadDecision, LeadRow, stage_change
from pheu.leads.choices import LeadType
from pheu.leads.models import Lead
from pheu.teams.models import TeamMember


def decision_row(d: LeadDecision, run: AssignmentRun | None, now: datetime) -> AssignmentDecision:
    """The stored explanation of ``d`` (of ``run``, or of a real-time assignment: None)."""
    return AssignmentDecision(
        run=run,
        lead_id=d.lead_id,
        created_at=now,
        team_id=d.team_id,
        user_id=d.user_id,
        member_id=d.member_id,
        previous_user_id=d.previous_user_id,
        team_chosen=d.team_chosen,
        team_rule=d.team_rule,
        min_score=d.min_score,
        member_rule=d.member_rule,
        score=d.score,
        capacity=d.capacity,
        capacity_left=d.capacity_left,
        converted=d.converted,
    )


def lead_changes(decision: LeadDecision, lead: LeadRow, config: Config, now: datetime) -> dict[str, Any]:
    """The lead fields ``decision`` sets, by attribute name (one lead: real time)."""
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


# --- SQLite (and any database with JSON functions) -----------------------------------------------------
_SQLITE_UPDATE = """
UPDATE {table} SET
  team_id = v.team_id, user_id = v.user_id, type = v.type, stage_id = v.stage_id,
  probability = COALESCE(v.probability, {table}.probability),
  assigned_at = CASE WHEN v.assigned THEN %s ELSE {table}.assigned_at END,
  converted_at = CASE WHEN v.converted THEN %s ELSE {table}.converted_at END,
  stage_changed_at = CASE WHEN v.stage_changed THEN %s ELSE {table}.stage_changed_at END,
  updated_at = %s
FROM (SELECT json_extract(value, '$.id') AS id, json_extract(value, '$.team_id') AS team_id,
        json_extract(value, '$.user_id') AS user_id, json_extract(value, '$.type') AS type,
        json_extract(value, '$.stage_id') AS stage_id, json_extract(value, '$.probability') AS probability,
        json_extract(value, '$.assigned') AS assigned, json_extract(value, '$.converted') AS converted,
        json_extract(value, '$.stage_changed') AS stage_changed,
        json_extract(value, '$.prev_team_id') AS prev_team_id,
        json_extract(value, '$.prev_user_id') AS prev_user_id
      FROM json_each(%s)) AS v
WHERE {table}.id = v.id AND {table}.team_id IS v.prev_team_id AND {table}.user_id IS v.prev_user_id
RETURNING {table}.id
"""


def _json_rows(
    decisions: list[LeadDecision], rows: Mapping[int, LeadRow], config: Config
) -> list[dict[str, Any]]:
    """The values of :data:`_SQLITE_UPDATE`, a JSON object per lead."""
    teams = {t.id: t for t in config.teams}
    values = []
    for d in decisions:
        lead = rows[d.lead_id]
        stage = stage_change(d, lead, teams[d.team_id])  # type: ignore[index]  # a decision that writes has a team
        values.append(
            {
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
        )
    return values


def write_portable(
    *, config: Config, rows: list[LeadRow], decisions: list[LeadDecision], run: AssignmentRun, now: datetime
) -> set[int]:
    """Write ``decisions`` (all of which write): one UPDATE from JSON, then the decisions of the leads
    written in bulk; the ids written."""
    if not decisions:
        return set()
    values = _json_rows(decisions, {row.id: row for row in rows}, config)
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            _SQLITE_UPDATE.format(table=connection.ops.quote_name(Lead._meta.db_table)),
            [stamp, stamp, stamp, stamp, json.dumps(values)],
        )
        written = {row[0] for row in cursor.fetchall()}
    AssignmentDecision.objects.bulk_create(
        [decision_row(d, run, now) for d in decisions if d.lead_id in written]
    )
    return written


# --- PostgreSQL ----------------------------------------------------------------------------------------
# One statement writes a run, or each part of a large run. The decisions come as arrays (each as one
# comma-separated text: quoting a 100,000-element list parameter costs more than the statement; the planner
# folds the constant arrays and knows their length); the leads are updated from them, and the decisions of
# the leads written are inserted from them too (they are also the leads' history: see
# pheu.assignment.history). The small per-team and per-member values (rules, capacities, first stage) come in
# short arrays, read by each decision's position in them (``t``, ``m``): no join per lead. A lead whose team
# or salesperson changed since it was read is left alone (manual assignment wins; another run took it): the
# statement returns those.
_PG_WRITE = """
WITH v AS MATERIALIZED (
  SELECT d.*,
    (%(t_stage)s::bigint[])[d.t] AS first_stage_id, (%(t_probability)s::numeric[])[d.t] AS first_probability,
    CASE WHEN d.team_chosen THEN (%(t_rule)s::text[])[d.t] ELSE '' END AS team_rule,
    CASE WHEN d.team_chosen THEN (%(t_min)s::integer[])[d.t] END AS min_score,
    COALESCE((%(m_rule)s::text[])[d.m], '') AS member_rule, (%(m_capacity)s::integer[])[d.m] AS capacity
  FROM unnest(
    string_to_array(%(lead)s, ',')::bigint[], string_to_array(%(team)s, ',', '')::bigint[],
    string_to_array(%(user)s, ',', '')::bigint[], string_to_array(%(member)s, ',', '')::bigint[],
    string_to_array(%(previous)s, ',', '')::bigint[], string_to_array(%(chosen)s, ',')::boolean[],
    string_to_array(%(score)s, ',')::integer[], string_to_array(%(left)s, ',', '')::integer[],
    string_to_array(%(converted)s, ',')::boolean[], string_to_array(%(t)s, ',')::integer[],
    string_to_array(%(m)s, ',', '')::integer[]
  ) AS d(lead_id, team_id, user_id, member_id, previous_user_id, team_chosen, score, capacity_left, converted,
    t, m)
), written AS (
  UPDATE {lead} AS l SET
    team_id = v.team_id,
    user_id = COALESCE(v.user_id, l.user_id),
    type = CASE WHEN v.converted THEN %(opportunity)s ELSE l.type END,
    stage_id = CASE WHEN v.converted AND l.stage_id IS NULL AND v.first_stage_id IS NOT NULL
      THEN v.first_stage_id ELSE l.stage_id END,
    probability = CASE
      WHEN v.converted AND l.stage_id IS NULL AND v.first_stage_id IS NOT NULL AND l.auto_probability
      THEN COALESCE(v.first_probability, 0) ELSE l.probability END,
    assigned_at = CASE WHEN v.user_id IS NOT NULL THEN %(now)s ELSE l.assigned_at END,
    converted_at = CASE WHEN v.converted THEN %(now)s ELSE l.converted_at END,
    stage_changed_at = CASE WHEN v.converted AND l.stage_id IS NULL AND v.first_stage_id IS NOT NULL
      THEN %(now)s ELSE l.stage_changed_at END,
    updated_at = %(now)s
  FROM v
  WHERE l.id = v.lead_id AND l.user_id IS NOT DISTINCT FROM v.previous_user_id
    AND l.team_id IS NOT DISTINCT FROM (CASE WHEN v.team_chosen THEN NULL ELSE v.team_id END)
  RETURNING l.id
), decisions AS (
  INSERT INTO {decision} (
    run_id, lead_id, created_at, team_id, user_id, member_id, previous_user_id, team_chosen, team_rule,
    min_score, member_rule, score, capacity, capacity_left, converted)
  SELECT %(run)s, v.lead_id, %(now)s, v.team_id, v.user_id, v.member_id, v.previous_user_id, v.team_chosen,
    v.team_rule, v.min_score, v.member_rule, v.score, v.capacity, v.capacity_left, v.converted
  FROM v JOIN written w ON w.id = v.lead_id
)
SELECT v.lead_id FROM v WHERE NOT EXISTS (SELECT 1 FROM written w WHERE w.id = v.lead_id)
"""


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
    return {
        "run": run.pk,
        "now": now,
        "lead": _joined(d.lead_id for d in decisions),
        "team": _joined(d.team_id for d in decisions),
        "user": _joined(d.user_id for d in decisions),
        "member": _joined(d.member_id for d in decisions),
        "previous": _joined(d.previous_user_id for d in decisions),
        "chosen": _flags(d.team_chosen for d in decisions),
        "score": _joined(d.score for d in decisions),
        "left": _joined(d.capacity_left for d in decisions),
        "converted": _flags(d.converted for d in decisions),
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


def write_postgresql(
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
    quote = connection.ops.quote_name
    sql = _PG_WRITE.format(
        decision=quote(AssignmentDecision._meta.db_table), lead=quote(table or Lead._meta.db_table)
    )
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
        field = Lead._meta.get_field(name)  # "team_id" finds the team field too
        assert isinstance(field, Field)  # a column of the lead, not a relation's other side
        columns.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    sql = _CLAIM_SQL.format(lead=quote(Lead._meta.db_table), assignments=", ".join(columns))
    params.append(lead_id)
    if decision.member_id is not None:
        sql += _ROOM_SQL.format(load=_LOAD_SQL.format(loads=quote(MemberLoadDay._meta.db_table)))
        params += [*_load_params(decision, now), decision.capacity]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return bool(cursor.rowcount == 1)
