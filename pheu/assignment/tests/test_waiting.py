"""Real-time assignment on by default, and why an unassigned lead waits (issue 27)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pheu.assignment.services import WaitingReason, why_waiting
from pheu.core.models import PheuSettings
from pheu.leads.services import create_lead
from pheu.testing import country, make_lead, make_member, make_team, make_user, set_scores

pytestmark = pytest.mark.django_db


def _realtime(on: bool) -> None:
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": on})


def test_a_fresh_installation_assigns_in_real_time():
    assert not PheuSettings.objects.exists()
    team = make_team("Sales")
    make_member(team=team, user=make_user("seller"))

    lead = create_lead(actor=None, values={"name": "Cần tư vấn"})

    assert PheuSettings.load().realtime_assignment is True
    assert (lead.team, lead.user.username) == (team, "seller")
    assert why_waiting(lead=lead) is None


def test_an_installation_that_turned_it_off_keeps_its_choice():
    _realtime(False)
    make_member(team=make_team("Sales"), user=make_user("seller"))
    lead = create_lead(actor=None, values={"name": "Chờ lịch"})
    assert (PheuSettings.load().realtime_assignment, lead.user) == (False, None)
    assert why_waiting(lead=lead).reason == WaitingReason.NEXT_RUN


def test_the_demo_assigns_in_real_time():
    from pheu.demo.services import load_demo

    load_demo(leads=10, seed=7)
    assert PheuSettings.load().realtime_assignment is True


def test_no_team_rule_matches():
    make_member(
        team=make_team("Việt Nam", assignment_domain="[['country.code', '=', 'VN']]"), user=make_user()
    )
    lead = create_lead(actor=None, values={"name": "Boston", "country": country("US")})
    assert lead.user is None
    assert why_waiting(lead=lead).reason == WaitingReason.NO_TEAM_RULE


def test_below_every_teams_minimum_score():
    make_member(team=make_team("Nóng", min_score=50), user=make_user())
    make_member(
        team=make_team("Mỹ", min_score=10, assignment_domain="[['country.code', '=', 'US']]"),
        user=make_user(),
    )
    lead = create_lead(actor=None, values={"name": "Hà Nội", "country": country("VN")})
    assert lead.user is None
    waiting = why_waiting(lead=lead)
    assert (waiting.reason, str(waiting.label)) == (
        WaitingReason.BELOW_MIN_SCORE,
        "Dưới điểm tối thiểu của mọi nhóm",
    )


def test_every_member_full():
    team = make_team("Sales")
    make_member(team=team, user=make_user("full"), capacity=1)
    first = create_lead(actor=None, values={"name": "Một"})
    second = create_lead(actor=None, values={"name": "Hai"})
    assert first.user is not None and second.user is None
    assert why_waiting(lead=second).reason == WaitingReason.MEMBERS_FULL


def test_no_team_takes_part():
    make_team("Nghỉ", assignment_optout=True)
    lead = make_lead(name="Không nhóm")
    assert why_waiting(lead=lead).reason == WaitingReason.NO_TEAM


def test_an_assigned_or_closed_lead_does_not_wait(actors):
    assert why_waiting(lead=make_lead(user=actors.sales1, team=actors.north)) is None
    assert why_waiting(lead=make_lead(active=False)) is None


@pytest.mark.usefixtures("english")
def test_the_lead_page_and_the_api_say_why_it_waits(client, actors, api_client):
    actors.north.min_score = 40
    actors.north.save()
    actors.south.min_score = 40
    actors.south.save()
    lead = make_lead(name="Lạnh")
    set_scores([lead], 5)

    client.force_login(actors.manager)
    page = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="assignment-waiting"' in page and "Below every team&#x27;s minimum score" in page

    body = api_client(actors.manager).get(reverse("api:lead-assignment", args=[lead.pk])).json()
    assert body["waiting"]["reason"] == "below_min_score" and body["waiting"]["label"]
    assigned = make_lead(user=actors.sales1, team=actors.north)
    body = api_client(actors.manager).get(reverse("api:lead-assignment", args=[assigned.pk])).json()
    assert body["waiting"] is None
