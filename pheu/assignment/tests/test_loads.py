"""The members' loads kept by the lead table's triggers: every path that gives, moves or removes a lead
counts, the count is what the leads say, and a capacity reads it without scanning the leads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from pheu.assignment import loads
from pheu.assignment.facts import load_config
from pheu.assignment.models import MemberLoadDay
from pheu.assignment.services import assign_leads, assignment_statistics
from pheu.leads.models import Lead
from pheu.leads.services import update_lead
from pheu.testing import make_lead, make_member, make_team, make_user

pytestmark = pytest.mark.django_db


def _kept() -> dict[tuple[int, int, dt.date], int]:
    return {
        (row.team_id, row.user_id, row.day): row.count for row in MemberLoadDay.objects.all() if row.count
    }


def _counted() -> dict[tuple[int, int, dt.date], int]:
    """The loads counted from the leads themselves, as the triggers should keep them."""
    counts: dict[tuple[int, int, dt.date], int] = {}
    for team_id, user_id, assigned_at in Lead.objects.filter(
        team__isnull=False, user__isnull=False, assigned_at__isnull=False
    ).values_list("team_id", "user_id", "assigned_at"):
        key = (team_id, user_id, assigned_at.astimezone(dt.UTC).date())
        counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.fixture
def scene():
    north, south = make_team("North", sequence=1), make_team("South", sequence=2)
    one, two = make_user("one"), make_user("two")
    make_member(team=north, user=one, capacity=50)
    make_member(team=north, user=two, capacity=50)
    make_member(team=south, user=two, capacity=50)
    return north, south, one, two


def test_every_write_of_a_lead_keeps_the_loads(scene):
    north, south, one, two = scene
    now = timezone.now()
    old = now - dt.timedelta(days=3)
    first = make_lead(team=north, user=one, assigned_at=now)
    make_lead(team=north, user=one, assigned_at=old)
    make_lead(team=south, user=two, assigned_at=now)
    make_lead(team=north)  # no salesperson: no load
    assert _kept() == _counted()
    assert _kept()[(north.pk, one.pk, now.astimezone(dt.UTC).date())] == 1

    update_lead(actor=None, lead=first, values={"user": two})  # by hand: moves to two, today
    Lead.objects.filter(team=south).update(team=north)  # a bulk update moves the team
    Lead.objects.filter(assigned_at=old).update(assigned_at=now - dt.timedelta(days=10))
    Lead.objects.filter(user=one).delete()
    assert _kept() == _counted()

    make_lead(team=north, user=one, assigned_at=now - dt.timedelta(days=20))
    leads = list(Lead.objects.filter(user__isnull=True))
    assign_leads(actor=None, lead_ids=[lead.pk for lead in leads])  # an assignment run's bulk write
    assert _kept() == _counted()


def test_a_rebuild_counts_what_the_triggers_keep(scene):
    north, south, one, two = scene
    now = timezone.now()
    for days in (0, 1, 1, 29, 31, 45):
        make_lead(team=north, user=one, assigned_at=now - dt.timedelta(days=days))
        make_lead(team=south, user=two, assigned_at=now - dt.timedelta(days=days, hours=5))
    kept = _kept()
    loads.rebuild()
    assert _kept() == kept == _counted()


def test_a_capacity_counts_the_last_30_days(scene):
    north, _south, one, _two = scene
    now = timezone.now()
    for days in (0, 3, 29):
        make_lead(team=north, user=one, assigned_at=now - dt.timedelta(days=days))
    make_lead(team=north, user=one, assigned_at=now - dt.timedelta(days=40))
    recent = {m.user_id: m.recent for m in load_config(now=now).members[north.pk]}
    assert recent[one.pk] == 3
    assert {row.recent for row in assignment_statistics(now=now, team=north) if row.member_id} >= {3}


def test_old_days_are_pruned_and_recent_ones_kept(scene):
    north, _south, one, _two = scene
    now = timezone.now()
    make_lead(team=north, user=one, assigned_at=now - dt.timedelta(days=2))
    make_lead(team=north, user=one, assigned_at=now - dt.timedelta(days=90))
    assert loads.prune(now=now) == 1
    assert [row.day for row in MemberLoadDay.objects.all()] == [(now - dt.timedelta(days=2)).date()]


def test_the_triggers_are_installed_after_migrate():
    names = set(loads.TRIGGERS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'leads_lead'::regclass")
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        assert names <= {row[0] for row in cursor.fetchall()}


def test_a_run_reads_loads_without_counting_the_leads(scene, django_assert_max_num_queries):
    """The capacity of every member is read from the day rows: the config is 2 queries at any base size."""
    north, _south, one, _two = scene
    for _ in range(30):
        make_lead(team=north, user=one, assigned_at=timezone.now())
    with django_assert_max_num_queries(2) as captured:
        load_config(now=timezone.now())
    assert all("leads_lead" not in query["sql"] for query in captured.captured_queries)
    assert Lead.objects.values("user").annotate(n=Count("id")).filter(user=one).get()["n"] == 30
