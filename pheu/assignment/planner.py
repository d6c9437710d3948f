"""The plan of an assignment (SPEC 5), on plain values: no database, no Django model.

What it decides from (:class:`Config`, :class:`LeadRow`) is read by :mod:`pheu.assignment.facts`; what it
decides (:class:`LeadDecision`) is written by :mod:`pheu.assignment.writes` and explained by the services.

- **team**: the first team by sequence (ties: most free capacity) whose rule matches and whose minimum
  score the lead's score reaches (:meth:`Plan.__init__`);
- **member**: best-scored leads first (ties: oldest first), an available member — active, not opted out,
  not away, fewer leads in the window than their capacity — whose rule matches; members with a rule are
  tried before members without one; among them the highest :func:`priority` (:class:`Seats`);
- **capacity**: each lead given counts in the member's load at once;
- **explanation**: each decision carries the rules, minimum score and capacities that made it, and
  :func:`waiting_reason` says why a lead keeps waiting.

Rules are matched through a bit mask: every distinct rule text has a bit (:attr:`Config.bits`), and a lead's
:attr:`LeadRow.mask` has the bits of the rules it satisfies (the database computes them for a batch, Python
for a lead being created). :func:`rule_test` and :func:`passes` are the only readers of the bits.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from pheu.rules import Domain

LEAD = "lead"  # LeadType.LEAD: a lead a team that does not use leads converts into an opportunity
EVERY_LEAD = -1  # the test of an empty rule (see rule_test)


# --- what the plan decides from ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class TeamFacts:
    id: int
    name: str
    sequence: int
    min_score: int
    rule: str  # as stored, stripped ("" = every lead)
    uses_leads: bool
    first_stage_id: int | None
    first_stage_probability: Decimal | None
    merge_duplicates: bool = False


@dataclass(frozen=True, slots=True)
class MemberFacts:
    id: int
    team_id: int
    user_id: int
    label: str
    rule: str
    capacity: int
    weight: Decimal
    recent: int  # leads given to them in this team in the capacity window
    optout: bool
    away: bool

    @property
    def available(self) -> bool:
        return not self.optout and not self.away and self.capacity > 0


@dataclass(slots=True)
class Config:
    """The teams by sequence (ties: most free capacity first), members by team, and the rules' bits
    (``rules`` and ``bits`` are filled by :func:`pheu.assignment.facts.parse_rules`)."""

    teams: list[TeamFacts]
    members: dict[int, list[MemberFacts]]
    rules: dict[str, Domain | None] = field(default_factory=dict)  # None: the stored text no longer parses
    bits: dict[str, int] = field(default_factory=dict)

    def free_capacity(self, team_id: int) -> int:
        return sum(max(m.capacity - m.recent, 0) for m in self.members.get(team_id, []) if m.available)

    def order_teams(self) -> None:
        self.teams.sort(key=lambda t: (t.sequence, -self.free_capacity(t.id), t.id))

    def team(self, team_id: int) -> TeamFacts | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def member(self, member_id: int) -> MemberFacts | None:
        return next((m for ms in self.members.values() for m in ms if m.id == member_id), None)

    def all_members(self) -> Iterator[MemberFacts]:
        for members in self.members.values():
            yield from members

    def member_count(self) -> int:
        return sum(len(ms) for ms in self.members.values())

    def rule_texts(self) -> list[str]:
        texts = [t.rule for t in self.teams] + [m.rule for m in self.all_members()]
        return list(dict.fromkeys(text for text in texts if text))

    def broken_rules(self) -> list[str]:
        return [text for text, domain in self.rules.items() if domain is None]

    def matches(self, text: str, mask: int) -> bool:
        """Whether a lead whose rule mask is ``mask`` satisfies the rule ``text`` ("" = every lead)."""
        return passes(rule_test(self, text), mask)

    def with_team(self, team_id: int, **changes: Any) -> Config:
        teams = [replace(t, **changes) if t.id == team_id else t for t in self.teams]
        copy = Config(teams, dict(self.members), dict(self.rules), dict(self.bits))
        copy.order_teams()
        return copy

    def with_member(self, member_id: int, **changes: Any) -> Config:
        members = {
            team_id: [replace(m, **changes) if m.id == member_id else m for m in ms]
            for team_id, ms in self.members.items()
        }
        copy = Config(list(self.teams), members, dict(self.rules), dict(self.bits))
        copy.order_teams()
        return copy


class LeadRow(NamedTuple):
    """One candidate lead (a tuple: a batch reads 100,000 of them straight from the driver's rows)."""

    id: int
    team_id: int | None
    user_id: int | None
    score: int
    type: str
    stage_id: int | None
    auto_probability: bool
    mask: int  # the bits of the rules it satisfies


def rule_test(config: Config, text: str) -> int | None:
    """The bit a lead's mask must have to satisfy ``text``: :data:`EVERY_LEAD` for "every lead", None for
    "no lead" (a stored rule that no longer parses, or one not parsed)."""
    if not text:
        return EVERY_LEAD
    return config.bits.get(text)


def passes(test: int | None, mask: int) -> bool:
    return test == EVERY_LEAD or (test is not None and bool(mask >> test & 1))


def _bits_of(tests: Iterator[int | None]) -> int:
    """The mask of the bits ``tests`` read: leads that agree on them are decided alike."""
    relevant = 0
    for test in tests:
        if test is not None and test >= 0:
            relevant |= 1 << test
    return relevant


# --- what the plan decides -----------------------------------------------------------------------------
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


class StageChange(NamedTuple):
    """What a decision does to a lead's stage: a lead converted without a stage enters its team's first
    stage, and takes that stage's probability when its probability is automatic."""

    stage_id: int | None
    probability: Decimal | None  # None: unchanged
    changed: bool


def stage_change(decision: LeadDecision, lead: LeadRow, team: TeamFacts) -> StageChange:
    if decision.converted and lead.stage_id is None and team.first_stage_id is not None:
        probability = (team.first_stage_probability or Decimal(0)) if lead.auto_probability else None
        return StageChange(team.first_stage_id, probability, True)
    return StageChange(lead.stage_id, None, False)


# --- choosing a member ---------------------------------------------------------------------------------
def priority(member: MemberFacts, load: int) -> tuple[float, int, int]:
    """Highest first: free capacity relative to capacity times the weight, then the fewest leads, then the
    earliest membership. The ratio is one correctly rounded division of exact integers, so equal ratios
    are equal floats and different ones keep their order (capacities and weights are far from 2**53)."""
    numerator, denominator = member.weight.as_integer_ratio()
    return ((member.capacity - load) * numerator / (member.capacity * denominator), -load, -member.id)


def choose_member(
    config: Config, members: list[MemberFacts], loads: dict[int, int], mask: int, exclude_user: int | None
) -> MemberFacts | None:
    """The member of ``members`` a lead of ``mask`` goes to, trying each (``loads``: member id → load;
    ``exclude_user``: the away salesperson a redistributed lead leaves)."""
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
    return max(candidates, key=lambda m: priority(m, loads[m.id]))


# A heap entry of Seats: (-free ratio, fewest leads, earliest membership, the load it was computed at, member)
_LOAD, _MEMBER = 3, 4


class Seats:
    """The members of one team as the member phase hands out leads: for each set of members a lead's mask
    selects, a heap by :func:`priority`. A member's entries go stale when it receives a lead (its priority
    only falls); a stale entry is corrected when it reaches the top, and a full member leaves. Choosing a
    member costs O(log members), whatever the number of leads; :func:`choose_member` chooses the same."""

    def __init__(self, config: Config, members: list[MemberFacts], loads: dict[int, int]) -> None:
        self.loads = loads
        usable = [m for m in members if m.available and loads[m.id] < m.capacity]
        self.free = {m.id for m in usable}  # the members who may still receive a lead
        self.with_rule = [(m, rule_test(config, m.rule)) for m in usable if m.rule]
        self.fallback = self._heap([m for m in usable if not m.rule])
        self.relevant = _bits_of(test for _member, test in self.with_rule)
        self.groups: dict[int, list[tuple[Any, ...]]] = {}  # relevant bits → heap of the members they select

    def _entry(self, member: MemberFacts) -> tuple[Any, ...]:
        load = self.loads[member.id]
        free, fewest, earliest = priority(member, load)
        return (-free, -fewest, -earliest, load, member)

    def _heap(self, members: list[MemberFacts]) -> list[tuple[Any, ...]]:
        heap = [self._entry(m) for m in members if self.loads[m.id] < m.capacity]
        heapq.heapify(heap)
        return heap

    def _top(self, heap: list[tuple[Any, ...]]) -> MemberFacts | None:
        loads = self.loads
        while heap:
            member: MemberFacts = heap[0][_MEMBER]
            load = loads[member.id]
            if load == heap[0][_LOAD]:
                return member
            if load >= member.capacity:
                heapq.heappop(heap)
            else:
                heapq.heapreplace(heap, self._entry(member))
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
            heap = self._heap([m for m, test in self.with_rule if passes(test, mask)])
            self.groups[mask] = heap
        return self._top(heap) or self._top(self.fallback)


# --- the plan ------------------------------------------------------------------------------------------
# A lead waiting for the member phase of its team, sorted in the order the phase takes them (best score, then
# oldest; the ids are unique, so the rows are never compared): (-score, lead id, position in the plan's leads,
# the lead, whether the plan chose its team). A plain tuple: a run makes one per lead.
_Waiting = tuple[int, int, int, LeadRow, bool]


class Plan:
    """A plan decided in two steps: the team phase at once, then the member phase team by team as
    :meth:`parts` are asked for, so that a run can write one part while it decides the next.

    ``scope_team_id``: only that team is filled (a lead whose team would be another is OTHER_TEAM).
    ``previous_users``: lead id → the away salesperson whose lead is being redistributed (the lead takes
    part in the member phase of its team, and never goes back to them).

    The team of a lead depends only on its score and rule mask (chosen once per pair); its member is the
    top of a heap (:class:`Seats`), so a plan costs O(leads × log members).
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
        self.by_team: dict[int, list[_Waiting]] = {}
        team_ids = {t.id: t for t in config.teams}
        tests = [(t, t.min_score, rule_test(config, t.rule)) for t in config.teams]
        relevant = _bits_of(test for _team, _low, test in tests)
        chosen_teams: dict[tuple[int, int], TeamFacts | None] = {}  # (score, relevant bits) → team
        for position, lead in enumerate(leads):
            if lead.team_id is None:
                key = (lead.score, lead.mask & relevant)
                if key in chosen_teams:
                    team = chosen_teams[key]
                else:
                    team = chosen_teams[key] = next(
                        (t for t, low, test in tests if lead.score >= low and passes(test, lead.mask)), None
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
                        lead.id, Outcome.OTHER_TEAM, lead.score, team_id=lead.team_id
                    )
                    continue
            if scope_team_id is not None and team.id != scope_team_id:
                self.decisions[position] = LeadDecision(
                    lead.id, Outcome.OTHER_TEAM, lead.score, team_id=team.id, team_name=team.name
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
        return self.decisions  # type: ignore[return-value]  # parts() decided every position

    def _member_phase(self, team_id: int, items: list[_Waiting]) -> Iterator[tuple[int, LeadDecision]]:
        config = self.config
        team = config.team(team_id)
        assert team is not None  # the team phase grouped the leads by the config's teams
        members = config.members.get(team_id, [])
        loads = {m.id: m.recent for m in members}
        seats = Seats(config, members, loads) if members else None
        convert_leads = not team.uses_leads
        items.sort()  # best-scored first, then the oldest
        for _score, _id, position, lead, chosen in items:
            previous = self.previous_users.get(lead.id)
            if seats is None:
                member = None
            elif previous is not None:
                member = choose_member(config, members, loads, lead.mask, previous)
            else:
                member = seats.choose(lead.mask)
            team_rule, min_score = (team.rule, team.min_score) if chosen else ("", None)
            # The decisions are built positionally, in the order of LeadDecision's fields (a keyword call
            # costs twice as much, and a run makes one per lead); test_planner checks the fields by name.
            if member is None:
                outcome = Outcome.TEAM_ONLY if chosen else Outcome.NO_MEMBER
                yield position, LeadDecision(
                    lead.id, outcome, lead.score, team.id, team.name, chosen, team_rule, min_score,
                    previous_user_id=previous,
                )  # fmt: skip
                continue
            loads[member.id] += 1
            if seats is not None:
                seats.took(member)
            capacity_left = member.capacity - loads[member.id]
            converted = convert_leads and lead.type == LEAD
            yield position, LeadDecision(
                lead.id, Outcome.ASSIGNED, lead.score, team.id, team.name, chosen, team_rule, min_score,
                member.id, member.user_id, member.label, member.rule, member.capacity, capacity_left,
                converted, previous,
            )  # fmt: skip


def plan_assignment(
    config: Config,
    leads: list[LeadRow],
    *,
    scope_team_id: int | None = None,
    previous_users: Mapping[int, int] | None = None,
) -> list[LeadDecision]:
    """Decide every lead of ``leads`` (deterministic; reads and writes nothing): see :class:`Plan`."""
    return Plan(config, leads, scope_team_id=scope_team_id, previous_users=previous_users).decide_all()


def with_given(config: Config, member_counts: Mapping[int, int]) -> Config:
    """``config`` with ``member_counts`` (member id → leads given) counted in the members' loads, the teams
    ordered again: the config a run reads after a run that gave those leads (as the load triggers count
    them), for leads that are not stored yet."""
    if not member_counts:
        return config
    members = {
        team_id: [
            replace(m, recent=m.recent + member_counts[m.id]) if m.id in member_counts else m for m in ms
        ]
        for team_id, ms in config.members.items()
    }
    copy = Config(list(config.teams), members, dict(config.rules), dict(config.bits))
    copy.order_teams()
    return copy


def without_member(config: Config, member_id: int) -> Config:
    """``config`` with the member counted full (a concurrent creation filled them meanwhile)."""
    full = config.member(member_id)
    assert full is not None
    return config.with_member(full.id, recent=full.capacity)


# --- the result and its explanations -------------------------------------------------------------------
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


def summarize(config: Config, decisions: list[LeadDecision], *, dry_run: bool) -> AssignmentResult:
    """The counts of ``decisions``, per team and member."""
    result = AssignmentResult(dry_run=dry_run, considered=len(decisions), decisions=decisions)
    result.broken_rules = config.broken_rules()
    result.team_names = {t.id: t.name for t in config.teams}
    for decision in decisions:
        if decision.team_chosen and decision.team_id is not None:
            result.teamed += 1
            result.team_counts[decision.team_id] = result.team_counts.get(decision.team_id, 0) + 1
        if decision.member_id is not None:
            result.assigned += 1
            result.member_counts[decision.member_id] = result.member_counts.get(decision.member_id, 0) + 1
            result.member_labels[decision.member_id] = decision.user_label
        result.converted += decision.converted
    return result


@dataclass(frozen=True, slots=True)
class Move:
    """``count`` waiting leads would go to ``to`` instead of ``source`` (labels: "Team", "Team / person",
    or "" for nowhere); ``lead_ids``: the first few."""

    source: str
    to: str
    count: int
    lead_ids: tuple[int, ...]


def destination(d: LeadDecision) -> str:
    """Where a decision sends a lead, as a move names it ("" for nowhere)."""
    if d.team_id is None or d.outcome == Outcome.OTHER_TEAM:
        return ""
    return f"{d.team_name} / {d.user_label}" if d.user_label else d.team_name


def moves_between(
    before: list[LeadDecision], after: list[LeadDecision], *, shown: int = 10
) -> tuple[Move, ...]:
    """The leads that two plans of the same leads send to different places, grouped by where they went
    and where they go, the largest group first (then by the labels); ``shown`` lead ids each."""
    moved: dict[tuple[str, str], list[int]] = {}
    for old, new in zip(before, after, strict=True):
        key = (destination(old), destination(new))
        if key[0] != key[1]:
            moved.setdefault(key, []).append(old.lead_id)
    return tuple(
        Move(source, to, len(ids), tuple(ids[:shown]))
        for (source, to), ids in sorted(moved.items(), key=lambda item: (-len(item[1]), item[0]))
    )


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
