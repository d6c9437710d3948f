"""The reports' figures on a crafted scene: every sum equals the records behind it, for each reader."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from pheu.assignment.planner import WaitingReason
from pheu.assignment.testing import make_waiting_leads
from pheu.leads.models import Lead
from pheu.reports.facts import ReportFilters
from pheu.reports.filters import default_period
from pheu.reports.models import SalesTarget
from pheu.reports.services import (
    activity_rows,
    forecast_rows,
    funnel_rows,
    lost_reason_rows,
    member_rows,
    month_start,
    pipeline_rows,
    source_rows,
    waiting_rows,
)
from pheu.rules import clean_domain
from pheu.teams.models import TeamMember
from pheu.testing import country, make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _vietnamese():
    """The reports name people in the active language (family name first in Vietnamese): pin it, whatever
    an earlier test's request left active."""
    with translation.override("vi"):
        yield


M = Decimal(1_000_000)


def filters(**kw) -> ReportFilters:
    start, end = default_period()
    return ReportFilters(start, end, **kw)


def test_pipeline_sums_the_open_opportunities_by_stage_team_and_salesperson(actors, scene):
    rows = pipeline_rows(user=actors.manager, filters=filters())
    got = [(r.stage, r.team, r.salesperson, r.count, r.expected_revenue, r.weighted_revenue) for r in rows]
    assert got == [
        ("Mới", "Miền Bắc", "Nguyễn An", 1, 100 * M, 20 * M),
        ("Mới", "Miền Nam", "Võ Chi", 1, 10 * M, Decimal("2550000.00")),
        ("Đề xuất", "Miền Bắc", "Lê Bình", 1, 50 * M, 30 * M),
    ]


@pytest.mark.parametrize(
    ("reader", "names"),
    [("manager", {"A", "B", "C"}), ("leader", {"A", "B"}), ("sales1", {"A"}), ("sales3", {"C"})],
)
def test_pipeline_shows_each_reader_the_figures_of_the_records_they_may_see(actors, scene, reader, names):
    rows = pipeline_rows(user=actors.by_name(reader), filters=filters())
    by_name = {"A": scene.a, "B": scene.b, "C": scene.c}
    assert sum(r.count for r in rows) == len(names)
    assert sum(r.expected_revenue for r in rows) == sum(by_name[n].expected_revenue for n in names)


def test_pipeline_narrows_by_team_salesperson_and_domain(actors, scene):
    assert [
        r.salesperson for r in pipeline_rows(user=actors.manager, filters=filters(team_id=actors.south.pk))
    ] == ["Võ Chi"]
    assert [
        r.count for r in pipeline_rows(user=actors.manager, filters=filters(user_id=actors.sales2.pk))
    ] == [1]
    domain = clean_domain("[['expected_revenue', '>=', 50000000]]").domain
    rows = pipeline_rows(user=actors.manager, filters=filters(domain=domain))
    assert sum(r.expected_revenue for r in rows) == 150 * M
    # A salesperson's filter on someone else finds nothing: filters only narrow.
    assert pipeline_rows(user=actors.sales1, filters=filters(user_id=actors.sales2.pk)) == []


def test_pipeline_as_of_a_date_counts_the_records_open_at_its_end(actors, scene):
    before = (scene.created - dt.timedelta(days=1)).date()
    assert pipeline_rows(user=actors.manager, filters=filters(as_of=before)) == []
    # Two days ago E was won already (10 days after creation) but F was still open (lost yesterday).
    as_of = timezone.localdate() - dt.timedelta(days=2)
    rows = pipeline_rows(user=actors.manager, filters=filters(as_of=as_of))
    assert sum(r.count for r in rows) == 4  # A, B, C and F
    assert sum(r.expected_revenue for r in rows) == 165 * M


