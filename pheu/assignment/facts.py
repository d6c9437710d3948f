"""What an assignment run decides from, read in a constant number of queries whatever the number of leads.

- :class:`Config`: the teams that take part (active, not opted out, by sequence) and their members, each
  member with the leads given to them in the team in the last 30 days (their load against capacity);
- :class:`LeadRow`: one candidate lead, with a bit mask of the rules (team and member domains) it matches.

Every distinct rule text gets a bit; the masks are computed by the database in the query that reads the
leads (``CASE WHEN <compiled domain> THEN 2^k``, 62 rules per column), so eligibility is decided by the
compiled SQL of each rule once for all leads, never per lead in Python.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    BigIntegerField,
    Case,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from pheu.assignment.loads import window_start
from pheu.assignment.models import MemberLoadDay
from pheu.core.models import PheuSettings
from pheu.leads.models import Lead, Stage
from pheu.lib.names import full_name
from pheu.rules import Domain, DomainError, clean_domain, shared_lookups
from pheu.teams.models import Team, TeamMember

BITS_PER_COLUMN = 62  # stays a positive 64-bit integer on every database


@dataclass(frozen=True)
class TeamFacts:
    id: int
    name: str
    sequence: int
    min_score: int
    rule: str  # as stored ("" = every lead)
    uses_leads: bool
    first_stage_id: int | None
    first_stage_probability: Decimal | None
    merge_duplicates: bool = False


@dataclass(frozen=True)
class MemberFacts:
    id: int
    team_id: int
    user_id: int
    label: str
    rule: str
    capacity: int
    weight: Decimal
    recent: int  # leads given to them in this team in the last 30 days
    optout: bool
    away: bool

    @property
    def available(self) -> bool:
        return not self.optout and not self.away and self.capacity > 0


@dataclass
class Config:
    """The teams by sequence (ties: most free capacity first), members by team, and the rules' bits."""

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

    def rule_texts(self) -> list[str]:
        texts = [t.rule for t in self.teams] + [m.rule for ms in self.members.values() for m in ms]
        return list(dict.fromkeys(text for text in texts if text))

    def broken_rules(self) -> list[str]:
        return [text for text, domain in self.rules.items() if domain is None]

    def matches(self, text: str, mask: int) -> bool:
        """Whether a lead whose rule mask is ``mask`` satisfies the rule ``text`` ("" = every lead)."""
        if not text:
            return True
        bit = self.bits.get(text)
        return bit is not None and bool(mask >> bit & 1)

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
    id: int
    team_id: int | None
    user_id: int | None
    score: int
    type: str
    stage_id: int | None
    auto_probability: bool
    mask: int


def first_stage(field_name: str) -> Subquery:
    stages = Stage.objects.filter(Q(team=OuterRef("pk")) | Q(team__isnull=True)).order_by("sequence", "id")
    return Subquery(stages.values(field_name)[:1])


def recent_count(now: datetime, *, team: Any = None, user: Any = None) -> Coalesce:
    """The leads given to a member in their team in the 30 days before ``now`` (the capacity window), from
    the trigger-kept loads (:mod:`pheu.assignment.loads`): a sum of at most 31 rows, whatever the number of
    leads. ``team`` and ``user``: the outer query's references (default: a member row's ``team_id`` and
    ``user_id``), or ids."""
    loads = (
        MemberLoadDay.objects.filter(
            team_id=OuterRef("team_id") if team is None else team,
            user_id=OuterRef("user_id") if user is None else user,
            day__gte=window_start(now),
        )
        .order_by()
        .values("team_id")
        .annotate(n=Sum("count"))
        .values("n")
    )
    return Coalesce(Subquery(loads, output_field=IntegerField()), 0)


def user_label(first: str, last: str, username: str) -> str:
    return full_name(first, last) or username


