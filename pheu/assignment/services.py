"""Automatic assignment (SPEC section 5): one service for real time, the worker, buttons, API and CLI.

Which leads take part:

- **team phase**: open, active leads with neither team nor salesperson go to the first team (by sequence;
  ties: most free capacity) whose rule matches and whose minimum score their score reaches; a lead under
  every matching team's minimum keeps no team;
- **member phase**: open, active leads with a team and no salesperson (from the team phase, or a team set
  earlier) go, best-scored first (ties: oldest first), to an available member of the team — active, not
  opted out, not away, fewer leads given in the team in the last 30 days than their capacity — whose rule
  matches; members with a rule are tried before members without one; among them the most free capacity
  relative to capacity, times the weight (ties: fewest leads, then the earliest membership). A lead no member
  can take keeps its team and waits for the next run.

A lead with a salesperson never takes part: manual assignment always wins. Redistribution (away members)
is the only move of an assigned lead, and only of a lead the service itself assigned and nobody touched.

Eligibility is decided by the compiled SQL of each rule (:mod:`pheu.assignment.facts`), the allocation in
memory, the writes in bulk: a run costs a constant number of queries whatever the number of leads.
Concurrency: a run locks the members of the teams it fills, so two runs count capacities one after the
other, and writes a lead only if its team and salesperson are still those it read: a lead that another run
or a person changed meanwhile is left alone (PostgreSQL re-checks the condition on the latest version of the
row, after waiting for the other writer), so no lead is assigned twice.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import logging
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from pheu.accounts.models import User
from pheu.assignment.exceptions import AssignmentError
from pheu.assignment.facts import (
    Config,
    LeadRow,
    MemberFacts,
    TeamFacts,
    load_config,
    parse_rules,
    read_leads,
    recent_count,
    user_label,
)
from pheu.assignment.loads import window_start
from pheu.assignment.models import AssignmentDecision, AssignmentRun, AssignmentTrigger, MemberLoadDay
from pheu.core.models import HistoryEntry, PheuSettings
from pheu.core.rows import ModelColumns, insert
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.models import Lead, Stage
from pheu.leads.services.steps import leads_changed
from pheu.rules import DomainError, clean_domain
from pheu.teams.models import Team, TeamMember
from pheu.webhooks.choices import WebhookEvent
from pheu.webhooks.services import emit_events

logger = logging.getLogger(__name__)


class Outcome:
    ASSIGNED = "assigned"  # given a salesperson (and the team, when it had none)
    TEAM_ONLY = "team_only"  # given a team; no member could take it now
    NO_MEMBER = "no_member"  # had a team; no member could take it now
    NO_TEAM = "no_team"  # no team's rule and minimum score fit
    OTHER_TEAM = "other_team"  # belongs to a team outside this run's scope


class LeadDecision(NamedTuple):
    """What the service does (or would do) with one lead, and why (a named tuple: a run makes one per
    lead, and a tuple costs a third of a frozen dataclass to create)."""

    lead_id: int
    outcome: str
    score: int
    team_id: int | None = None
    team_name: str = ""
    team_chosen: bool = False  # the lead had no team; this decision gives it one
    team_rule: str = ""
    min_score: int | None = None
    member_id: int | None = None
    user_id: int | None = None
    user_label: str = ""
    member_rule: str = ""
    capacity: int | None = None
    capacity_left: int | None = None
    converted: bool = False
    previous_user_id: int | None = None

    @property
    def writes(self) -> bool:
        return self.team_chosen or self.user_id is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "lead": self.lead_id,
            "outcome": self.outcome,
            "score": self.score,
            "team": self.team_id,
            "team_name": self.team_name,
            "team_chosen": self.team_chosen,
            "team_rule": self.team_rule,
            "min_score": self.min_score,
            "member": self.member_id,
            "user": self.user_id,
            "user_name": self.user_label,
            "member_rule": self.member_rule,
            "capacity": self.capacity,
            "capacity_left": self.capacity_left,
            "converted": self.converted,
            "previous_user": self.previous_user_id,
        }


@dataclass
class AssignmentResult:
    """The counts and decisions of a run (or of a dry run: nothing written, ``run_id`` None)."""

    dry_run: bool
    run_id: int | None = None
    considered: int = 0
    teamed: int = 0
    assigned: int = 0
    converted: int = 0
    team_counts: dict[int, int] = field(default_factory=dict)
    member_counts: dict[int, int] = field(default_factory=dict)
    team_names: dict[int, str] = field(default_factory=dict)
    member_labels: dict[int, str] = field(default_factory=dict)
    decisions: list[LeadDecision] = field(default_factory=list)
    broken_rules: list[str] = field(default_factory=list)
    merges: list[tuple[int, int]] = field(default_factory=list)  # (lead, the record it was merged into)

    @property
    def assigned_lead_ids(self) -> list[int]:
        return [d.lead_id for d in self.decisions if d.user_id is not None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "dry_run": self.dry_run,
            "considered": self.considered,
            "teamed": self.teamed,
            "assigned": self.assigned,
            "converted": self.converted,
            "teams": [
                {"team": pk, "name": self.team_names.get(pk, ""), "count": n}
                for pk, n in sorted(self.team_counts.items())
            ],
            "members": [
                {"member": pk, "name": self.member_labels.get(pk, ""), "count": n}
                for pk, n in sorted(self.member_counts.items())
            ],
            "assigned_lead_ids": self.assigned_lead_ids,
            "broken_rules": self.broken_rules,
            "merged": [{"lead": lead, "into": into} for lead, into in self.merges],
        }


# --- the plan: pure, in memory ---------------------------------------------------------------------
def _rule_test(config: Config, text: str) -> int | None:
    """The bit a lead's mask must have to satisfy ``text``: -1 for "every lead", None for "no lead" (a
    stored rule that no longer parses) — as :meth:`Config.matches` decides."""
    if not text:
        return -1
    return config.bits.get(text)


def _passes(test: int | None, mask: int) -> bool:
    return test == -1 or (test is not None and bool(mask >> test & 1))


def _priority(member: MemberFacts, load: int) -> tuple[float, int, int]:
    """Highest first: free capacity relative to capacity times the weight, then the fewest leads, then the
    earliest membership. The ratio is one correctly rounded division of exact integers, so equal ratios
    are equal floats and different ones keep their order (capacities and weights are far from 2**53)."""
    numerator, denominator = member.weight.as_integer_ratio()
    return ((member.capacity - load) * numerator / (member.capacity * denominator), -load, -member.id)


def _choose_member(
    config: Config, members: list[MemberFacts], loads: dict[int, int], mask: int, exclude_user: int | None
) -> MemberFacts | None:
    with_rule: list[MemberFacts] = []
    without_rule: list[MemberFacts] = []
    for member in members:
        if not member.available or loads[member.id] >= member.capacity or member.user_id == exclude_user:
            continue
        if not member.rule:
            without_rule.append(member)
        elif config.matches(member.rule, mask):
            with_rule.append(member)
    candidates = with_rule or without_rule
    if not candidates:
        return None
    return max(candidates, key=lambda m: _priority(m, loads[m.id]))


class _Seats:
    """The members of one team as the member phase hands out leads: for each set of members a lead's mask
    selects, a heap by priority (:func:`_priority`). A member's entries go stale when it receives a lead
    (its priority only falls); a stale entry is corrected when it reaches the top, and a full member leaves.
    Choosing a member costs O(log members), whatever the number of leads."""

    def __init__(self, config: Config, members: list[MemberFacts], loads: dict[int, int]) -> None:
        self.config = config
        self.loads = loads
        usable = [m for m in members if m.available and loads[m.id] < m.capacity]
        self.free = {m.id for m in usable}  # the members who may still receive a lead
        self.with_rule = [(m, _rule_test(config, m.rule)) for m in usable if m.rule]
        self.fallback = self._heap([m for m in usable if not m.rule])
        # The bits of the members' rules: leads that agree on them share a heap.
        self.relevant = 0
        for _member, test in self.with_rule:
            self.relevant |= 1 << test if test is not None and test >= 0 else 0
        self.groups: dict[int, list[tuple[Any, ...]]] = {}  # relevant bits → heap of the members they select

    def _entry(self, member: MemberFacts) -> tuple[Any, ...]:
        load = self.loads[member.id]
        free, fewest, earliest = _priority(member, load)
        return (-free, -fewest, -earliest, load, member)

    def _heap(self, members: list[MemberFacts]) -> list[tuple[Any, ...]]:
        heap = [self._entry(m) for m in members if self.loads[m.id] < m.capacity]
        heapq.heapify(heap)
        return heap

    @staticmethod
    def _top(heap: list[tuple[Any, ...]], loads: dict[int, int], entry: Any) -> MemberFacts | None:
        while heap:
            member = heap[0][4]
            load = loads[member.id]
            if load == heap[0][3]:
                return member
            if load >= member.capacity:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, entry(member))
        return None

    def took(self, member: MemberFacts) -> None:
        """``member`` received a lead (its load is counted already)."""
        if self.loads[member.id] >= member.capacity:
            self.free.discard(member.id)

    def choose(self, mask: int) -> MemberFacts | None:
        if not self.free:  # the team is full: most leads of a large run end here
            return None
        mask &= self.relevant
        heap = self.groups.get(mask)
        if heap is None:
            heap = self._heap([m for m, test in self.with_rule if _passes(test, mask)])
            self.groups[mask] = heap
        return self._top(heap, self.loads, self._entry) or self._top(self.fallback, self.loads, self._entry)


class _Plan:
    """A plan decided in two steps: the team phase at once, then the member phase team by team as
    :meth:`parts` are asked for, so that a run can write one part while it decides the next.

    ``previous_users``: lead id → the away salesperson whose lead is being redistributed (the lead takes
    part in the member phase of its team, and never goes back to them).

    The team of a lead depends only on its score and rule mask (chosen once per pair); its member is the
    top of a heap (:class:`_Seats`), so a plan costs O(leads × log members).
    """

    def __init__(
        self,
        config: Config,
        leads: list[LeadRow],
        *,
        scope_team_id: int | None = None,
        previous_users: Mapping[int, int] | None = None,
    ) -> None:
        self.config = config
        self.previous_users = previous_users or {}
        self.decisions: list[LeadDecision | None] = [None] * len(leads)
        self.by_team: dict[int, list[tuple[int, int, int, LeadRow, bool]]] = {}
        team_ids = {t.id: t for t in config.teams}
        tests = [(t, t.min_score, _rule_test(config, t.rule)) for t in config.teams]
        relevant = 0  # the bits of the teams' rules: leads that agree on them and on the score go to one team
        for _team, _low, test in tests:
            relevant |= 1 << test if test is not None and test >= 0 else 0
        chosen_teams: dict[tuple[int, int], TeamFacts | None] = {}
        for position, lead in enumerate(leads):
            if lead.team_id is None:
                key = (lead.score, lead.mask & relevant)
                if key in chosen_teams:
                    team = chosen_teams[key]
                else:
                    team = chosen_teams[key] = next(
                        (t for t, low, test in tests if lead.score >= low and _passes(test, lead.mask)), None
                    )
                if team is None:
                    self.decisions[position] = LeadDecision(lead.id, Outcome.NO_TEAM, lead.score)
                    continue
                chosen = True
            else:
                team = team_ids.get(lead.team_id)
                chosen = False
                if team is None:  # its team is inactive or opted out: nothing to do
                    self.decisions[position] = LeadDecision(
                        lead.id, Outcome.OTHER_TEAM, lead.score, lead.team_id
                    )
                    continue
            if scope_team_id is not None and team.id != scope_team_id:
                self.decisions[position] = LeadDecision(
                    lead.id, Outcome.OTHER_TEAM, lead.score, team.id, team.name
                )
                continue
            self.by_team.setdefault(team.id, []).append((-lead.score, lead.id, position, lead, chosen))

    def parts(self, count: int, *, smallest: int = 1) -> Iterator[list[LeadDecision]]:
        """The member phase's decisions in at most ``count`` parts, each yielded as soon as it is decided:
        the first of ``smallest`` decisions (so that the database starts writing early), the others of about
        the same size (at least ``smallest``). Once they are all yielded, every position of
        :attr:`decisions` is decided."""
        total = sum(len(items) for items in self.by_team.values())
        size = smallest if count > 1 else total
        rest = max(smallest, -(-(total - smallest) // max(count - 1, 1)))
        part: list[LeadDecision] = []
        for team_id, items in self.by_team.items():
            for position, decision in self._member_phase(team_id, items):
                self.decisions[position] = decision
                part.append(decision)
                if len(part) == size:
                    yield part
                    part, size = [], rest
        if part:
            yield part

    def decide_all(self) -> list[LeadDecision]:
        """Every decision, in the order of the leads (the member phase at once)."""
        for _part in self.parts(1):
            pass
        return self.decisions  # type: ignore[return-value]  # every position is decided

    def _member_phase(
        self, team_id: int, items: list[tuple[int, int, int, LeadRow, bool]]
    ) -> Iterator[tuple[int, LeadDecision]]:
        config = self.config
        team = config.team(team_id)
        assert team is not None  # the team phase grouped the leads by the config's teams
        members = config.members.get(team_id, [])
        loads = {m.id: m.recent for m in members}
        seats = _Seats(config, members, loads) if members else None
        convert_leads = not team.uses_leads
        items.sort()  # best-scored first, then the oldest (ids are unique: the leads are never compared)
        for _score, _id, position, lead, chosen in items:
            previous = self.previous_users.get(lead.id)
            if seats is None:
                member = None
            elif previous is not None:
                member = _choose_member(config, members, loads, lead.mask, previous)
            else:
                member = seats.choose(lead.mask)
            team_rule, min_score = (team.rule, team.min_score) if chosen else ("", None)
            why = (lead.score, team.id, team.name, chosen, team_rule, min_score)  # after the id and outcome
            if member is None:
                outcome = Outcome.TEAM_ONLY if chosen else Outcome.NO_MEMBER
                yield position, LeadDecision(lead.id, outcome, *why, previous_user_id=previous)
                continue
            loads[member.id] += 1
            if seats is not None:
                seats.took(member)
            converted = convert_leads and lead.type == LeadType.LEAD
            left = member.capacity - loads[member.id]
            member_part = (member.id, member.user_id, member.label, member.rule, member.capacity, left)
            yield position, LeadDecision(lead.id, Outcome.ASSIGNED, *why, *member_part, converted, previous)


def plan_assignment(
    config: Config,
    leads: list[LeadRow],
    *,
    scope_team_id: int | None = None,
    previous_users: Mapping[int, int] | None = None,
) -> list[LeadDecision]:
    """Decide every lead of ``leads`` (deterministic; reads and writes nothing): see :class:`_Plan`."""
    return _Plan(config, leads, scope_team_id=scope_team_id, previous_users=previous_users).decide_all()


def _result(config: Config, decisions: list[LeadDecision], *, dry_run: bool) -> AssignmentResult:
    result = AssignmentResult(dry_run=dry_run, considered=len(decisions), decisions=decisions)
    result.broken_rules = config.broken_rules()
    result.team_names = {t.id: t.name for t in config.teams}
    for decision in decisions:
        if decision.team_chosen:
            result.teamed += 1
            result.team_counts[decision.team_id] = result.team_counts.get(decision.team_id, 0) + 1  # type: ignore[index]
        if decision.member_id is not None:
            result.assigned += 1
            result.member_counts[decision.member_id] = result.member_counts.get(decision.member_id, 0) + 1
            result.member_labels[decision.member_id] = decision.user_label
        result.converted += decision.converted
    return result


# --- reading the candidates --------------------------------------------------------------------------
def candidate_leads(*, lead_ids: Collection[int] | None = None, team_id: int | None = None) -> QuerySet[Lead]:
    """Open, active leads without a salesperson (with ``team_id``: of that team or of none)."""
    leads = Lead.objects.filter(active=True, won_status=WonStatus.OPEN, user__isnull=True)
    if lead_ids is not None:
        leads = leads.filter(pk__in=list(lead_ids))
    if team_id is not None:
        leads = leads.filter(Q(team__isnull=True) | Q(team_id=team_id))
    return leads.order_by("id")


def _lock_members(team_id: int | None) -> None:
    """Lock the members whose capacities this run spends, in one order for every run (no deadlock), so
    that concurrent runs count the leads given in the last 30 days one after the other."""
    if not connection.features.has_select_for_update:
        return
    members = TeamMember.objects.filter(active=True, team__active=True, team__assignment_optout=False)
    if team_id is not None:
        members = members.filter(team_id=team_id)
    list(members.select_for_update(of=("self",)).order_by("pk").values_list("pk"))


def _locked(leads: QuerySet[Lead]) -> QuerySet[Lead]:
    if connection.features.has_select_for_update_skip_locked:
        return leads.select_for_update(skip_locked=True, of=("self",))
    return leads


# --- writing -----------------------------------------------------------------------------------------
def _lead_rows(decisions: list[LeadDecision], rows: dict[int, LeadRow], config: Config) -> list[dict]:
    teams = {t.id: t for t in config.teams}
    values = []
    for d in decisions:
        lead = rows[d.lead_id]
        team = teams[d.team_id]  # type: ignore[index]
        stage_id, probability, stage_changed = lead.stage_id, None, False
        if d.converted and lead.stage_id is None and team.first_stage_id is not None:
            stage_id, stage_changed = team.first_stage_id, True
            if lead.auto_probability:
                probability = float(team.first_stage_probability or 0)
        values.append(
            {
                "id": d.lead_id,
                "team_id": d.team_id,
                "user_id": d.user_id if d.user_id is not None else lead.user_id,
                "type": LeadType.OPPORTUNITY if d.converted else lead.type,
                "stage_id": stage_id,
                "probability": probability,
                "assigned": d.user_id is not None,
                "converted": d.converted,
                "stage_changed": stage_changed,
                "prev_team_id": lead.team_id,
                "prev_user_id": lead.user_id,
            }
        )
    return values


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


def _update_leads(values: list[dict], now: datetime) -> set[int]:
    """Write the leads' new team, salesperson, type and stage in one statement (SQLite; PostgreSQL writes
    everything in :data:`_PG_WRITE`); the ids written (a lead whose team or salesperson changed meanwhile
    is left alone)."""
    if not values:
        return set()
    sql = _SQLITE_UPDATE
    stamp = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.execute(
            sql.format(table=connection.ops.quote_name(Lead._meta.db_table)),
            [stamp, stamp, stamp, stamp, json.dumps(values)],
        )
        return {row[0] for row in cursor.fetchall()}


def _decision_row(d: LeadDecision, run: AssignmentRun | None, now: datetime) -> AssignmentDecision:
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


# PostgreSQL: one statement writes a run, or each part of a large run (WRITE_PARTS). The decisions come as
# arrays (each as one comma-separated text: quoting a 100,000-element list parameter costs more than the
# statement; the planner folds the constant arrays and knows their length); the leads are updated from them,
# and the decisions of the leads written are inserted from them too (they are also the leads' history: see
# pheu.assignment.history). The small per-team and per-member values (rules, capacities, first stage) come
# in short arrays, read by each decision's position in them (``t``, ``m``): no join per lead. A lead whose
# team or salesperson changed since it was read is left alone (manual assignment wins; another run took it):
# the statement returns those.
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


def _joined(values: Any) -> str:
    """``values`` as one comma-separated text for ``string_to_array(…, ',', '')`` ('' is NULL)."""
    return ",".join(["" if v is None else str(v) for v in values])


def _flags(values: Any) -> str:
    return ",".join(["t" if v else "f" for v in values])


def _write_params(
    *, config: Config, decisions: list[LeadDecision], run: AssignmentRun, now: datetime
) -> dict[str, Any]:
    """The parameters of :data:`_PG_WRITE` for ``decisions`` (all of which write)."""
    teams = {t.id: t for t in config.teams}
    members = {m.id: m for ms in config.members.values() for m in ms}
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
        "t": _joined(team_at[d.team_id] for d in decisions),  # every written decision has a team
        "m": _joined(member_at.get(d.member_id) for d in decisions),
        "t_rule": [teams[pk].rule for pk in team_ids],
        "t_min": [teams[pk].min_score for pk in team_ids],
        "t_stage": [teams[pk].first_stage_id for pk in team_ids],
        "t_probability": [teams[pk].first_stage_probability for pk in team_ids],
        "m_rule": [members[pk].rule for pk in member_ids],
        "m_capacity": [members[pk].capacity for pk in member_ids],
        "opportunity": LeadType.OPPORTUNITY.value,
    }


# A large run's writes go in at most this many statements, each sent as soon as its part of the plan is
# decided, in psycopg's pipeline mode: PostgreSQL writes a part while Python decides the next one, on the
# other core. The first part holds WRITE_PART_MIN leads, so that the database starts early; the others share
# the rest (at least WRITE_PART_MIN each), and a small run is one statement.
WRITE_PARTS = 4
WRITE_PART_MIN = 5_000


def _pipeline() -> contextlib.AbstractContextManager[Any]:
    """psycopg 3's pipeline mode where the driver and libpq have it (PostgreSQL only: imported here)."""
    import psycopg

    raw = connection.connection
    if isinstance(raw, psycopg.Connection) and psycopg.Pipeline.is_supported():
        return raw.pipeline()
    return contextlib.nullcontext()


