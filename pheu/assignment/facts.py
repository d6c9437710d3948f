"""What an assignment decides from, read in a constant number of queries whatever the number of leads.

- :func:`load_config`: the teams that take part (active, not opted out, by sequence) and their members, each
  member with the leads given to them in the team in the capacity window (their load against capacity), in
  one query — the one builder of :class:`~pheu.assignment.planner.Config`, for batch runs and real time;
- :func:`parse_rules`: every distinct rule text parsed once and given a bit;
- :func:`read_leads`: the candidate leads (:class:`~pheu.assignment.planner.LeadRow`), each with a bit mask
  of the rules (team and member domains) it matches.

The masks are computed by the database in the query that reads the leads (``CASE WHEN <compiled domain> THEN
2^k``, 62 rules per column), so eligibility is decided by the compiled SQL of each rule once for all leads,
never per lead in Python.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import (
    BigIntegerField,
    Case,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from pheu.accounts.models import User
from pheu.assignment.loads import window_start
from pheu.assignment.models import ConfigVersion, MemberLoadDay
from pheu.assignment.planner import Config, LeadRow, MemberFacts, TeamFacts
from pheu.core.models import PheuSettings
from pheu.core.rows import ModelColumns, sql_on_tables
from pheu.leads.models import Lead, Stage
from pheu.lib.names import full_name
from pheu.rules import Domain, DomainError, clean_domain, shared_lookups
from pheu.teams.models import Team, TeamMember

__all__ = [  # the plain values are the planner's; named here too, where the readers of the facts look
    "BITS_PER_COLUMN",
    "LEAD_COLUMNS",
    "Config",
    "LeadRow",
    "MemberFacts",
    "TeamFacts",
    "clear_rule_cache",
    "load_config",
    "mask_columns",
    "parse_rules",
    "read_leads",
    "recent_count",
    "user_label",
]

BITS_PER_COLUMN = 62  # stays a positive 64-bit integer on every database


def recent_count(now: datetime, *, team: Any = None, user: Any = None) -> Coalesce:
    """The leads given to a member in their team in the 30 days before ``now`` (the capacity window), from
    the trigger-kept loads (:mod:`pheu.assignment.loads`): a sum of at most 31 rows, whatever the number of
    leads. ``team`` and ``user``: the outer query's references (default: a member row's ``team_id`` and
    ``user_id``), or ids."""
    team_ref: Any = OuterRef("team_id") if team is None else team
    user_ref: Any = OuterRef("user_id") if user is None else user
    loads = (
        MemberLoadDay.objects.filter(
            team_id=team_ref,
            user_id=user_ref,
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


# --- the config: one statement -------------------------------------------------------------------------
# The teams and their active members with each member's load, in one statement (a row per member; a team
# without one has a row of NULL member columns): the ORM's form of it (a filtered join, three subqueries) cost
# ≈ 3 ms a creation to compile, more than the query itself.
_CONFIG_SQL = """
SELECT {team_columns}, {member_columns}, u.is_active, u.first_name, u.last_name, u.username,
  (SELECT p.use_leads FROM {settings} p WHERE p.id = 1),
  (SELECT p.merge_duplicates_on_assignment FROM {settings} p WHERE p.id = 1),
  (SELECT s.id FROM {stage} s WHERE s.team_id = t.id OR s.team_id IS NULL ORDER BY s.sequence, s.id LIMIT 1),
  (SELECT s.probability FROM {stage} s WHERE s.team_id = t.id OR s.team_id IS NULL
     ORDER BY s.sequence, s.id LIMIT 1),
  COALESCE((SELECT SUM(l.count) FROM {loads} l
     WHERE l.team_id = t.id AND l.user_id = m.user_id AND l.day >= %s), 0),
  (SELECT v.token FROM {version} v WHERE v.id = {version_row})
