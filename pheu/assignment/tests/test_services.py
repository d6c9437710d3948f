"""The assignment service: the scenarios of the assignment issue, capacity, availability, explanations,
dry runs and simulations, query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError
from django.utils import timezone

from pheu.accounts.models import Role
from pheu.assignment import services
from pheu.assignment.exceptions import AssignmentError
from pheu.assignment.models import AssignmentDecision, AssignmentRun
from pheu.assignment.services import (
    assign_leads,
    assign_new_lead,
    assignment_statistics,
    lead_assignment,
    redistribute_leads,
    run_scheduled_assignments,
    simulate_rule_change,
)
from pheu.assignment.testing import make_waiting_leads
from pheu.core.history import timeline_of
from pheu.core.models import HistoryEntry, PheuSettings
from pheu.core.services import add_note
from pheu.leads.models import Lead
from pheu.leads.services import create_lead
from pheu.testing import (
    country,
    make_lead,
    make_member,
    make_partner,
    make_stage,
    make_team,
    make_user,
    set_scores,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager():
    return make_user("boss", role=Role.SALES_MANAGER)


def _where(*leads: Lead) -> list[tuple[str | None, str | None]]:
    result = []
    for lead in leads:
        lead.refresh_from_db()
        result.append((lead.team.name if lead.team else None, lead.user.username if lead.user else None))
    return result


# --- the scenarios of the issue ----------------------------------------------------------------------
def test_offices_in_several_regions(manager):
    north = make_team(
        "Miền Bắc",
        sequence=1,
        assignment_domain="[['country_id', '=', 'Vietnam'], ['state', 'in', ['Hà Nội', 'Hải Phòng']]]",
    )
    south = make_team("Miền Nam", sequence=2, assignment_domain="[['country_id', '=', 'Vietnam']]")
    world = make_team(
        "International", sequence=3, assignment_domain="[['country_id', 'not in', ['Vietnam']]]"
    )
    make_member(team=north, user=make_user("hanoi"))
    make_member(team=south, user=make_user("saigon"))
    make_member(team=world, user=make_user("abroad"))
    hanoi = make_lead(country="VN", state="Hà Nội")
    saigon = make_lead(country="VN", state="Hồ Chí Minh")
    paris = make_lead(country="FR", state="Île-de-France")

    assign_leads(actor=manager)

    assert _where(hanoi, saigon, paris) == [
        ("Miền Bắc", "hanoi"),
        ("Miền Nam", "saigon"),
        ("International", "abroad"),
    ]


def test_large_companies_and_smes_go_to_their_teams(manager):
    large = make_team("Enterprise", sequence=1, assignment_domain="[['company_size', '>=', 250]]")
    small = make_team("SME", sequence=2, assignment_domain="[['company_size_band', 'in', ['1-9', '10-49']]]")
    make_member(team=large, user=make_user("big"))
    make_member(team=small, user=make_user("small"))
    corp = make_lead(company_size=1200)
    shop = make_lead(company_size=12)
    unknown = make_lead()

    assign_leads(actor=manager)

    assert _where(corp, shop, unknown) == [("Enterprise", "big"), ("SME", "small"), (None, None)]


def test_a_salesperson_speaking_french_gets_the_leads_of_french_speaking_countries(manager):
    team = make_team("World", assignment_domain="")
    make_member(team=team, user=make_user("anyone"), capacity=10)
    make_member(
        team=team,
        user=make_user("francophone"),
        capacity=10,
        assignment_domain="['|', ['country_id', 'in', ['France', 'Belgium']], ['language', '=', 'fr']]",
    )
    paris = make_lead(country="FR")
    brussels = make_lead(country="BE")
    quebec = make_lead(country="CA", language="fr")
    tokyo = make_lead(country="JP")

    assign_leads(actor=manager)

    assert [user for _team, user in _where(paris, brussels, quebec, tokyo)] == [
        "francophone",
        "francophone",
        "francophone",
        "anyone",
    ]


def test_sales_takes_the_united_states_and_canada_and_one_member_only_canada(manager):
    sales = make_team("Sales", assignment_domain="[['country_id', 'in', ['United States', 'Canada']]]")
    make_member(team=sales, user=make_user("usa"), capacity=10)
    make_member(
        team=sales, user=make_user("canada"), capacity=10, assignment_domain="[['country_id', '=', 'CA']]"
    )
    toronto = make_lead(country="CA")
    boston = make_lead(country="US")
    berlin = make_lead(country="DE")

    assign_leads(actor=manager)

    assert _where(toronto, boston, berlin) == [("Sales", "canada"), ("Sales", "usa"), (None, None)]


def test_a_team_with_minimum_score_50_receives_only_leads_scored_50_or_more(manager):
    hot = make_team("Hot", sequence=1, min_score=50)
    make_member(team=hot, user=make_user("closer"))
    good, low = make_lead(), make_lead()
    set_scores([good], 50)
    set_scores([low], 49)

    assign_leads(actor=manager)
    assert _where(good, low) == [("Hot", "closer"), (None, None)]

    cold = make_team("Cold", sequence=2, min_score=0)
    make_member(team=cold, user=make_user("nurturer"))
    assign_leads(actor=manager)
    assert _where(good, low) == [("Hot", "closer"), ("Cold", "nurturer")]


# --- members: capacity, fairness, weight, opt-out ----------------------------------------------------
def test_members_get_leads_by_free_capacity_relative_to_capacity_and_never_over_capacity(manager):
    team = make_team("T")
    make_member(team=team, user=make_user("ten"), capacity=10)
    make_member(team=team, user=make_user("two"), capacity=2)
    make_member(team=team, user=make_user("optout"), capacity=50, optout=True)
    make_member(team=team, user=make_user("zero"), capacity=0)
    make_waiting_leads(20)

    result = assign_leads(actor=manager)

    counts = {
        name: Lead.objects.filter(user__username=name).count() for name in ("ten", "two", "optout", "zero")
    }
    assert counts == {"ten": 10, "two": 2, "optout": 0, "zero": 0}
    assert not Lead.objects.filter(user__isnull=False, team__isnull=True).exists()
    assert Lead.objects.filter(team=team, user__isnull=True).count() == 8
    assert (result.considered, result.teamed, result.assigned) == (20, 20, 12)


def test_the_weight_scales_a_members_share(manager):
    team = make_team("T")
    make_member(team=team, user=make_user("heavy"), capacity=100, weight=3)
    make_member(team=team, user=make_user("light"), capacity=100, weight=1)
    make_waiting_leads(8)

    assign_leads(actor=manager)

    heavy = Lead.objects.filter(user__username="heavy").count()
    assert heavy > Lead.objects.filter(user__username="light").count()
    assert heavy + Lead.objects.filter(user__username="light").count() == 8


def test_best_scored_leads_are_assigned_first(manager):
    team = make_team("T")
    make_member(team=team, user=make_user("only"), capacity=2)
    leads = make_waiting_leads(4)
    for points, lead in zip((10, 90, 50, 70), leads, strict=True):
        set_scores([lead], points)

    assign_leads(actor=manager)

    assert set(Lead.objects.filter(user__username="only").values_list("pk", flat=True)) == {
        leads[1].pk,
        leads[3].pk,
    }


def test_leads_assigned_in_the_last_30_days_count_against_capacity(manager):
    team = make_team("T")
    seller = make_user("seller")
    make_member(team=team, user=seller, capacity=3)
    make_lead(team=team, user=seller, assigned_at=timezone.now() - dt.timedelta(days=3))
    make_lead(team=team, user=seller, assigned_at=timezone.now() - dt.timedelta(days=40))
    make_waiting_leads(5)

    assign_leads(actor=manager)

    assert (
        Lead.objects.filter(user=seller, assigned_at__gte=timezone.now() - dt.timedelta(days=30)).count() == 3
    )


def test_manual_assignment_wins(manager):
    team = make_team("T")
    make_member(team=team, user=make_user("auto"))
    by_hand = make_user("byhand")
    lead = make_lead(user=by_hand)

    assign_leads(actor=manager)

    assert _where(lead) == [(None, "byhand")]
    assert not AssignmentDecision.objects.exists()


def test_a_team_working_without_leads_converts_them_on_assignment(manager):
    team = make_team("Direct", use_leads=False)
    stage = make_stage("New", sequence=1, probability=15)
    make_member(team=team, user=make_user("seller"))
    lead = make_lead()

    result = assign_leads(actor=manager)

    lead.refresh_from_db()
    assert (lead.type, lead.stage, lead.probability, lead.converted_at is not None) == (
        "opportunity",
        stage,
        15,
        True,
    )
    assert result.converted == 1


# --- explanations, dry runs, simulations -------------------------------------------------------------
def test_each_assignment_is_explained_and_recorded_with_its_run(manager):
    team = make_team("Sales", min_score=10, assignment_domain="[['country_id', '=', 'US']]")
    member = make_member(
        team=team, user=make_user("usa"), capacity=4, assignment_domain="[['score', '>', 5]]"
    )
    lead = make_lead(country="US")
    set_scores([lead], 20)

    result = assign_leads(actor=manager)

    run = AssignmentRun.objects.get()
    assert run.pk == result.run_id
    assert (run.considered, run.teamed, run.assigned) == (1, 1, 1)
    assert run.counts == {"teams": {str(team.pk): 1}, "members": {str(member.pk): 1}}
    decision = lead_assignment(lead=Lead.objects.get(pk=lead.pk)).decision
    assert decision is not None
    assert (decision.run, decision.team_rule, decision.member_rule, decision.score) == (
        run,
        "[['country_id', '=', 'US']]",
        "[['score', '>', 5]]",
        20,
    )
    assert (decision.min_score, decision.capacity, decision.capacity_left) == (10, 4, 3)
    [entry] = timeline_of(Lead.objects.get(pk=lead.pk))
    assert entry.kind == "change"
    assert [change["field"] for change in entry.changes] == ["team", "user"]
    assert f"#{run.pk}" in entry.body and entry.author == manager


def test_a_dry_run_writes_nothing_and_matches_the_real_run(manager):
    north = make_team("North", sequence=1, assignment_domain="[['country_id', '=', 'VN']]", min_score=20)
    world = make_team("World", sequence=2)
    make_member(team=north, user=make_user("n1"), capacity=3)
    make_member(
        team=north, user=make_user("n2"), capacity=1, assignment_domain="[['company_size', '>', 100]]"
    )
    make_member(team=world, user=make_user("w1"), capacity=2)
    for index in range(12):
        lead = make_lead(country="VN" if index % 2 else "US", company_size=index * 20)
        set_scores([lead], index * 5)

    dry = assign_leads(actor=manager, dry_run=True)
    assert dry.run_id is None
    assert not Lead.objects.filter(team__isnull=False).exists()
    assert not AssignmentRun.objects.exists()

    real = assign_leads(actor=manager)
    assert [d.as_dict() for d in dry.decisions] == [d.as_dict() for d in real.decisions]
    assert (dry.team_counts, dry.member_counts) == (real.team_counts, real.member_counts)
    written = {pk: (team, user) for pk, team, user in Lead.objects.values_list("id", "team_id", "user_id")}
    for decision in real.decisions:
        if decision.writes:
            assert written[decision.lead_id] == (decision.team_id, decision.user_id)


def test_simulating_a_rule_not_yet_saved_shows_the_leads_that_would_move(manager):
    first = make_team("A", sequence=1)
    second = make_team("B", sequence=2)
    make_member(team=first, user=make_user("a"), capacity=0)
    make_member(team=second, user=make_user("b"), capacity=0)
    make_waiting_leads(3, country=country("US"))
    make_waiting_leads(2, country=country("VN"))

    simulation = simulate_rule_change(
        actor=manager, team=first, values={"assignment_domain": "[['country_id', '=', 'VN']]"}
    )

    assert (simulation.waiting, simulation.moved) == (5, 3)
    assert [(m.source, m.to, m.count) for m in simulation.moves] == [("A", "B", 3)]
    first.refresh_from_db()
    assert first.assignment_domain == ""
    assert not Lead.objects.filter(team__isnull=False).exists()


def test_a_simulation_then_saving_the_rule_gives_what_it_announced(manager):
    team = make_team("T")
    low = make_member(team=team, user=make_user("low"), capacity=1)
    make_member(team=team, user=make_user("high"), capacity=10)
    make_waiting_leads(4)

    simulation = simulate_rule_change(actor=manager, member=low, values={"capacity": "5"})
    from pheu.teams.services import update_team_member

    update_team_member(actor=manager, member=low, values={"capacity": 5})
    real = assign_leads(actor=manager)
    assert simulation.after.member_counts == real.member_counts


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"capacity": "-3"}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"weight": "-1"}, "weight"),
        ({"assignment_domain": "[['cuntry', '=', 'VN']]"}, "assignment_domain"),
    ],
)
def test_impossible_member_values_are_field_errors(manager, values, field):
    team = make_team("T")
    member = make_member(team=team, user=make_user("m"))
    with pytest.raises(AssignmentError) as caught:
        simulate_rule_change(actor=manager, member=member, values=values)
    assert list(caught.value.field_errors) == [field]


def test_a_min_score_that_is_not_a_number_is_a_field_error(manager):
    team = make_team("T")
    with pytest.raises(AssignmentError) as caught:
        simulate_rule_change(actor=manager, team=team, values={"min_score": "fifty"})
    assert list(caught.value.field_errors) == ["min_score"]


def test_a_stored_rule_that_no_longer_reads_matches_nothing_and_is_reported(manager):
    team = make_team("T", assignment_domain="[['tag_ids', 'in', ['VIP']]]")  # no such tag
    make_member(team=team, user=make_user("m"))
    lead = make_lead()

    result = assign_leads(actor=manager)

    assert result.broken_rules == ["[['tag_ids', 'in', ['VIP']]]"]
    assert _where(lead) == [(None, None)]


def test_salespeople_may_not_run_the_assignment(manager):
    seller = make_user("seller")
    make_team("T")
    make_waiting_leads(1)
    with pytest.raises(AssignmentError):
        assign_leads(actor=seller)
    assert not Lead.objects.filter(team__isnull=False).exists()


# --- scope: one team, given leads --------------------------------------------------------------------
def test_a_run_for_one_team_leaves_the_leads_of_earlier_teams_alone(manager):
    first = make_team("First", sequence=1, assignment_domain="[['country_id', '=', 'VN']]")
    second = make_team("Second", sequence=2)
    make_member(team=first, user=make_user("f"))
    make_member(team=second, user=make_user("s"))
    vn, us = make_lead(country="VN"), make_lead(country="US")

    assign_leads(actor=manager, team=second)

    assert _where(vn, us) == [(None, None), ("Second", "s")]


def test_only_the_given_leads_are_assigned(manager):
    team = make_team("T")
    make_member(team=team, user=make_user("m"))
    mine, other = make_lead(), make_lead()

    assign_leads(actor=None, lead_ids=[mine.pk])

    assert _where(mine, other) == [("T", "m"), (None, None)]


# --- availability ------------------------------------------------------------------------------------
def test_an_away_member_receives_nothing(manager):
    team = make_team("T")
    today = timezone.localdate()
    make_member(team=team, user=make_user("away"), capacity=10, away_from=today - dt.timedelta(days=1))
    make_member(team=team, user=make_user("here"), capacity=10, away_from=today + dt.timedelta(days=1))
    make_waiting_leads(4)

    assign_leads(actor=manager)

    assert Lead.objects.filter(user__username="here").count() == 4


def test_the_untouched_leads_of_an_away_member_are_redistributed_and_explained(manager):
    team = make_team("T")
    away = make_member(team=team, user=make_user("away"), capacity=10)
    make_member(team=team, user=make_user("mate"), capacity=10, weight=0)  # gets leads only when away is full
    worked, untouched = make_waiting_leads(2)
    assign_leads(actor=manager)
    assert _where(worked, untouched) == [("T", "away"), ("T", "away")]
    add_note(record=worked, author=away.user, body="Called: interested.")
    by_hand = make_lead(team=team, user=away.user, assigned_at=timezone.now())
    away.away_from = timezone.localdate()
    away.save()

    dry = redistribute_leads(actor=manager, team=team, dry_run=True)
    result = redistribute_leads(actor=manager, team=team)

    assert [d.lead_id for d in dry.decisions] == [d.lead_id for d in result.decisions] == [untouched.pk]
    assert _where(worked, untouched, by_hand) == [("T", "away"), ("T", "mate"), ("T", "away")]
    decision = lead_assignment(lead=Lead.objects.get(pk=untouched.pk)).decision
    assert (decision.user.username, decision.previous_user.username) == ("mate", "away")


def test_redistributing_a_member_who_is_not_away_is_refused(manager):
    team = make_team("T")
    member = make_member(team=team, user=make_user("here"))
    with pytest.raises(AssignmentError) as caught:
        redistribute_leads(actor=manager, member=member)
    assert list(caught.value.field_errors) == ["member"]


# --- real time ---------------------------------------------------------------------------------------
def test_a_new_lead_is_assigned_on_creation_when_the_setting_is_on(manager):
    team = make_team("Sales", assignment_domain="[['country_id', '=', 'US']]")
    make_member(team=team, user=make_user("usa"))
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": True})

    lead = create_lead(actor=None, values={"name": "Boston", "country": country("US")})

    assert (lead.team, lead.user.username) == (team, "usa")
    assert _where(lead) == [("Sales", "usa")]
    decision = lead_assignment(lead=lead)
    assert decision.current and decision.decision.run is None


@pytest.mark.parametrize("merge", [True, False])
def test_a_team_that_merges_duplicates_merges_a_new_lead_into_the_open_record_with_its_email(manager, merge):
    team = make_team("Sales", merge_duplicates_on_assignment=merge)
    make_member(team=team, user=make_user("seller"))
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": True})
    first = create_lead(actor=None, values={"name": "Anh Minh", "email": "Minh@Example.vn"})
    assert first.user.username == "seller"

    second = create_lead(actor=None, values={"name": "Minh again", "email": "minh@example.vn"})

    first.refresh_from_db()
    second.refresh_from_db()
    if merge:
        assert (second.active, second.merged_into, second.user) == (False, first, None)
        assert (first.active, first.user.username) == (True, "seller")
        assert not AssignmentDecision.objects.filter(lead=second).exists()
    else:
        assert (second.active, second.merged_into, second.user.username) == (True, None, "seller")
        assert AssignmentDecision.objects.filter(lead=second).exists()


def test_a_new_lead_merges_into_an_open_opportunity_of_the_same_person_in_another_team(manager):
    """SPEC 6: the merge on assignment looks at every open record with the e-mail, not only the team's."""
    from pheu.leads.choices import LeadType

    team = make_team("Sales", merge_duplicates_on_assignment=True)
    make_member(team=team, user=make_user("seller"))
    other = make_team("Key accounts", sequence=9, assignment_domain="[['name', '=', 'nobody']]")
    owner = make_user("owner")
    existing = make_lead(
        email="minh@example.vn", team=other, user=owner, type=LeadType.OPPORTUNITY, assigned_at=timezone.now()
    )
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": True})

    lead = create_lead(actor=None, values={"name": "Minh", "email": "Minh@example.vn"})

    lead.refresh_from_db()
    existing.refresh_from_db()
    assert (lead.active, lead.merged_into) == (False, existing)
    assert (existing.active, existing.team, existing.user) == (True, other, owner)


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_batch_run_merges_waiting_leads_into_older_records_with_their_email(manager, dry_run):
    """Button, API, `pheu assign` and the schedule merge as real time does: into the oldest open record of
    the e-mail (another waiting lead of the same run included); a dry run says what it would merge."""
    team = make_team("Sales", merge_duplicates_on_assignment=True)
    make_member(team=team, user=make_user("seller"), capacity=10)
    older = make_lead(email="minh@example.vn", team=team)
    first = make_lead(email="MINH@example.vn")
    second = make_lead(email="lan@example.vn")
    third = make_lead(email="lan@example.vn")
    alone = make_lead(email="an@example.vn")

    result = assign_leads(actor=manager, dry_run=dry_run)

    assert sorted(result.merges) == [(first.pk, older.pk), (third.pk, second.pk)]
    assert sorted(result.as_dict()["merged"], key=lambda m: m["lead"]) == [
        {"lead": first.pk, "into": older.pk},
        {"lead": third.pk, "into": second.pk},
    ]
    for record in (older, first, second, third, alone):
        record.refresh_from_db()
    if dry_run:
        assert all(r.active for r in (older, first, second, third, alone))
        assert Lead.objects.filter(user__isnull=False).count() == 0
        return
    assert (first.active, first.merged_into, third.active, third.merged_into) == (False, older, False, second)
    assert [r.user.username if r.user else None for r in (older, second, alone)] == ["seller"] * 3
    assert (first.user, third.user) == (None, None)