def _write_postgresql(
    *, config: Config, parts: Iterable[list[LeadDecision]], run: AssignmentRun, now: datetime
) -> set[int]:
    """Write each part (decisions that all write) in one statement; the ids of the leads written."""
    quote = connection.ops.quote_name
    sql = _PG_WRITE.format(decision=quote(AssignmentDecision._meta.db_table), lead=quote(Lead._meta.db_table))
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


def _write_portable(
    *,
    config: Config,
    rows: list[LeadRow],
    decisions: list[LeadDecision],
    run: AssignmentRun,
    now: datetime,
) -> set[int]:
    """The same writes on other databases: one UPDATE from JSON, then the decisions in bulk."""
    by_id = {row.id: row for row in rows}
    written = _update_leads(_lead_rows(decisions, by_id, config), now)
    writing = [d for d in decisions if d.lead_id in written]
    AssignmentDecision.objects.bulk_create([_decision_row(d, run, now) for d in writing])
    return written


# Lead fields an assignment writes, as the rule language names them: re-scoring is needed only when an
# active scoring rule reads one of them.
ASSIGNED_FIELDS = frozenset({"team", "user", "type", "stage", "probability", "assigned_at"})


def _write(
    *,
    config: Config,
    rows: list[LeadRow],
    plan: _Plan,
    actor: Any,
    trigger: str,
    team: Team | None,
    now: datetime,
    keep: Callable[[LeadDecision], bool] = lambda decision: True,
) -> AssignmentResult:
    """Decide the member phase of ``plan`` and write its decisions (those ``keep`` accepts), as a run."""
    run = AssignmentRun.objects.create(
        started_at=now,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        trigger=trigger,
        team=team,
        rules={
            "teams": {str(t.id): t.rule for t in config.teams},
            "members": {str(m.id): m.rule for ms in config.members.values() for m in ms},
        },
    )

    def writing(decisions: Iterable[LeadDecision | None]) -> list[LeadDecision]:
        return [d for d in decisions if d is not None and d.writes and keep(d)]

    if connection.vendor == "postgresql":
        parts = (writing(part) for part in plan.parts(WRITE_PARTS, smallest=WRITE_PART_MIN))
        written = _write_postgresql(config=config, parts=parts, run=run, now=now)
    else:
        written = _write_portable(
            config=config, rows=rows, decisions=writing(plan.decide_all()), run=run, now=now
        )
    decisions = [d for d in plan.decisions if d is not None and keep(d)]
    # A lead changed between the read and the write is left out (manual assignment wins).
    if len(written) < len(writing(decisions)):
        decisions = [d for d in decisions if not d.writes or d.lead_id in written]
    result = _result(config, decisions, dry_run=False)
    result.run_id = run.pk
    run.finished_at = timezone.now()
    run.considered, run.teamed, run.assigned, run.converted = (
        result.considered,
        result.teamed,
        result.assigned,
        result.converted,
    )
    run.counts = {
        "teams": {str(k): v for k, v in result.team_counts.items()},
        "members": {str(k): v for k, v in result.member_counts.items()},
    }
    run.save(update_fields=["finished_at", "considered", "teamed", "assigned", "converted", "counts"])
    if written:  # re-scored only when an active rule reads a field it wrote
        leads_changed(
            lead_ids=AssignmentDecision.objects.filter(run=run).values("lead_id"),
            fields=ASSIGNED_FIELDS,
            outcome_may_change=False,
        )
    return result


