"""Factories for tests: plain typed ``make_<model>(**kw)`` functions with sensible defaults."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pheu.accounts.models import Role, User
from pheu.contacts.models import Country, Partner, Tag
from pheu.leads.models import Lead, LeadScore, LostReason, Source, Stage
from pheu.teams.models import Team, TeamMember

PASSWORD = "pheu-test-pass"
_seq = itertools.count(1)


def make_user(username: str | None = None, *, role: str = Role.SALESPERSON, **kw: Any) -> User:
    username = username or f"user{next(_seq)}"
    user = User(username=username, role=role, email=kw.pop("email", f"{username}@example.com"), **kw)
    user.set_password(PASSWORD)
    user.save()
    return user


def make_team(name: str | None = None, *, members: list[User] = (), **kw: Any) -> Team:  # type: ignore[assignment]  # an empty tuple as the immutable default
    team = Team.objects.create(name=name or f"Team {next(_seq)}", **kw)
    for user in members:
        TeamMember.objects.create(team=team, user=user)
    return team


def make_member(*, team: Team, user: User, **kw: Any) -> TeamMember:
    return TeamMember.objects.create(team=team, user=user, **kw)


def make_stage(name: str | None = None, **kw: Any) -> Stage:
    kw.setdefault("probability", Decimal(10))
    return Stage.objects.create(name=name or f"Stage {next(_seq)}", **kw)


def make_tag(name: str | None = None) -> Tag:
    return Tag.objects.get_or_create(name=name or f"tag{next(_seq)}")[0]


def make_source(name: str = "Website") -> Source:
    return Source.objects.get_or_create(name=name)[0]


def make_lost_reason(name: str = "Too expensive") -> LostReason:
    return LostReason.objects.get_or_create(name=name)[0]


def country(code: str) -> Country:
    return Country.objects.get(code=code)


def make_partner(name: str | None = None, **kw: Any) -> Partner:
    if isinstance(kw.get("country"), str):
        kw["country"] = country(kw["country"])
    return Partner.objects.create(name=name or f"Customer {next(_seq)}", **kw)


def make_lead(name: str | None = None, *, tags: list[Tag] = (), **kw: Any) -> Lead:  # type: ignore[assignment]  # an empty tuple as the immutable default
    """A lead saved directly (no service, no history): for setting up a scene quickly."""
    if isinstance(kw.get("country"), str):
        kw["country"] = country(kw["country"])
    score = kw.pop("score", None)
    lead = Lead.objects.create(name=name or f"Lead {next(_seq)}", **kw)
    if tags:
        lead.tags.set(tags)
    if score is not None:
        set_scores([lead], score)
    return lead


def set_scores(leads: Iterable[Lead | int], score: int) -> None:
    """Write ``score`` as the stored score of ``leads`` (records or ids) directly, as if the rules had
    given it: for scenes that need a score without rules. Records given get it too."""
    leads = list(leads)
    ids = [lead if isinstance(lead, int) else lead.pk for lead in leads]
    LeadScore.objects.filter(lead_id__in=ids).update(score=score)
    for lead in leads:
        if isinstance(lead, Lead):
            lead.score = score