def load_config(*, now: datetime) -> Config:
    """The teams taking part in automatic assignment and their members (2 queries)."""
    installation_use_leads = Subquery(PheuSettings.objects.filter(pk=1).values("use_leads")[:1])
    installation_merge = Subquery(
        PheuSettings.objects.filter(pk=1).values("merge_duplicates_on_assignment")[:1]
    )
    team_rows = (
        Team.objects.filter(active=True, assignment_optout=False)
        .annotate(
            first_stage_id=first_stage("id"),
            first_stage_probability=first_stage("probability"),
            installation_use_leads=installation_use_leads,
            installation_merge=installation_merge,
        )
        .values_list(
            "id",
            "name",
            "sequence",
            "min_score",
            "assignment_domain",
            "use_leads",
            "installation_use_leads",
            "first_stage_id",
            "first_stage_probability",
            "merge_duplicates_on_assignment",
            "installation_merge",
        )
    )
    teams = []
    for row in team_rows:
        pk, name, seq, min_score, rule, use_leads, default, stage_id, stage_probability, merge, merging = row
        uses_leads = (True if default is None else default) if use_leads is None else use_leads
        merge = bool(merging) if merge is None else merge
        teams.append(
            TeamFacts(pk, name, seq, min_score, rule.strip(), uses_leads, stage_id, stage_probability, merge)
        )
    wanted = {t.id for t in teams}
    member_rows = (
        TeamMember.objects.filter(team_id__in=wanted, active=True, user__is_active=True)
        .annotate(recent=recent_count(now))
        .order_by("id")
        .values_list(
            "id",
            "team_id",
            "user_id",
            "user__first_name",
            "user__last_name",
            "user__username",
            "assignment_domain",
            "capacity",
            "weight",
            "recent",
            "optout",
            "away_from",
            "away_until",
        )
    )
    members: dict[int, list[MemberFacts]] = {}
    today = timezone.localdate(now)
    for (
        pk,
        team_id,
        user_id,
        first,
        last,
        username,
        rule,
        cap,
        weight,
        recent,
        optout,
        a_from,
        a_until,
    ) in member_rows:
        away = a_from is not None and a_from <= today and (a_until is None or today <= a_until)
        member = MemberFacts(
            pk,
            team_id,
            user_id,
            user_label(first, last, username),
            rule.strip(),
            cap,
            weight,
            recent,
            optout,
            away,
        )
        members.setdefault(team_id, []).append(member)
    config = Config(teams, members)
    config.order_teams()
    return config


# Parsed rules kept between real-time assignments (one lead at a time must not re-read the countries and
# tags for every rule). Keyed by the rule text; an entry lives ``RULE_CACHE_SECONDS``, so a renamed tag or
# a new one that a rule names is seen within that delay. Batch runs always parse afresh.
RULE_CACHE_SECONDS = 60.0
_RULE_CACHE: dict[str, tuple[float, Domain | None]] = {}


def clear_rule_cache() -> None:
    _RULE_CACHE.clear()


def parse_rules(config: Config, *, cached: bool = False, extra: Iterable[str] = ()) -> None:
    """Parse every rule of ``config`` (and ``extra`` texts) once per distinct text and give each a bit.

    A stored rule that no longer parses (a tag it names was renamed) matches no lead; it is listed by
    :meth:`Config.broken_rules`. Queries: the lookups of each distinct rule (none when cached).
    """
    clock = time.monotonic()
    with shared_lookups():  # the countries, tags… read once for all the rules
        for text in [*config.rule_texts(), *extra]:
            if not text or text in config.rules:
                continue
            hit = _RULE_CACHE.get(text) if cached else None
            if hit is not None and clock - hit[0] < RULE_CACHE_SECONDS:
                config.rules[text] = hit[1]
                continue
            try:
                domain: Domain | None = clean_domain(text, "lead").domain
            except DomainError:
                domain = None
            config.rules[text] = domain
            if cached:
                _RULE_CACHE[text] = (clock, domain)
    usable = [
        text for text, domain in config.rules.items() if domain is not None and not domain.is_everything
    ]
    config.bits = {text: index for index, text in enumerate(usable)}


def mask_columns(config: Config) -> dict[str, Any]:
    """Annotations giving each lead the bits of the rules it matches, ``BITS_PER_COLUMN`` rules a column."""
    columns: dict[str, Any] = {}
    items = sorted(config.bits.items(), key=lambda item: item[1])
    for start in range(0, len(items), BITS_PER_COLUMN):
        expression: Any = None
        for text, index in items[start : start + BITS_PER_COLUMN]:
            domain = config.rules[text]
            assert domain is not None
            term = Case(
                When(domain.to_q(), then=Value(1 << (index - start))),
                default=Value(0),
                output_field=BigIntegerField(),
            )
            expression = term if expression is None else expression + term
        columns[f"rule_mask_{start // BITS_PER_COLUMN}"] = expression
    return columns


LEAD_COLUMNS = ("id", "team_id", "user_id", "score_row__score", "type", "stage_id", "auto_probability")


def read_leads(queryset: QuerySet[Lead], config: Config) -> list[LeadRow]:
    """The leads of ``queryset`` with their rule masks (one query)."""
    columns = mask_columns(config)
    query = queryset.annotate(**columns).values_list(*LEAD_COLUMNS, *columns).query
    try:
        sql, params = query.sql_with_params()
    except EmptyResultSet:  # ``.none()`` (e.g. no member is away): nothing to read, no SQL to send
        return []
    # The rows as the driver gives them: none of these columns needs a conversion that matters here (a
    # SQLite boolean stays 0/1, read only as true or false), and Django's per-row conversion of 100,000
    # rows costs a third of a run's reading.
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if len(columns) == 1:  # up to 62 rules: the row is a LeadRow as it comes
        return list(map(LeadRow._make, rows))
    width = len(LEAD_COLUMNS)
    result = []
    for row in rows:
        mask = 0
        for position, part in enumerate(row[width:]):
            mask |= int(part or 0) << (position * BITS_PER_COLUMN)
        result.append(LeadRow(*row[:width], mask))
    return result