# --- the service -------------------------------------------------------------------------------------
def _check_actor(actor: Any) -> None:
    if actor is not None and not getattr(actor, "manages_configuration", False):
        raise AssignmentError(
            _("Only sales managers and administrators run the automatic assignment."),
            code=AssignmentError.Code.FORBIDDEN,
        )


@transaction.atomic
def assign_leads(
    *,
    actor: Any,
    lead_ids: Collection[int] | None = None,
    team: Team | None = None,
    dry_run: bool = False,
    trigger: str = AssignmentTrigger.MANUAL,
) -> AssignmentResult:
    """Assign the open leads without a salesperson (all, or ``lead_ids``) to teams and salespeople.

    With ``team``, only that team is filled: leads without a team that would go to an earlier team by
    sequence are left for it. ``dry_run``: the same decisions, nothing written (``run_id`` None). ``actor``
    None is the installation (worker, import); a person must manage configuration.
    """
    _check_actor(actor)
    now = timezone.now()
    scope = team.pk if team is not None else None
    if not dry_run:
        _lock_members(scope)  # then read the loads: as they are once no other run can change them
    config = load_config(now=now)
    parse_rules(config)
    leads = candidate_leads(lead_ids=lead_ids, team_id=scope)
    rows = read_leads(leads, config)  # not locked: the write re-checks each lead (see _PG_WRITE)
    merges = _duplicates_to_merge(config, rows, scope_team_id=scope)
    if dry_run:
        result = _result(config, plan_assignment(config, rows, scope_team_id=scope), dry_run=True)
        result.merges = merges
        return result
    if merges:
        merges = _merge_duplicates(merges)
        rows = read_leads(leads, config)  # the leads merged away are inactive now; a survivor takes part
    plan = _Plan(config, rows, scope_team_id=scope)
    result = _write(config=config, rows=rows, plan=plan, actor=actor, trigger=trigger, team=team, now=now)
    result.merges = merges
    emit_events(event=WebhookEvent.LEAD_ASSIGNED, label="leads.lead", pks=result.assigned_lead_ids)
    return result


