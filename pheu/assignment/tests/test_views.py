"""Assignment pages, API and command."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from pheu.assignment.models import AssignmentRun
from pheu.leads.models import Lead
from pheu.testing import make_lead, make_member, make_team, make_user

pytestmark = pytest.mark.django_db


def _scene(actors):
    actors.north.assignment_domain = "[['country_id', '=', 'VN']]"
    actors.north.save()
    actors.south.assignment_optout = True
    actors.south.save()
    return make_lead(country="VN"), make_lead(country="US")


def test_the_overview_shows_loads_and_the_run_button_assigns(client, english):
    vn, us = _scene(english)
    client.force_login(english.manager)
    page = client.get(reverse("assignment:overview"))
    assert b"Automatic assignment" in page.content and b'id="assignment-loads"' in page.content
    response = client.post(reverse("assignment:run"))
    assert response.status_code == 302
    vn.refresh_from_db()
    us.refresh_from_db()
    assert (vn.team, vn.user is not None, us.team) == (english.north, True, None)
    assert client.get(reverse("assignment:overview")).content.count(b"<tr>") >= 2


def test_the_run_button_goes_back_to_a_page_of_this_site_only(client, english):
    client.force_login(english.manager)
    back = client.post(reverse("assignment:run"), {"next": "/leads/?mine=1"})
    assert back["Location"] == "/leads/?mine=1"
    away = client.post(reverse("assignment:run"), {"next": "https://evil.example/phish"})
    assert away["Location"] == reverse("assignment:overview")


def test_a_dry_run_from_the_page_writes_nothing(client, english):
    _scene(english)
    client.force_login(english.manager)
    response = client.post(reverse("assignment:run"), {"dry_run": "1"})
    assert response.status_code == 200
    assert b"1 given a team, 1 a salesperson" in response.content
    assert not Lead.objects.filter(team__isnull=False).exists()


def test_salespeople_may_not_open_the_assignment_pages(client, actors):
    client.force_login(actors.sales1)
    assert client.get(reverse("assignment:overview")).status_code == 403
    assert client.post(reverse("assignment:run")).status_code == 403


def test_the_team_page_saves_the_rule_and_refuses_a_bad_one(client, english):
    client.force_login(english.manager)
    url = reverse("assignment:team", args=[english.north.pk])
    bad = client.post(url, {"assignment_domain": "[['cuntry', '=', 'VN']]", "min_score": "abc"})
    assert bad.status_code == 200
    english.north.refresh_from_db()
    assert english.north.assignment_domain == ""
    ok = client.post(url, {"assignment_domain": "[['country_id', '=', 'VN']]", "min_score": "50"})
    assert ok.status_code == 302
    english.north.refresh_from_db()
    assert (english.north.assignment_domain, english.north.min_score) == ("[['country_id', '=', 'VN']]", 50)


def test_the_team_page_simulates_an_unsaved_rule(client, english):
    _scene(english)
    client.force_login(english.manager)
    url = reverse("assignment:team", args=[english.north.pk])
    response = client.post(url, {"simulate": "1", "assignment_domain": "[['country_id', '=', 'US']]"})
    assert (
        b"2 waiting leads would go elsewhere" in response.content or b"would go elsewhere" in response.content
    )
    english.north.refresh_from_db()
    assert english.north.assignment_domain == "[['country_id', '=', 'VN']]"


def test_the_member_page_marks_a_member_away_and_refuses_a_negative_capacity(client, english):
    member = english.north.members.get(user=english.sales1)
    client.force_login(english.manager)
    url = reverse("assignment:member", args=[member.pk])
    bad = client.post(url, {"capacity": "-1", "weight": "1", "active": "on"})
    assert bad.status_code == 200
    ok = client.post(
        url,
        {
            "capacity": "5",
            "weight": "1",
            "active": "on",
            "away_from": "2030-01-01",
            "away_until": "2030-01-10",
        },
    )
    assert ok.status_code == 302
    member.refresh_from_db()
    assert (member.capacity, str(member.away_from), str(member.away_until)) == (5, "2030-01-01", "2030-01-10")


def test_the_lead_page_shows_why_it_was_assigned(client, english):
    vn, _us = _scene(english)
    client.force_login(english.manager)
    client.post(reverse("assignment:run"))
    page = client.get(reverse("leads:detail", args=[vn.pk]))
    assert b'id="assignment-panel"' in page.content
    assert b"reaches its minimum 0" in page.content


def test_api_runs_lists_and_explains(api_client, actors):
    vn, us = _scene(actors)
    client = api_client(actors.manager)
    dry = client.post("/api/v1/assignment-runs/", {"dry_run": True}, format="json")
    assert dry.status_code == 200 and dry.json()["run"] is None
    real = client.post("/api/v1/assignment-runs/", {}, format="json")
    assert real.status_code == 201
    assert real.json()["assigned_lead_ids"] == dry.json()["assigned_lead_ids"] == [vn.pk]
    runs = client.get("/api/v1/assignment-runs/").json()
    assert runs["count"] == 1 and runs["results"][0]["assigned"] == 1
    why = client.get(f"/api/v1/leads/{vn.pk}/assignment/").json()
    assert why["current"] is True and why["decision"]["team_rule"] == "[['country_id', '=', 'VN']]"
    assert client.get(f"/api/v1/leads/{us.pk}/assignment/").json()["decision"] is None


def test_api_redistribution_with_nobody_away_moves_nothing(api_client, actors):
    """Found by the schema fuzzer: a redistribution with no member away read an empty queryset (a 500)."""
    lead = make_lead(user=actors.sales1, team=actors.north)
    body = {"dry_run": False, "team": None, "redistribute": True, "member": None}
    response = api_client(actors.manager).post("/api/v1/assignment-runs/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["assigned_lead_ids"] == []
    lead.refresh_from_db()
    assert lead.user_id == actors.sales1.pk


def test_api_refuses_salespeople_and_bad_simulations(api_client, actors):
    assert api_client(actors.sales1).post("/api/v1/assignment-runs/", {}, format="json").status_code == 403
    client = api_client(actors.manager)
    member = actors.north.members.first()
    bad = client.post(
        "/api/v1/assignment-runs/simulate/", {"member": member.pk, "capacity": -2}, format="json"
    )
    assert bad.status_code == 400 and "capacity" in bad.json()
    assert not AssignmentRun.objects.exists()


def test_api_team_members_take_away_dates(api_client, actors):
    member = actors.north.members.first()
    client = api_client(actors.manager)
    response = client.patch(
        f"/api/v1/team-members/{member.pk}/",
        {"away_from": "2030-02-10", "away_until": "2030-02-01"},
        format="json",
    )
    assert response.status_code == 400 and "away_until" in response.json()


def test_the_command_prints_json_and_names_a_bad_team(capsys):
    team = make_team("Solo")
    make_member(team=team, user=make_user("solo"))
    lead = make_lead()
    call_command("assign", "--dry-run", "--json", "--explain")
    data = json.loads(capsys.readouterr().out)
    assert (data["dry_run"], data["assigned_lead_ids"]) == (True, [lead.pk])
    call_command("assign")
    lead.refresh_from_db()
    assert lead.user.username == "solo"
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Nope"):
        call_command("assign", "--team", "Nope")