FROM {team} t
LEFT JOIN {member} m ON m.team_id = t.id AND m.active
LEFT JOIN {user} u ON u.id = m.user_id
WHERE t.active AND NOT t.assignment_optout
ORDER BY t.sequence, t.id, m.id
"""
# Only what the facts read: every column of a team (its web form's settings…) cost ≈ 0.2 ms a creation to
# fetch and convert.
_TEAM_FIELDS = (
    "name",
    "sequence",
    "min_score",
    "assignment_domain",
    "use_leads",
    "merge_duplicates_on_assignment",
)
_TEAM_COLUMNS = ModelColumns(Team, "t", only=_TEAM_FIELDS)
_MEMBER_COLUMNS = ModelColumns(
    TeamMember,
    "m",
    only=("user", "assignment_domain", "capacity", "weight", "optout", "away_from", "away_until"),
)
# The fields of other tables the statement reads, by table (a member's: all of them); a change to one of them
# changes the config (:mod:`pheu.assignment.config_cache` watches them).
CONFIG_COLUMNS: dict[str, tuple[str, ...]] = {
    "team": (*_TEAM_FIELDS, "active", "assignment_optout"),
    "user": ("is_active", "first_name", "last_name", "username"),
    "stage": ("team", "sequence", "probability"),
    "settings": ("use_leads", "merge_duplicates_on_assignment"),
}
_TEAM_ID_AT = _TEAM_COLUMNS.attnames.index("id")


class _ConfigTail(NamedTuple):
    """The columns of a config row after the team's and the member's."""

    user_active: Any  # None for a team without members; SQLite's booleans are 0/1
    first_name: str | None
    last_name: str | None
    username: str | None
    installation_use_leads: Any
    installation_merge: Any
    first_stage_id: int | None
    first_stage_probability: Any  # Decimal, or a float / int on SQLite
    recent: Any
    token: str | None  # the config's version (:mod:`pheu.assignment.config_cache`); None: no row


@functools.cache
def _config_sql(vendor: str) -> str:
    """:data:`_CONFIG_SQL` for the default database (of ``vendor``), written once."""
    quote = connection.ops.quote_name
    return _CONFIG_SQL.format(
        team_columns=_TEAM_COLUMNS.select(),
        member_columns=_MEMBER_COLUMNS.select(),
        settings=quote(PheuSettings._meta.db_table),
        stage=quote(Stage._meta.db_table),
        loads=quote(MemberLoadDay._meta.db_table),
        team=_TEAM_COLUMNS.table(),
        member=_MEMBER_COLUMNS.table(),
        user=quote(User._meta.db_table),
        version=quote(ConfigVersion._meta.db_table),
        version_row=ConfigVersion.ROW_ID,
    )


def _team_facts(team: Team, tail: _ConfigTail) -> TeamFacts:
    default = True if tail.installation_use_leads is None else bool(tail.installation_use_leads)
    probability = tail.first_stage_probability
    return TeamFacts(
        id=team.pk,
        name=team.name,
        sequence=team.sequence,
        min_score=team.min_score,
        rule=team.assignment_domain.strip(),
        uses_leads=team.uses_leads(default),
        first_stage_id=tail.first_stage_id,
        first_stage_probability=None if probability is None else Decimal(str(probability)),
        merge_duplicates=team.merges_duplicates(bool(tail.installation_merge)),
    )


def _member_facts(member: TeamMember, team_id: int, tail: _ConfigTail, today: Any) -> MemberFacts:
    return MemberFacts(
        id=member.pk,
        team_id=team_id,
        user_id=member.user_id,
        label=user_label(tail.first_name or "", tail.last_name or "", tail.username or ""),
        rule=member.assignment_domain.strip(),
        capacity=member.capacity,
        weight=member.weight,
        recent=int(tail.recent),
        optout=member.optout,
        away=member.is_away(today),
    )


def load_config(*, now: datetime) -> Config:
    """The teams taking part in automatic assignment and their active members (of active users), each with
    their load at ``now``, the teams by sequence then most free capacity (one query)."""
    return load_config_with_token(now=now)[0]


def load_config_with_token(*, now: datetime) -> tuple[Config, str | None]:
    """:func:`load_config`, and the version token it was read with (None without teams or token row)."""
    token = None
    with connection.cursor() as cursor:
        start = connection.ops.adapt_datefield_value(window_start(now))
        cursor.execute(_config_sql(connection.vendor), [start])
        rows = cursor.fetchall()
    teams: dict[int, TeamFacts] = {}
    members: dict[int, list[MemberFacts]] = {}
    today = timezone.localdate(now)
    width_team, width_member = len(_TEAM_COLUMNS), len(_MEMBER_COLUMNS)
    for row in rows:
        tail = _ConfigTail._make(row[width_team + width_member :])
        token = tail.token
        team_id = row[_TEAM_ID_AT]
        if team_id not in teams:
            team = _TEAM_COLUMNS.instance(row[:width_team])
            assert isinstance(team, Team)
            teams[team_id] = _team_facts(team, tail)
        if not tail.user_active:  # no member (the team's row of the outer join), or an inactive user
            continue
        member = _MEMBER_COLUMNS.instance(row[width_team : width_team + width_member])
        assert isinstance(member, TeamMember)
        members.setdefault(team_id, []).append(_member_facts(member, team_id, tail, today))
    config = Config(list(teams.values()), members)
    config.order_teams()
    return config, token


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


def read_leads(
    queryset: QuerySet[Lead], config: Config, *, tables: Mapping[str, str] | None = None
) -> list[LeadRow]:
    """The leads of ``queryset`` with their rule masks (one query). ``tables``: stand-ins read in place of
    the lead and score tables (an import's staged rows, before they are inserted: see
    :func:`pheu.core.rows.sql_on_tables`, which raises :class:`~pheu.core.rows.ReadsRealTable` when a
    rule reads the real table in a subquery)."""
    columns = mask_columns(config)
    annotated = queryset.annotate(**columns).values_list(*LEAD_COLUMNS, *columns)
    try:
        sql, params = sql_on_tables(annotated, tables) if tables else annotated.query.sql_with_params()
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
        result.append(LeadRow._make((*row[:width], mask)))
    return result