def _duplicates_to_merge(
    config: Config, rows: list[LeadRow], *, scope_team_id: int | None
) -> list[tuple[int, int]]:
    """SPEC 6 (team setting, off by default): the waiting leads that go to a team merging duplicates on
    assignment and share their normalised e-mail with an older open record (of any team, or another lead of
    this run) — each with the oldest such record. Nothing is read when no team merges."""
    merging = {t.id for t in config.teams if t.merge_duplicates}
    if not merging or not rows:
        return []
    decisions = plan_assignment(config, rows, scope_team_id=scope_team_id)
    wanted = [d.lead_id for d in decisions if d.writes and d.team_id in merging]
    if not wanted:
        return []
    emails = dict(
        Lead.objects.filter(pk__in=wanted).exclude(email_normalized="").values_list("pk", "email_normalized")
    )
    if not emails:
        return []
    oldest: dict[str, int] = {}
    others = (
        Lead.objects.filter(email_normalized__in=set(emails.values()), active=True, won_status=WonStatus.OPEN)
        .order_by("created_at", "id")
        .values_list("pk", "email_normalized")
    )
    for pk, email in others:
        oldest.setdefault(email, pk)
    return [(pk, oldest[email]) for pk, email in sorted(emails.items()) if oldest.get(email, pk) != pk]


