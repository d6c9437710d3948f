"""Writes of sales teams and their members (configuration: managers and administrators).

Values passed in are already parsed (users and teams as instances, numbers as numbers), as forms and
serializers produce them; these functions check what the business requires and own the transaction.

``assignment_domain`` is a rule over leads, checked with the schema registered as "lead" (this app does not
import ``leads``): text is stored as typed, a list (JSON array) as its canonical text, empty means all leads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from pheu.core.validation import required_text_errors
from pheu.rules import DomainError, clean_domain
from pheu.teams.exceptions import TeamError
from pheu.teams.models import Team, TeamMember

TEAM_FIELDS: tuple[str, ...] = (
    "name",
    "sequence",
    "active",
    "leader",
    "use_leads",
    "assignment_domain",
    "min_score",
    "assignment_optout",
    "assignment_every_hours",
    "merge_duplicates_on_assignment",
    "email_alias",
)
MEMBER_FIELDS: tuple[str, ...] = (
    "team",
    "user",
    "assignment_domain",
    "capacity",
    "weight",
    "optout",
    "active",
    "away_from",
    "away_until",
)
# The schema the assignment rules of teams and members are written in (registered by the leads app).
ASSIGNMENT_SCHEMA = "lead"


def first_team_of(user: Any) -> Team | None:
    """The team a record made by ``user`` goes to when none is chosen: their first active team by sequence
    (None for nobody, or someone in no team). One query."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    membership = (
        user.team_memberships.filter(active=True, team__active=True)
        .select_related("team")
        .order_by("team__sequence", "team_id")
        .first()
    )
    return membership.team if membership else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _clean_assignment_domain(values: Mapping[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    """``values`` with ``assignment_domain`` in its stored form; its problems, if any, go to ``errors``."""
    cleaned = dict(values)
    if "assignment_domain" in cleaned:
        try:
            cleaned["assignment_domain"] = clean_domain(cleaned["assignment_domain"], ASSIGNMENT_SCHEMA).text
        except DomainError as exc:
            errors["assignment_domain"] = exc.messages
    return cleaned


def _team_errors(values: Mapping[str, Any], team: Team | None) -> dict[str, list[str]]:
    errors = required_text_errors(values, {"name": _("Name")})
    name = str(values.get("name") or "").strip()
    same_name = Team.objects.filter(name__iexact=name)
    if team is not None:
        same_name = same_name.exclude(pk=team.pk)
    if name and same_name.exists():
        errors["name"] = [_("A team named “%(name)s” already exists.") % {"name": name}]
    if "min_score" in values and not _is_int(values["min_score"]):
        errors["min_score"] = [_("The minimum score is a whole number.")]
    if "sequence" in values and not (_is_int(values["sequence"]) and values["sequence"] >= 0):
        errors["sequence"] = [_("The sequence is a whole number, 0 or more.")]
    every = values.get("assignment_every_hours")
    if every is not None and not (_is_int(every) and every >= 1):
        errors["assignment_every_hours"] = [_("Give a whole number of hours, 1 or more, or leave it empty.")]
    leader = values.get("leader")
    if leader is not None and not leader.is_active:
        errors["leader"] = [_("%(user)s is not an active user.") % {"user": leader}]
    return errors


def _member_errors(values: Mapping[str, Any], member: TeamMember | None) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if "capacity" in values and not (_is_int(values["capacity"]) and values["capacity"] >= 0):
        errors["capacity"] = [_("The capacity is a whole number of leads, 0 or more.")]
    if "weight" in values and not (isinstance(values["weight"], int | Decimal) and values["weight"] >= 0):
        errors["weight"] = [_("The weight is a number, 0 or more.")]
    away_from = values.get("away_from", member.away_from if member else None)
    away_until = values.get("away_until", member.away_until if member else None)
    if away_until is not None and away_from is None:
        errors["away_from"] = [_("Give the first day away.")]
    elif away_from is not None and away_until is not None and away_until < away_from:
        errors["away_until"] = [_("The last day away comes on or after the first.")]
    user = values.get("user", member.user if member else None)
    team = values.get("team", member.team if member else None)
    if "user" in values and user is not None and not user.is_active:
        errors["user"] = [_("%(user)s is not an active user.") % {"user": user}]
    if user is not None and team is not None:
        clash = TeamMember.objects.filter(team=team, user=user)
        if member is not None:
            clash = clash.exclude(pk=member.pk)
        if clash.exists():
            errors["user"] = [_("%(user)s is already a member of %(team)s.") % {"user": user, "team": team}]
    return errors


def _apply(record: Team | TeamMember, values: Mapping[str, Any], fields: tuple[str, ...]) -> None:
    for name, value in values.items():
        if name in fields:
            setattr(record, name, value.strip() if isinstance(value, str) else value)


@transaction.atomic
def create_team(*, actor: Any, values: Mapping[str, Any]) -> Team:
    """Create a sales team (``use_leads`` None follows the installation setting)."""
    errors = _team_errors({"name": "", **values}, None)
    values = _clean_assignment_domain(values, errors)
    if errors:
        raise TeamError(code=TeamError.Code.INVALID, field_errors=errors)
    team = Team()
    _apply(team, values, TEAM_FIELDS)
    team.save()
    return team


@transaction.atomic
def update_team(*, actor: Any, team: Team, values: Mapping[str, Any]) -> Team:
    """Change a team's settings."""
    errors = _team_errors(values, team)
    values = _clean_assignment_domain(values, errors)
    if errors:
        raise TeamError(code=TeamError.Code.INVALID, field_errors=errors)
    team = Team.objects.select_for_update().get(pk=team.pk)
    _apply(team, values, TEAM_FIELDS)
    team.save()
    return team


@transaction.atomic
def create_team_member(*, actor: Any, values: Mapping[str, Any]) -> TeamMember:
    """Add a user to a team; a user may be in several teams but once in each."""
    errors = _member_errors(values, None)
    for name in ("team", "user"):
        if values.get(name) is None:
            errors.setdefault(name, [_("This field is required.")])
    values = _clean_assignment_domain(values, errors)
    if errors:
        raise TeamError(code=TeamError.Code.INVALID, field_errors=errors)
    member = TeamMember()
    _apply(member, values, MEMBER_FIELDS)
    member.save()
    return member


@transaction.atomic
def update_team_member(*, actor: Any, member: TeamMember, values: Mapping[str, Any]) -> TeamMember:
    """Change a membership (capacity, weight, rule, opt-out…)."""
    errors = _member_errors(values, member)
    values = _clean_assignment_domain(values, errors)
    if errors:
        raise TeamError(code=TeamError.Code.INVALID, field_errors=errors)
    member = TeamMember.objects.select_for_update().get(pk=member.pk)
    _apply(member, values, MEMBER_FIELDS)
    member.save()
    return member


def set_member_away(
    *, actor: Any, member: TeamMember, away_from: date | None, away_until: date | None
) -> TeamMember:
    """Mark a member away from ``away_from`` to ``away_until`` (inclusive; no end: until further notice),
    or back (both None). Away members receive no lead from automatic assignment."""
    return update_team_member(
        actor=actor, member=member, values={"away_from": away_from, "away_until": away_until}
    )