def test_a_batch_run_of_a_team_that_does_not_merge_merges_nothing(manager):
    team = make_team("Sales")
    make_member(team=team, user=make_user("seller"), capacity=10)
    make_lead(email="minh@example.vn", team=team)
    waiting = make_lead(email="minh@example.vn")
    result = assign_leads(actor=manager)
    waiting.refresh_from_db()
    assert result.merges == [] and waiting.active and waiting.user.username == "seller"


def test_a_duplicate_of_another_customer_is_assigned_instead_of_merged(manager):
    team = make_team("Sales", merge_duplicates_on_assignment=True)
    make_member(team=team, user=make_user("seller"))
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": True})
    first = make_lead(email="minh@example.vn", team=team, partner=make_partner("Công ty A"))
    second = create_lead(
        actor=None, values={"name": "Minh", "email": "minh@example.vn", "partner": make_partner("Công ty B")}
    )
    second.refresh_from_db()
    assert (second.active, second.merged_into, second.user.username) == (True, None, "seller")
    first.refresh_from_db()
    assert first.active


@pytest.mark.parametrize("merging", [False, True])
def test_a_new_lead_is_inserted_once_with_its_team_and_salesperson(manager, merging):
    """The creation decides the assignment on the instance: one INSERT with the final values, no UPDATE of
    the lead just inserted (the largest database cost of a creation), and the decision at its time; also in
    a team that merges duplicates, when no open record has the e-mail."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    team = make_team(
        "Sales", assignment_domain="[['country_id', '=', 'US']]", merge_duplicates_on_assignment=merging
    )
    make_member(team=team, user=make_user("usa"))
    make_lead(email="other@example.vn", team=team)
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": True})

    with CaptureQueriesContext(connection) as captured:
        lead = create_lead(
            actor=None, values={"name": "Boston", "country": country("US"), "email": "new@example.vn"}
        )

    writes = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().startswith("UPDATE")]
    assert not [sql for sql in writes if '"leads_lead"' in sql.split("SET")[0]]
    assert _where(lead) == [("Sales", "usa")]
    decision = lead_assignment(lead=lead)
    assert decision.current and decision.decision.created_at == lead.assigned_at


def test_a_creation_never_takes_a_member_over_capacity(manager):
    team = make_team("Sales")
    make_member(team=team, user=make_user("one"), capacity=1)
    make_member(team=team, user=make_user("two"), capacity=1)
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": True})

    leads = [create_lead(actor=None, values={"name": f"Lead {i}"}) for i in range(3)]

    assert sorted(user or "" for _team, user in _where(*leads)) == ["", "one", "two"]
    assert _where(leads[2]) == [("Sales", None)]


def test_page_views_waiting_for_a_new_lead_count_for_its_team(manager):
    """A lead whose e-mail browsed the pricing page before it was created goes to the team whose rule asks
    for it (its page views are linked first, then its rules read in the database)."""
    from pheu.scoring.services import PageViewInput, record_pageview

    pricing = make_team("Pricing", sequence=1, assignment_domain="[['pageviews.url', 'ilike', '/pricing']]")
    make_team("Others", sequence=2)
    make_member(team=pricing, user=make_user("closer"))
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": True})
    record_pageview(view=PageViewInput(url="https://pheu.vn/pricing", email="lan@example.vn"))

    lead = create_lead(actor=None, values={"name": "Lan", "email": "Lan@example.vn"})
    plain = create_lead(actor=None, values={"name": "An", "email": "an@example.vn"})

    assert _where(lead, plain) == [("Pricing", "closer"), ("Others", None)]
    assert lead.pageviews.count() == 1


def test_no_assignment_on_creation_when_the_setting_is_off(manager):
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": False})
    team = make_team("Sales")
    make_member(team=team, user=make_user("usa"))
    lead = create_lead(actor=None, values={"name": "Boston"})
    assert _where(lead) == [(None, None)]


def test_real_time_assignment_costs_at_most_5_queries(manager, django_assert_max_num_queries):
    for index in range(5):
        team = make_team(
            f"T{index}",
            sequence=index,
            assignment_domain=f"[['company_size', '>=', {index * 10}], "
            f"['company_size', '<', {index * 10 + 10}]]",
        )
        make_member(team=team, user=make_user(f"m{index}"), assignment_domain="[['country_id', '=', 'US']]")
        make_member(team=team, user=make_user(f"o{index}"))
    assign_new_lead(lead=make_lead(company_size=5, country="US"))  # parses the rules once
    lead = make_lead(company_size=25, country="US")

    with django_assert_max_num_queries(5):
        assign_new_lead(lead=lead)

    assert _where(lead) == [("T2", "m2")]


def test_real_time_assignment_never_exceeds_a_capacity(manager):
    team = make_team("T")
    make_member(team=team, user=make_user("one"), capacity=1)
    first, second = make_lead(), make_lead()
    assign_new_lead(lead=first)
    assign_new_lead(lead=second)
    assert _where(first, second) == [("T", "one"), ("T", None)]


# --- set-based ---------------------------------------------------------------------------------------
def _scene(leads: int) -> None:
    for index in range(3):
        team = make_team(
            f"Team {index}", sequence=index, assignment_domain=f"[['score', '>=', {index * 10}]]"
        )
        for seat in range(3):
            make_member(
                team=team,
                user=make_user(f"u{index}{seat}"),
                capacity=100,
                assignment_domain="[['country_id', '=', 'US']]" if seat == 0 else "",
            )
    for lead in make_waiting_leads(leads, country=country("US")):
        set_scores([lead], lead.pk % 40)


def test_the_number_of_queries_does_not_grow_with_the_number_of_leads(manager, django_assert_num_queries):
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _scene(10)
    ContentType.objects.clear_cache()  # both runs start from the same cold caches, whatever ran before
    with CaptureQueriesContext(connection) as small:
        assert assign_leads(actor=manager).assigned == 10
    Lead.objects.all().delete()
    HistoryEntry.objects.all().delete()
    for lead in make_waiting_leads(60, country=country("US")):
        set_scores([lead], lead.pk % 40)
    ContentType.objects.clear_cache()
    with django_assert_num_queries(len(small.captured_queries)):
        assert assign_leads(actor=manager).assigned == 60


# --- schedule and statistics -------------------------------------------------------------------------
def test_the_worker_runs_each_team_on_its_schedule():
    team = make_team("Daily", assignment_every_hours=24)
    make_team("Never")
    make_member(team=team, user=make_user("m"))
    lead = make_lead()
    now = timezone.now()

    assert len(run_scheduled_assignments(now=now)) == 1
    assert _where(lead) == [("Daily", "m")]
    second = make_lead()
    assert run_scheduled_assignments(now=now + dt.timedelta(hours=23)) == []
    assert len(run_scheduled_assignments(now=now + dt.timedelta(hours=24))) == 1
    assert _where(second) == [("Daily", "m")]
    assert AssignmentRun.objects.filter(trigger="schedule").count() == 2


def test_a_team_whose_scheduled_run_fails_is_tried_again_and_the_next_teams_still_run(monkeypatch):
    first = make_team("First", sequence=1, assignment_every_hours=24)
    second = make_team("Second", sequence=2, assignment_every_hours=24)
    real = services.assign_leads

    def failing_for_first(**kw):
        if kw["team"] == first:
            raise DatabaseError("lock timeout")
        return real(**kw)

    monkeypatch.setattr(services, "assign_leads", failing_for_first)
    assert len(run_scheduled_assignments(now=timezone.now())) == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.last_scheduled_assignment_at is None  # not claimed: the next round tries it again
    assert second.last_scheduled_assignment_at is not None


def test_statistics_show_each_members_load_against_capacity(manager):
    team = make_team("T")
    make_member(team=team, user=make_user("m"), capacity=4)
    make_waiting_leads(3)
    assign_leads(actor=manager)
    [load] = assignment_statistics()
    assert (load.user_label, load.capacity, load.recent, load.free, load.percent) == ("m", 4, 3, 1, 75)