def _merge_duplicates(merges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Merge each lead with its older record (the merge service picks the survivor by SPEC 6's rule); the
    merges made. A merge the service refuses (records of different customers need a person's confirmation)
    is not made: that lead is assigned as any other."""
    from pheu.leads.services.merge import MergeError, merge_leads

    made = []
    records = Lead.objects.in_bulk({pk for pair in merges for pk in pair})
    survivor_of: dict[int, int] = {}  # a record merged away by an earlier merge of this run → its survivor
    for lead_id, into in merges:
        into = survivor_of.get(into, into)
        lead, target = records.get(lead_id), records.get(into)
        if lead is None or target is None:
            continue
        try:
            merge = merge_leads(actor=None, leads=[target, lead])
        except MergeError:
            continue
        for pk in (lead_id, into):
            if pk != merge.survivor_id:
                survivor_of[pk] = merge.survivor_id
        records[merge.survivor_id] = merge.survivor
        made.append((lead_id, into))
    return made


# --- real time ---------------------------------------------------------------------------------------
# The teams and their active members with each member's load, in one statement: the ORM's form of it (a
# filtered join, three subqueries) cost ≈ 3 ms a creation to compile, more than the query itself.
_REALTIME_SQL = """
SELECT {team_columns}, {member_columns}, u.is_active, u.first_name, u.last_name, u.username,
  (SELECT p.use_leads FROM {settings} p WHERE p.id = 1),
  (SELECT p.merge_duplicates_on_assignment FROM {settings} p WHERE p.id = 1),
  (SELECT s.id FROM {stage} s WHERE s.team_id = t.id OR s.team_id IS NULL ORDER BY s.sequence, s.id LIMIT 1),
  (SELECT s.probability FROM {stage} s WHERE s.team_id = t.id OR s.team_id IS NULL
     ORDER BY s.sequence, s.id LIMIT 1),
  COALESCE((SELECT SUM(l.count) FROM {loads} l
     WHERE l.team_id = t.id AND l.user_id = m.user_id AND l.day >= %s), 0)
FROM {team} t
LEFT JOIN {member} m ON m.team_id = t.id AND m.active
LEFT JOIN {user} u ON u.id = m.user_id
WHERE t.active AND NOT t.assignment_optout
ORDER BY t.sequence, t.id, m.id
"""
# Only what the facts below read: every column of a team (its web form's settings…) cost ≈ 0.2 ms a creation
# to fetch and convert.
_TEAM_COLUMNS = ModelColumns(
    Team,
    "t",
    only=(
        "name",
        "sequence",
        "min_score",
        "assignment_domain",
        "use_leads",
        "merge_duplicates_on_assignment",
    ),
)
_MEMBER_COLUMNS = ModelColumns(
    TeamMember,
    "m",
    only=("user", "assignment_domain", "capacity", "weight", "optout", "away_from", "away_until"),
)


def realtime_config(now: datetime) -> Config:
    """The teams and members as :func:`~pheu.assignment.facts.load_config` reads them, in one query."""
    quote = connection.ops.quote_name
    sql = _REALTIME_SQL.format(
        team_columns=_TEAM_COLUMNS.select(),
        member_columns=_MEMBER_COLUMNS.select(),
        settings=quote(PheuSettings._meta.db_table),
        stage=quote(Stage._meta.db_table),
        loads=quote(MemberLoadDay._meta.db_table),
        team=_TEAM_COLUMNS.table(),
        member=_MEMBER_COLUMNS.table(),
        user=quote(User._meta.db_table),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [connection.ops.adapt_datefield_value(window_start(now))])
        rows = cursor.fetchall()
    teams: dict[int, TeamFacts] = {}
    members: dict[int, list[MemberFacts]] = {}
    today = timezone.localdate(now)
    width_team, width_member = len(_TEAM_COLUMNS), len(_MEMBER_COLUMNS)
    for row in rows:
        team = _TEAM_COLUMNS.instance(row[:width_team])
        member = _MEMBER_COLUMNS.instance(row[width_team : width_team + width_member])
        user_active, first, last, username, default, merging, stage_id, probability, recent = row[
            width_team + width_member :
        ]
        assert isinstance(team, Team)
        if team.pk not in teams:
            uses = team.uses_leads(True if default is None else bool(default))
            teams[team.pk] = TeamFacts(
                team.pk,
                team.name,
                team.sequence,
                team.min_score,
                team.assignment_domain.strip(),
                uses,
                stage_id,
                None if probability is None else Decimal(str(probability)),
                team.merges_duplicates(bool(merging)),
            )
        if not isinstance(member, TeamMember) or not user_active:
            continue
        members.setdefault(team.pk, []).append(
            MemberFacts(
                member.pk,
                team.pk,
                member.user_id,
                user_label(first, last, username),
                member.assignment_domain.strip(),
                member.capacity,
                member.weight,
                int(recent),
                member.optout,
                member.is_away(today),
            )
        )
    config = Config(list(teams.values()), members)
    config.order_teams()
    return config


def _lock_team_members(team_id: int) -> None:
    """Lock the members of the team a new lead goes to, in the order every run locks members (by id, as
    :func:`_lock_members`), so that creations and runs count the team's capacities one after the other and
    never wait for each other in a cycle. Only the members' rows: a join would lock the team and user rows
    too, which the foreign-key checks of concurrent creations also lock (a deadlock seen under 8 clients)."""
    if not connection.features.has_select_for_update:  # SQLite: one writer at a time
        return
    table = connection.ops.quote_name(TeamMember._meta.db_table)
    with connection.cursor() as cursor:  # hand-written: the ORM's form cost ≈ 0.3 ms a creation
        cursor.execute(f"SELECT id FROM {table} WHERE team_id = %s ORDER BY id FOR NO KEY UPDATE", [team_id])
        cursor.fetchall()


def _claim_for_member(
    *, lead: Lead, decision: LeadDecision, row: LeadRow, config: Config, now: datetime
) -> bool:
    """Give ``lead`` its decision's team and member, unless that takes the member over capacity — counted
    by the ``UPDATE`` itself, after :func:`_lock_team_members`, so that it sees every lead a concurrent
    creation gave them; whether it was given."""
    values = _lead_rows([decision], {row.id: row}, config)[0]
    update: dict[str, Any] = {"team_id": decision.team_id, "updated_at": now}
    if decision.user_id is not None:
        update.update(user_id=decision.user_id, assigned_at=now)
    if decision.converted:
        update.update(type=LeadType.OPPORTUNITY, converted_at=now, stage_id=values["stage_id"])
        if values["stage_changed"]:
            update["stage_changed_at"] = now
        if values["probability"] is not None:
            update["probability"] = Decimal(str(values["probability"]))
    if not _update_if_room(lead.pk, update, decision=decision, now=now):
        return False
    for name, value in update.items():
        setattr(lead, name, value)
    return True


# One UPDATE that gives the lead its team and salesperson if it still has no salesperson and the member
# is below capacity; hand-written because the ORM's form cost ≈ 1 ms a creation to compile.
_CLAIM_SQL = """
UPDATE {lead} SET {assignments} WHERE id = %s AND user_id IS NULL
"""
_ROOM_SQL = """
 AND COALESCE((SELECT SUM(l.count) FROM {loads} l WHERE l.team_id = %s AND l.user_id = %s AND l.day >= %s), 0)
 < %s
"""


def _update_if_room(
    lead_id: int, update: Mapping[str, Any], *, decision: LeadDecision, now: datetime
) -> bool:
    quote = connection.ops.quote_name
    columns: list[str] = []
    params: list[Any] = []
    for name, value in update.items():
        field = Lead._meta.get_field(name)  # "team_id" finds the team field too
        columns.append(f"{quote(field.column)} = %s")  # type: ignore[union-attr]
        params.append(field.get_db_prep_save(value, connection))
    sql = _CLAIM_SQL.format(lead=quote(Lead._meta.db_table), assignments=", ".join(columns)).rstrip()
    params.append(lead_id)
    if decision.member_id is not None:
        sql += _ROOM_SQL.format(loads=quote(MemberLoadDay._meta.db_table))
        day = connection.ops.adapt_datefield_value(window_start(now))
        params += [decision.team_id, decision.user_id, day, decision.capacity]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == 1


def _python_row(lead: Lead, config: Config, tags: Iterable[Any]) -> LeadRow:
    """The candidate row of a lead just created, its rule mask evaluated in Python on the instance (SPEC 2:
    evaluation and SQL agree on every record; the rule language's tests hold them equal)."""
    from pheu.leads.rules_schema import lead_facts

    facts = lead_facts(lead, tags=list(tags), pageviews=())
    mask = 0
    for text, bit in config.bits.items():
        domain = config.rules[text]
        if domain is not None and domain.evaluate(facts):
            mask |= 1 << bit
    return LeadRow(
        lead.pk, lead.team_id, lead.user_id, lead.score, lead.type, lead.stage_id, lead.auto_probability, mask
    )


def _oldest_open_record(email_normalized: str, *, exclude: int | None = None) -> Lead | None:
    """The oldest open, active record of the normalised e-mail (the survivor a merge on assignment picks)."""
    return (
        Lead.objects.filter(email_normalized=email_normalized, active=True, won_status=WonStatus.OPEN)
        .exclude(pk=exclude)
        .order_by("created_at", "id")
        .first()
    )


def _merged_into_duplicate(*, lead: Lead, decision: LeadDecision, config: Config) -> bool:
    """When the team the new ``lead`` goes to says so (``merge_duplicates_on_assignment``, SPEC 6), merge it
    with the oldest open record of the same normalised e-mail instead of assigning it separately (the
    merge picks the survivor). Whether it was merged. One query when the team says so and the lead has an
    e-mail; none otherwise. A merge the merge service refuses (records of different customers need a
    person's confirmation) is not made: the lead is then assigned as any other."""
    team = config.team(decision.team_id) if decision.team_id is not None else None
    if team is None or not team.merge_duplicates or not lead.email_normalized:
        return False
    existing = _oldest_open_record(lead.email_normalized, exclude=lead.pk)
    if existing is None:
        return False
    from pheu.leads.services.merge import MergeError, merge_leads

    try:
        merge_leads(actor=None, leads=[existing, lead])
    except MergeError:
        return False
    return True


def assign_new_lead(*, lead: Lead, tags: Iterable[Any] | None = None, config: Config | None = None) -> None:
    """Assign one lead just created (SPEC: "in the same transaction as its creation"), when it has no
    salesperson: the same rules and choice as :func:`assign_leads`, with its decision recorded (no run).

    ``tags``: the tags it was created with, when it has no page views yet: its rule mask is then evaluated
    in Python on the instance; otherwise (None) the database computes it (one query). ``config``: the teams
    and members as :func:`realtime_config` read them in this transaction (read here otherwise).

    Queries, when a member is chosen: the lock of the team's members, the lead's update (which counts the
    member's capacity again), the decision. When the member filled up meanwhile (a concurrent creation), the
    next member is tried under the same locks. When its team merges duplicates on assignment and an open
    record has its e-mail, the lead is merged with it instead (:func:`_merged_into_duplicate`).
    """
    if lead.user_id is not None or not lead.active or lead.won_status != WonStatus.OPEN:
        return
    now = timezone.now()
    config = config or realtime_config(now)
    parse_rules(config, cached=True)
    if tags is not None:
        row = _python_row(lead, config, tags)
    else:
        rows = read_leads(Lead.objects.filter(pk=lead.pk), config)
        if not rows:
            return
        row = rows[0]
    locked: int | None = None
    for _attempt in range(1 + sum(len(ms) for ms in config.members.values())):
        decision = plan_assignment(config, [row])[0]
        if not decision.writes:
            return
        if _attempt == 0 and _merged_into_duplicate(lead=lead, decision=decision, config=config):
            return
        if decision.member_id is not None and locked != decision.team_id:
            _lock_team_members(decision.team_id)  # type: ignore[arg-type]  # a member's decision has a team
            locked = decision.team_id
        if _claim_for_member(lead=lead, decision=decision, row=row, config=config, now=now):
            break
        # The member filled up meanwhile (another lead created at the same time): count them as full.
        assert decision.member_id is not None
        full = config.member(decision.member_id)
        assert full is not None
        config = config.with_member(full.id, recent=full.capacity)
    else:  # pragma: no cover — every member was tried
        return
    _decision_row(decision, None, now).save(force_insert=True)
    # No re-scoring here: the creation scored the lead just before (its score is what chose the team), and
    # the query budget of a creation is tight (SPEC 13); batch runs re-score what they write.


@dataclass(frozen=True)
class NewLeadAssignment:
    """What :func:`assign_unsaved_lead` decided for a lead about to be inserted: the decision it applied to
    the instance (to record once the lead has its id: :func:`record_new_assignment`; None when no team or
    member takes it), or ``after_insert``: the lead is assigned once inserted (:func:`assign_new_lead`), as
    its team merges duplicates on assignment and merging needs the stored record."""

    decision: LeadDecision | None = None
    at: datetime | None = None  # the decision's time: the lead's ``assigned_at`` when it got a salesperson
    after_insert: bool = False


_ROOM_LEFT_SQL = """
SELECT COALESCE(SUM(l.count), 0) FROM {loads} l WHERE l.team_id = %s AND l.user_id = %s AND l.day >= %s
"""


def _has_room(decision: LeadDecision, now: datetime) -> bool:
    """Whether the decision's member is still below capacity, counted after :func:`_lock_team_members` so
    that it sees every lead a concurrent creation gave them."""
    sql = _ROOM_LEFT_SQL.format(loads=connection.ops.quote_name(MemberLoadDay._meta.db_table))
    day = connection.ops.adapt_datefield_value(window_start(now))
    with connection.cursor() as cursor:
        cursor.execute(sql, [decision.team_id, decision.user_id, day])
        (count,) = cursor.fetchone()
    return int(count) < (decision.capacity or 0)


def _apply_decision(lead: Lead, decision: LeadDecision, row: LeadRow, config: Config, now: datetime) -> None:
    """Give the unsaved ``lead`` what the decision gives (the columns :func:`_claim_for_member` writes)."""
    values = _lead_rows([decision], {row.id: row}, config)[0]
    lead.team_id = decision.team_id
    if decision.user_id is not None:
        lead.user_id, lead.assigned_at = decision.user_id, now
    if decision.converted:
        lead.type, lead.converted_at, lead.stage_id = LeadType.OPPORTUNITY, now, values["stage_id"]
        if values["stage_changed"]:
            lead.stage_changed_at = now
        if values["probability"] is not None:
            lead.probability = Decimal(str(values["probability"]))


def assign_unsaved_lead(*, lead: Lead, tags: Iterable[Any]) -> NewLeadAssignment:
    """Decide the team and salesperson of a lead about to be created, with no salesperson and no page
    views waiting for it (its rule mask is then evaluated in Python on the instance, exactly), and give them
    to the instance, so that the lead is inserted once with its final values (SPEC 5: real time, in the
    transaction of its creation) instead of inserted and then updated. When its team merges duplicates on
    assignment and an open record has its e-mail, ``after_insert``: the merge needs the stored lead.

    Same rules, choice and capacity count as :func:`assign_new_lead`: the chosen team's members are locked
    (:func:`_lock_team_members`) and the member's load counted again under the lock; a member who filled up
    meanwhile is counted full and the next one tried. Queries: the teams and members, and when a member is
    chosen the lock and the count."""
    if lead.user_id is not None or not lead.active or lead.won_status != WonStatus.OPEN:
        return NewLeadAssignment()
    now = timezone.now()
    config = realtime_config(now)
    parse_rules(config, cached=True)
    row = _python_row(lead, config, tags)
    locked: int | None = None
    for attempt in range(1 + sum(len(ms) for ms in config.members.values())):
        decision = plan_assignment(config, [row])[0]
        if not decision.writes:
            return NewLeadAssignment()
        team = config.team(decision.team_id)  # type: ignore[arg-type]  # a decision that writes has a team
        merging = attempt == 0 and team is not None and team.merge_duplicates and lead.email_normalized
        if merging and _oldest_open_record(lead.email_normalized) is not None:  # merged once inserted
            return NewLeadAssignment(after_insert=True)
        if decision.member_id is not None:
            if locked != decision.team_id:
                _lock_team_members(decision.team_id)  # type: ignore[arg-type]
                locked = decision.team_id
            if not _has_room(decision, now):  # filled by a concurrent creation: count them as full
                full = config.member(decision.member_id)
                assert full is not None
                config = config.with_member(full.id, recent=full.capacity)
                continue
        _apply_decision(lead, decision, row, config, now)
        return NewLeadAssignment(decision=decision, at=now)
    return NewLeadAssignment()  # pragma: no cover — every member was tried


def record_new_assignment(lead: Lead, assignment: NewLeadAssignment) -> None:
    """Record the decision :func:`assign_unsaved_lead` applied, now that the lead has its id (one INSERT)."""
    if assignment.decision is not None:
        decision = assignment.decision._replace(lead_id=lead.pk)
        insert(_decision_row(decision, None, assignment.at or timezone.now()))


# --- availability ------------------------------------------------------------------------------------
def untouched_leads_of(members: list[MemberFacts]) -> QuerySet[Lead]:
    """The open leads the service gave to ``members`` (their newest assignment is the service's, same
    time) that nobody worked on since: no history entry written by a person after the assignment."""
    if not members:
        return Lead.objects.none()
    pairs = Q()
    for member in members:
        pairs |= Q(team_id=member.team_id, user_id=member.user_id)
    automatic = AssignmentDecision.objects.filter(
        lead=OuterRef("pk"), user_id=OuterRef("user_id"), created_at=OuterRef("assigned_at")
    )
    touched = HistoryEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead),
        object_id=OuterRef("pk"),
        author__isnull=False,
        created_at__gt=OuterRef("assigned_at"),
    )
    return (
        Lead.objects.filter(active=True, won_status=WonStatus.OPEN)
        .filter(pairs)
        .filter(Exists(automatic))
        .exclude(Exists(touched))
        .order_by("id")
    )


@transaction.atomic
def redistribute_leads(
    *,
    actor: Any,
    team: Team | None = None,
    member: TeamMember | None = None,
    dry_run: bool = False,
    trigger: str = AssignmentTrigger.REDISTRIBUTE,
) -> AssignmentResult:
    """Give the untouched leads of away members (all, of ``team``, or ``member``) to their available
    teammates, by the same rules as :func:`assign_leads`, each move explained. A lead no teammate can take
    stays with its salesperson."""
    _check_actor(actor)
    now = timezone.now()
    scope = team.pk if team is not None else (member.team_id if member is not None else None)
    if not dry_run:
        _lock_members(scope)
    config = load_config(now=now)
    parse_rules(config)
    away = [
        m
        for ms in config.members.values()
        for m in ms
        if m.away and (scope is None or m.team_id == scope) and (member is None or m.id == member.pk)
    ]
    if member is not None and not away:
        raise AssignmentError(
            _("%(member)s is not away today.") % {"member": member.user},
            code=AssignmentError.Code.INVALID,
            field_errors={"member": [_("%(member)s is not away today.") % {"member": member.user}]},
        )
    leads = untouched_leads_of(away)
    original = read_leads(leads if dry_run else _locked(leads), config)
    previous = {row.id: row.user_id for row in original if row.user_id is not None}
    rows = [
        LeadRow(r.id, r.team_id, None, r.score, r.type, r.stage_id, r.auto_probability, r.mask)
        for r in original
    ]

    def moves(decision: LeadDecision) -> bool:
        return decision.user_id is not None  # the others stay where they are

    if dry_run:
        decisions = plan_assignment(config, rows, previous_users=previous)
        return _result(config, [d for d in decisions if moves(d)], dry_run=True)
    plan = _Plan(config, rows, previous_users=previous)
    result = _write(
        config=config, rows=original, plan=plan, actor=actor, trigger=trigger, team=team, now=now, keep=moves
    )
    emit_events(event=WebhookEvent.LEAD_ASSIGNED, label="leads.lead", pks=result.assigned_lead_ids)
    return result


# --- simulation of a rule not yet saved --------------------------------------------------------------
@dataclass(frozen=True)
class Move:
    """``count`` waiting leads would go to ``to`` instead of ``source`` (labels: "Team", "Team / person",
    or "" for nowhere); ``lead_ids``: the first few."""

    source: str
    to: str
    count: int
    lead_ids: tuple[int, ...]


@dataclass(frozen=True)
class Simulation:
    """What saving an edited team or member would change in the next run: the leads waiting for assignment
    that would go elsewhere, grouped by where they would have gone and where they would go."""

    waiting: int
    moved: int
    moves: tuple[Move, ...]
    before: AssignmentResult
    after: AssignmentResult


def _destination(d: LeadDecision) -> str:
    if d.team_id is None or d.outcome == Outcome.OTHER_TEAM:
        return ""
    return f"{d.team_name} / {d.user_label}" if d.user_label else d.team_name


def _edited_values(values: Mapping[str, Any], *, team: bool) -> dict[str, Any]:
    """The edited values as the planner takes them; every problem is a field error."""
    errors: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    if "assignment_domain" in values:
        try:
            changes["rule"] = clean_domain(values["assignment_domain"], "lead").text
        except DomainError as exc:
            errors["assignment_domain"] = exc.messages
    numbers = (
        {"min_score": _("The minimum score is a whole number.")}
        if team
        else {
            "capacity": _("The capacity is a whole number of leads, 0 or more."),
        }
    )
    for name, message in numbers.items():
        if name in values:
            value = values[name]
            try:
                number = int(str(value).strip())
            except (TypeError, ValueError):
                errors[name] = [message]
                continue
            if name == "capacity" and number < 0:
                errors[name] = [message]
            changes[name] = number
    if not team and "weight" in values:
        try:
            weight = Decimal(str(values["weight"]).strip())
            if not weight.is_finite() or weight < 0:
                raise InvalidOperation
            changes["weight"] = weight
        except (InvalidOperation, ValueError):
            errors["weight"] = [_("The weight is a number, 0 or more.")]
    if not team and "optout" in values:
        changes["optout"] = bool(values["optout"])
    if errors:
        raise AssignmentError(code=AssignmentError.Code.INVALID, field_errors=errors)
    return changes


def simulate_rule_change(
    *, actor: Any, team: Team | None = None, member: TeamMember | None = None, values: Mapping[str, Any]
) -> Simulation:
    """What the next run would do differently if ``team`` (or ``member``) had ``values`` — its
    ``assignment_domain``, ``min_score`` (team), ``capacity``, ``weight``, ``optout`` (member) — as edited
    in a form and not saved. Reads only; bad values are field errors."""
    _check_actor(actor)
    if (team is None) == (member is None):
        raise ValueError("simulate_rule_change takes a team or a member")
    changes = _edited_values(values, team=team is not None)
    now = timezone.now()
    config = load_config(now=now)
    parse_rules(config, extra=[changes["rule"]] if changes.get("rule") else [])
    if team is not None:
        if config.team(team.pk) is None:
            raise AssignmentError(
                code=AssignmentError.Code.INVALID,
                field_errors={
                    "team": [_("This team takes no part in automatic assignment (inactive or opted out).")]
                },
            )
        edited = config.with_team(team.pk, **changes)
    else:
        assert member is not None
        if config.member(member.pk) is None:
            raise AssignmentError(
                code=AssignmentError.Code.INVALID,
                field_errors={"member": [_("This member takes no part in automatic assignment.")]},
            )
        edited = config.with_member(member.pk, **changes)
    rows = read_leads(candidate_leads(), config)
    before = plan_assignment(config, rows)
    after = plan_assignment(edited, rows)
    moved: dict[tuple[str, str], list[int]] = {}
    for old, new in zip(before, after, strict=True):
        key = (_destination(old), _destination(new))
        if key[0] != key[1]:
            moved.setdefault(key, []).append(old.lead_id)
    moves = tuple(
        Move(source, to, len(ids), tuple(ids[:10]))
        for (source, to), ids in sorted(moved.items(), key=lambda item: (-len(item[1]), item[0]))
    )
    return Simulation(
        waiting=len(rows),
        moved=sum(m.count for m in moves),
        moves=moves,
        before=_result(config, before, dry_run=True),
        after=_result(edited, after, dry_run=True),
    )


# --- schedule ----------------------------------------------------------------------------------------
def run_scheduled_assignments(*, now: datetime | None = None) -> list[AssignmentResult]:
    """Run the assignment of every team whose period (``assignment_every_hours``) has passed since its
    last scheduled run, by sequence. Each team is claimed with one conditional UPDATE, so that several
    workers never run a team twice for one period. The claim and the run commit together: a team whose run
    fails is logged and tried again at the next round, and the teams after it still run."""
    now = now or timezone.now()
    results = []
    teams = Team.objects.filter(active=True, assignment_optout=False, assignment_every_hours__isnull=False)
    for team in teams.order_by("sequence", "id"):
        due = now - timedelta(hours=team.assignment_every_hours)
        try:
            with transaction.atomic():
                claimed = (
                    Team.objects.filter(pk=team.pk)
                    .filter(
                        Q(last_scheduled_assignment_at__isnull=True)
                        | Q(last_scheduled_assignment_at__lte=due)
                    )
                    .update(last_scheduled_assignment_at=now)
                )
                if claimed:
                    results.append(assign_leads(actor=None, team=team, trigger=AssignmentTrigger.SCHEDULE))
        except Exception:
            logger.exception("scheduled assignment of team %s failed", team.pk)
    return results


# --- reads -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LeadAssignment:
    """A lead's newest automatic assignment and whether it still holds (``manual``: changed by hand since)."""

    decision: AssignmentDecision | None
    current: bool
    manual: bool


def _holds(decision: AssignmentDecision, lead: Lead) -> bool:
    """Whether ``decision`` explains ``lead``'s salesperson (or, giving none, its team) as it is now. A
    salesperson's decision is the one stamped with the lead's ``assigned_at``: a run writes both with one
    time, and a change by hand, or a later run, stamps the lead anew."""
    if decision.user_id is not None:
        return lead.user_id == decision.user_id and lead.assigned_at == decision.created_at
    return lead.user_id is None and lead.team_id == decision.team_id


# --- why a lead waits --------------------------------------------------------------------------------
class WaitingReason:
    """Why an open lead has no salesperson: what the next run would meet (the lead page, its API and the
    assignment report say it in these words)."""

    BELOW_MIN_SCORE = "below_min_score"  # under every team's minimum score
    NO_TEAM_RULE = "no_team_rule"  # reaches a minimum, but no such team's rule matches
    NO_TEAM = "no_team"  # no team takes part in automatic assignment
    MEMBERS_FULL = "members_full"  # its team's members are all full, away, opted out or not matching
    TEAM_OFF = "team_off"  # its team is inactive or skips automatic assignment
    NEXT_RUN = "next_run"  # the next run would assign it

    @staticmethod
    def labels() -> dict[str, str]:
        return {
            WaitingReason.BELOW_MIN_SCORE: _("Below every team's minimum score"),
            WaitingReason.NO_TEAM_RULE: _("No team's rule matches"),
            WaitingReason.NO_TEAM: _("No team takes automatic assignment"),
            WaitingReason.MEMBERS_FULL: _("Every member full, away or not matching"),
            WaitingReason.TEAM_OFF: _("Its team skips automatic assignment"),
            WaitingReason.NEXT_RUN: _("The next assignment run would assign it"),
        }


def waiting_reason(config: Config, decision: LeadDecision) -> str:
    """The :class:`WaitingReason` of a lead that the plan (:func:`plan_assignment`) decided as
    ``decision``. A lead no team takes is *below every team's minimum score* when its score is under the
    lowest minimum, else no team whose minimum it reaches has a rule that matches it."""
    if decision.outcome == Outcome.NO_TEAM:
        if not config.teams:
            return WaitingReason.NO_TEAM
        lowest = min(team.min_score for team in config.teams)
        return WaitingReason.BELOW_MIN_SCORE if decision.score < lowest else WaitingReason.NO_TEAM_RULE
    if decision.outcome in (Outcome.TEAM_ONLY, Outcome.NO_MEMBER):
        return WaitingReason.MEMBERS_FULL
    if decision.outcome == Outcome.OTHER_TEAM:
        return WaitingReason.TEAM_OFF
    return WaitingReason.NEXT_RUN


@dataclass(frozen=True)
class Waiting:
    reason: str  # a WaitingReason
    label: str


def why_waiting(*, lead: Lead, now: datetime | None = None) -> Waiting | None:
    """Why ``lead`` has no salesperson, as the next run would decide it now (reads only: the teams and
    members, their rules' look-ups, the lead). None when it does not wait: it has a salesperson, or is
    closed or inactive."""
    if lead.user_id is not None or not lead.active or lead.won_status != WonStatus.OPEN:
        return None
    config = load_config(now=now or timezone.now())
    parse_rules(config)
    rows = read_leads(Lead.objects.filter(pk=lead.pk), config)
    if not rows:
        return None
    reason = waiting_reason(config, plan_assignment(config, rows)[0])
    return Waiting(reason, WaitingReason.labels()[reason])


def lead_assignment(*, lead: Lead) -> LeadAssignment:
    """The decision of the service that explains ``lead`` as it is now; else its newest decision, which
    no longer holds (one query). A lead merged into this one brings its decisions along: the newest of
    them may be of that lead's salesperson, not of this one's."""
    decisions = list(
        AssignmentDecision.objects.filter(lead=lead)
        .select_related("team", "user", "run", "previous_user")
        .order_by("-id")
    )
    if not decisions:
        return LeadAssignment(None, False, lead.user_id is not None)
    holding = next((d for d in decisions if _holds(d, lead)), None)
    if holding is not None:
        return LeadAssignment(holding, True, False)
    return LeadAssignment(decisions[0], False, True)


@dataclass(frozen=True)
class MemberLoad:
    member_id: int
    team_id: int
    team_name: str
    user_label: str
    capacity: int
    recent: int
    optout: bool
    away: bool
    active: bool

    @property
    def free(self) -> int:
        return max(self.capacity - self.recent, 0)

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.recent / self.capacity)) if self.capacity else 100


def assignment_statistics(*, now: datetime | None = None, team: Team | None = None) -> list[MemberLoad]:
    """Per member: leads given in the team in the last 30 days against capacity (one query)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    members = TeamMember.objects.select_related("team", "user").annotate(recent=recent_count(now))
    if team is not None:
        members = members.filter(team=team)
    return [
        MemberLoad(
            m.pk,
            m.team_id,
            m.team.name,
            m.user.display_name,
            m.capacity,
            m.recent,  # type: ignore[attr-defined]
            m.optout,
            m.is_away(today),
            m.active and m.user.is_active,
        )
        for m in members.order_by("team__sequence", "team__name", "user__username")
    ]
