"""Real-time assignment keeps its config between creations and sees every change to it at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.utils import timezone

from pheu.accounts.models import User
from pheu.assignment import config_cache
from pheu.assignment.facts import load_config
from pheu.assignment.services import assign_new_lead
from pheu.core.models import PheuSettings
from pheu.leads.models import Lead, Stage
from pheu.teams.models import Team, TeamMember
from pheu.testing import make_lead, make_member, make_stage, make_team, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    north = make_team("North", sequence=1, assignment_domain="[['state', '=', 'Hà Nội']]")
    south = make_team("South", sequence=2)
    make_stage("Mới", team=north, sequence=1, probability=Decimal(10))
    anna, binh = make_user("anna", first_name="Anna"), make_user("binh")
    make_member(team=north, user=anna, capacity=5)
    make_member(team=south, user=binh, capacity=5)
    return north, south, anna, binh


def _as_read(config):
    return (config.teams, {team: sorted(ms, key=lambda m: m.id) for team, ms in config.members.items()})


def _kept_and_fresh():
    now = timezone.now()
    return _as_read(config_cache.realtime_config(now)), _as_read(load_config(now=now))


CHANGES = (
    "team rule",
    "team minimum score",
    "team order",
    "team switched off",
    "team opted out",
    "new team",
    "team deleted",
    "member capacity",
    "member rule",
    "member away",
    "member removed",
    "new member",
    "user renamed",
    "user deactivated",
    "stage probability",
    "new first stage",
    "installation without leads",
    "installation merges",
)


def _changes(north: Team, south: Team, anna: User, binh: User) -> dict[str, Callable[[], object]]:
    member = TeamMember.objects.get(user=anna)
    today = timezone.localdate()
    return {
        "team rule": lambda: Team.objects.filter(pk=north.pk).update(assignment_domain=""),
        "team minimum score": lambda: Team.objects.filter(pk=south.pk).update(min_score=30),
        "team order": lambda: Team.objects.filter(pk=south.pk).update(sequence=0),
        "team switched off": lambda: Team.objects.filter(pk=south.pk).update(active=False),
        "team opted out": lambda: Team.objects.filter(pk=north.pk).update(assignment_optout=True),
        "new team": lambda: make_team("East", sequence=3),
        "team deleted": lambda: Team.objects.filter(pk=south.pk).delete(),
        "member capacity": lambda: TeamMember.objects.filter(pk=member.pk).update(capacity=1),
        "member rule": lambda: TeamMember.objects.filter(pk=member.pk).update(
            assignment_domain="[['x', '=', 1]]"
        ),
        "member away": lambda: TeamMember.objects.filter(pk=member.pk).update(
            away_from=today, away_until=today + dt.timedelta(days=2)
        ),
        "member removed": lambda: TeamMember.objects.filter(pk=member.pk).delete(),
        "new member": lambda: make_member(team=south, user=anna),
        "user renamed": lambda: User.objects.filter(pk=anna.pk).update(first_name="Ánh"),
        "user deactivated": lambda: User.objects.filter(pk=binh.pk).update(is_active=False),
        "stage probability": lambda: Stage.objects.filter(team=north).update(probability=Decimal(25)),
        "new first stage": lambda: make_stage("Đầu", team=south, sequence=0, probability=Decimal(5)),
        "installation without leads": lambda: PheuSettings.objects.update_or_create(
            pk=1, defaults={"use_leads": False}
        ),
        "installation merges": lambda: PheuSettings.objects.update_or_create(
            pk=1, defaults={"merge_duplicates_on_assignment": True}
        ),
    }


@pytest.mark.parametrize("change", CHANGES)
def test_a_change_is_seen_by_the_next_creation(scene, change):
    config_cache.realtime_config(timezone.now())  # kept
    before = _as_read(load_config(now=timezone.now()))
    changes = _changes(*scene)
    assert set(changes) == set(CHANGES)
    changes[change]()
    kept, fresh = _kept_and_fresh()
    assert fresh != before  # the change is one the config shows
    assert kept == fresh


def test_a_kept_config_costs_one_statement_and_its_loads_stay_live(scene, django_assert_num_queries):
    north, _south, anna, _binh = scene
    now = timezone.now()
    config_cache.realtime_config(now)
    make_lead(team=north, user=anna, assigned_at=now)  # a load changes: no change to the config itself
    with django_assert_num_queries(1):
        config = config_cache.realtime_config(now)
    [member] = config.members[north.pk]
    assert member.recent == 1
    assert _as_read(config) == _as_read(load_config(now=now))


def test_a_scheduled_runs_stamp_on_its_team_keeps_the_config(scene, django_assert_num_queries):
    north = scene[0]
    now = timezone.now()
    config_cache.realtime_config(now)
    Team.objects.filter(pk=north.pk).update(last_scheduled_assignment_at=now)
    with django_assert_num_queries(1):
        config_cache.realtime_config(now)


def test_a_lead_created_after_a_capacity_change_is_assigned_by_the_new_capacity(scene):
    _north, _south, anna, _binh = scene
    first = make_lead(state="Hà Nội")
    assign_new_lead(lead=first)
    assert Lead.objects.get(pk=first.pk).user_id == anna.pk
    member = TeamMember.objects.get(user=anna)
    member.capacity = 1
    member.save()
    second = make_lead(state="Hà Nội")
    assign_new_lead(lead=second)
    assert Lead.objects.get(pk=second.pk).user_id is None  # anna is full now; the south's rule does not match