def test_forecast_buckets_by_month_with_overdue_won_and_targets(actors, scene):
    today = timezone.localdate()
    Lead.objects.filter(pk=scene.e.pk).update(closed_at=timezone.now())  # won this month
    SalesTarget.objects.create(team=actors.north, month=month_start(today), amount=200 * M)
    SalesTarget.objects.create(team=actors.south, month=month_start(today), amount=50 * M)
    rows = forecast_rows(user=actors.manager, filters=filters())
    assert len(rows) == 13 and rows[0].month is None
    overdue, current = rows[0], rows[1]
    assert (overdue.count, overdue.expected_revenue, overdue.weighted_revenue) == (1, 50 * M, 30 * M)  # B
    assert (current.count, current.expected_revenue) == (1, 10 * M)  # C closes today
    assert (current.won_revenue, current.target, current.attainment) == (70 * M, 250 * M, Decimal("28.0"))
    in_40_days = month_start(today + dt.timedelta(days=40))
    row = next(r for r in rows if r.month == in_40_days)
    assert (row.count, row.expected_revenue, row.weighted_revenue) == (1, 100 * M, 20 * M)
    assert sum(r.expected_revenue for r in rows) == 160 * M
    # A leader's targets are those of the teams they lead; a salesperson has none.
    leader = forecast_rows(user=actors.leader, filters=filters())
    assert (leader[1].target, leader[1].won_revenue, leader[1].count) == (200 * M, 70 * M, 0)
    assert all(r.target is None for r in forecast_rows(user=actors.sales1, filters=filters()))


def test_funnel_counts_conversions_wins_rates_and_median_days(actors, scene):
    (row,) = funnel_rows(user=actors.manager, filters=filters())
    assert (row.created, row.converted, row.won, row.lost) == (6, 5, 1, 1)
    assert (row.conversion_rate, row.won_rate, row.win_rate) == (
        Decimal("83.3"),
        Decimal("20.0"),
        Decimal("50.0"),
    )
    assert row.won_revenue == 70 * M
    assert row.days_to_convert == Decimal("3.0")  # A 2 days, B 4 days
    assert row.days_to_win == Decimal("10.0")  # E, created as an opportunity


def test_funnel_by_salesperson_and_lost_reasons(actors, scene):
    rows = {r.label: r for r in funnel_rows(user=actors.leader, filters=filters(group="user"))}
    assert {label: r.created for label, r in rows.items()} == {"Nguyễn An": 3, "Lê Bình": 2}
    assert rows["Nguyễn An"].days_to_convert == Decimal("2.0")
    (lost,) = lost_reason_rows(user=actors.manager, filters=filters())
    assert (lost.lost_reason, lost.count, lost.expected_revenue) == ("Giá cao", 1, 5 * M)
    assert lost_reason_rows(user=actors.sales1, filters=filters()) == []


def test_funnel_periods_leave_out_records_created_outside_them(actors, scene):
    start = timezone.localdate() - dt.timedelta(days=5)
    assert funnel_rows(user=actors.manager, filters=ReportFilters(start, timezone.localdate())) == []
    weeks = funnel_rows(user=actors.manager, filters=filters(period="week"))
    assert [r.created for r in weeks] == [6]


def test_sources_count_leads_opportunities_and_wins_per_source(actors, scene):
    rows = {r.source: r for r in source_rows(user=actors.manager, filters=filters())}
    web = rows["Website"]
    assert (web.leads, web.opportunities, web.won, web.won_revenue) == (2, 2, 0, Decimal(0))
    none = rows["Không có nguồn"] if "Không có nguồn" in rows else rows["No source"]
    assert (none.leads, none.opportunities, none.won, none.lost, none.won_revenue) == (3, 2, 1, 1, 70 * M)
    assert none.win_rate == Decimal("50.0")
    assert sum(r.leads for r in rows.values()) == 6
    assert {r.source for r in source_rows(user=actors.sales3, filters=filters())} == {"Hội thảo"}


def test_activities_per_person_and_type(actors, scene):
    rows = {(r.person, r.kind): r for r in activity_rows(user=actors.manager, filters=filters())}
    call = rows[("Nguyễn An", "call")]
    assert (call.done, call.overdue, call.today, call.planned) == (1, 1, 1, 0)
    assert rows[("Nguyễn An", "meeting")].planned == 1
    assert rows[("Võ Chi", "todo")].overdue == 1
    assert {r.person for r in activity_rows(user=actors.sales1, filters=filters())} == {"Nguyễn An"}
    south = activity_rows(user=actors.manager, filters=filters(team_id=actors.south.pk))
    assert [(r.person, r.overdue) for r in south] == [("Võ Chi", 1)]


def test_members_received_against_capacity_and_days_to_first_activity(actors, scene):
    TeamMember.objects.filter(team=actors.north, user=actors.sales2).update(
        away_from=timezone.localdate(), capacity=10
    )
    rows = {(r.team, r.salesperson): r for r in member_rows(user=actors.manager, filters=filters())}
    an = rows[("Miền Bắc", "Nguyễn An")]
    assert (an.received, an.capacity, an.assigned, an.untouched) == (1, 30, 1, 0)
    assert an.days_to_first_activity == Decimal("2.0")
    binh = rows[("Miền Bắc", "Lê Bình")]
    assert (binh.received, binh.capacity, binh.load, binh.available, binh.untouched) == (
        1,
        10,
        Decimal("10.0"),
        False,
        1,
    )
    assert binh.away.endswith("–")
    assert [r.salesperson for r in member_rows(user=actors.sales1, filters=filters())] == ["Nguyễn An"]
    assert {r.team for r in member_rows(user=actors.leader, filters=filters())} == {"Miền Bắc"}


def test_waiting_leads_are_counted_by_the_reason_the_next_run_would_meet(actors, scene):
    actors.north.min_score, actors.south.min_score = 50, 30
    actors.south.assignment_domain = "[['country_id', '=', 'VN']]"
    actors.north.save()
    actors.south.save()
    make_waiting_leads(2, score=10)  # under every minimum
    make_waiting_leads(1, score=40, country=country("US"))  # reaches south's minimum, not its rule
    make_waiting_leads(1, score=40, country=country("VN"))  # south would take it
    TeamMember.objects.filter(team=actors.north).update(capacity=0)
    make_lead("North, nobody free", team=actors.north, score=60)
    rows = {r.reason: r.count for r in waiting_rows(user=actors.manager, filters=filters())}
    assert rows == {
        WaitingReason.BELOW_MIN_SCORE: 2,
        WaitingReason.NO_TEAM_RULE: 1,
        WaitingReason.MEMBERS_FULL: 1,
        WaitingReason.NEXT_RUN: 1,
    }
    # A salesperson of north sees the unassigned leads of their team only.
    assert {r.reason: r.count for r in waiting_rows(user=actors.sales1, filters=filters())} == {
        WaitingReason.MEMBERS_FULL: 1
    }


def _full_plan_counts(user) -> dict[str, int]:
    """The reference: the assignment's plan over every waiting lead the reader may see, one by one."""
    from pheu.assignment.facts import load_config, parse_rules, read_leads
    from pheu.assignment.services import plan_assignment, waiting_reason
    from pheu.leads.models import Lead

    config = load_config(now=timezone.now())
    parse_rules(config)
    leads = (
        Lead.objects.visible_to(user).filter(active=True, won_status="open", user__isnull=True).order_by("id")
    )
    counts: dict[str, int] = {}
    for decision in plan_assignment(config, read_leads(leads, config)):
        reason = waiting_reason(config, decision)
        counts[reason] = counts.get(reason, 0) + 1
    return counts


@pytest.mark.parametrize("capacity", [0, 1, 3, 30])
def test_waiting_reasons_equal_a_plan_over_every_lead(actors, capacity):
    """Grouping alike leads and planning only the first seats + 1 of each group counts what a plan over every
    lead counts — with members full, nearly full or free, rules on members and leads with a team already."""
    from pheu.testing import make_member, make_team, make_user

    actors.north.min_score, actors.south.min_score = 20, 40
    actors.north.assignment_domain = "[['country_id', '=', 'VN']]"
    actors.north.save()
    actors.south.save()
    TeamMember.objects.update(capacity=capacity)
    TeamMember.objects.filter(user=actors.sales2).update(assignment_domain="[['score', '>=', 70]]")
    third = make_team("International", sequence=3, min_score=10)
    make_member(team=third, user=make_user("intl"), capacity=max(capacity - 1, 0))
    for i in range(90):
        code = ("VN", "US", "SG")[i % 3]
        team = (None, None, actors.north, actors.south, third)[i % 5]
        make_lead(f"W{i}", country=country(code), team=team, score=(10, 35, 60, 85)[i % 4])
    got = {r.reason: r.count for r in waiting_rows(user=actors.manager, filters=filters())}
    assert got == _full_plan_counts(actors.manager)
    assert sum(got.values()) == 90
    assert {
        r.reason: r.count for r in waiting_rows(user=actors.sales1, filters=filters())
    } == _full_plan_counts(actors.sales1)
