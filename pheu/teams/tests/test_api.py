"""The team and team-member API: read by everyone, written by managers and administrators."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from pheu.leads.models import Lead
from pheu.teams.models import Team, TeamMember
from pheu.testing import make_lead, make_stage, make_user

pytestmark = pytest.mark.django_db

TEAMS = reverse("api:team-list")
MEMBERS = reverse("api:team-member-list")


def test_everyone_reads_teams_and_members(actors, api_client):
    client = api_client(actors.sales3)
    teams = client.get(TEAMS).json()
    assert [t["name"] for t in teams["results"]] == ["Miền Bắc", "Miền Nam"]
    north = teams["results"][0]
    assert north["leader"] == actors.leader.pk
    assert {"use_leads", "assignment_domain", "min_score", "assignment_optout", "email_alias"} <= set(north)
    members = client.get(MEMBERS, {"team": actors.north.pk}).json()
    assert sorted(m["user"] for m in members["results"]) == sorted(
        u.pk for u in (actors.leader, actors.sales1, actors.sales2)
    )


def test_manager_creates_and_changes_a_team(actors, api_client):
    client = api_client(actors.manager)
    response = client.post(
        TEAMS,
        {
            "name": "International",
            "leader": actors.leader.pk,
            "min_score": 10,
            "use_leads": False,
            "assignment_domain": "[['country.code', '!=', 'VN']]",
            "email_alias": "intl@example.com",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    team = Team.objects.get(name="International")
    assert (team.leader, team.min_score, team.use_leads) == (actors.leader, 10, False)
    url = reverse("api:team-detail", args=[team.pk])
    response = client.patch(url, {"use_leads": None, "assignment_optout": True}, format="json")
    assert response.status_code == 200
    team.refresh_from_db()
    assert (team.use_leads, team.assignment_optout) == (None, True)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Miền Bắc"}, "name"),
        ({"name": "T", "min_score": "abc"}, "min_score"),
        ({"name": "T", "min_score": 1.5}, "min_score"),
        ({"name": "T", "sequence": -1}, "sequence"),
        ({"name": "T", "leader": 999999}, "leader"),
        ({"name": "T", "use_leads": "sometimes"}, "use_leads"),
    ],
)
def test_bad_teams_are_400s(actors, api_client, payload, field):
    response = api_client(actors.admin).post(TEAMS, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Team.objects.count() == 2


def test_an_inactive_user_cannot_lead_a_team(actors, api_client):
    gone = make_user("gone", is_active=False)
    response = api_client(actors.admin).post(TEAMS, {"name": "T", "leader": gone.pk}, format="json")
    assert response.status_code == 400 and "leader" in response.json()


@pytest.mark.parametrize("role", ["sales1", "leader"])
def test_salespeople_and_leaders_do_not_change_teams(actors, api_client, role):
    client = api_client(actors.by_name(role))
    url = reverse("api:team-detail", args=[actors.north.pk])
    assert client.post(TEAMS, {"name": "T"}, format="json").status_code == 403
    assert client.patch(url, {"min_score": 99}, format="json").status_code == 403
    assert client.delete(url).status_code == 403
    member = TeamMember.objects.get(user=actors.sales1)
    assert (
        client.patch(
            reverse("api:team-member-detail", args=[member.pk]), {"capacity": 0}, format="json"
        ).status_code
        == 403
    )
    actors.north.refresh_from_db()
    member.refresh_from_db()
    assert (Team.objects.count(), actors.north.min_score, member.capacity) == (2, 0, 30)


def test_manager_adds_a_member_with_capacity_and_weight(actors, api_client):
    response = api_client(actors.manager).post(
        MEMBERS,
        {
            "team": actors.south.pk,
            "user": actors.sales1.pk,
            "capacity": 0,
            "weight": "2.5",
            "optout": True,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    member = TeamMember.objects.get(team=actors.south, user=actors.sales1)
    assert (member.capacity, member.weight, member.optout) == (0, Decimal("2.5"), True)
    assert response.json()["weight"] == "2.50"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"capacity": -1}, "capacity"),
        ({"capacity": "many"}, "capacity"),
        ({"weight": "-1"}, "weight"),
        ({"user": None}, "user"),
        ({"user": 999999}, "user"),
        ({"team": 999999}, "team"),
    ],
)
def test_bad_members_are_400s(actors, api_client, payload, field):
    data = {"team": actors.south.pk, "user": actors.sales1.pk, **payload}
    response = api_client(actors.manager).post(MEMBERS, data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not TeamMember.objects.filter(team=actors.south, user=actors.sales1).exists()


def test_a_user_is_in_a_team_once(actors, api_client):
    client = api_client(actors.manager)
    response = client.post(MEMBERS, {"team": actors.north.pk, "user": actors.sales1.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["user"]
    other = TeamMember.objects.get(team=actors.north, user=actors.sales2)
    response = client.patch(
        reverse("api:team-member-detail", args=[other.pk]), {"user": actors.sales1.pk}, format="json"
    )
    assert response.status_code == 400
    other.refresh_from_db()
    assert other.user == actors.sales2


def test_deleting_a_team_keeps_its_leads(actors, api_client):
    lead = make_lead(team=actors.south, user=actors.sales3)
    response = api_client(actors.manager).delete(reverse("api:team-detail", args=[actors.south.pk]))
    assert response.status_code == 204
    lead.refresh_from_db()
    assert lead.team is None and Lead.objects.count() == 1


def test_deleting_a_team_whose_stages_hold_records_is_refused(actors, api_client):
    stage = make_stage("Riêng", team=actors.south)
    make_lead(team=actors.south, stage=stage)
    response = api_client(actors.manager).delete(reverse("api:team-detail", args=[actors.south.pk]))
    assert response.status_code == 409
    assert Team.objects.filter(pk=actors.south.pk).exists()


# --- assignment rules --------------------------------------------------------------------------------
SEED = "[['country_id', 'in', ['United States', 'Canada']]]"


def test_a_team_rule_is_stored_as_typed_and_returned_with_its_canonical_json(actors, api_client):
    client = api_client(actors.manager)
    response = client.post(TEAMS, {"name": "International", "assignment_domain": f"  {SEED} "}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["assignment_domain"] == SEED
    assert body["assignment_domain_json"] == [["country", "in", ["United States", "Canada"]]]
    assert Team.objects.get(name="International").assignment_domain == SEED
    read = client.get(reverse("api:team-detail", args=[body["id"]])).json()
    assert (read["assignment_domain"], read["assignment_domain_json"]) == (
        SEED,
        [["country", "in", ["United States", "Canada"]]],
    )


def test_a_team_rule_sent_as_a_json_array_is_stored_as_canonical_text(actors, api_client):
    url = reverse("api:team-detail", args=[actors.north.pk])
    rule = ["|", ["country_id", "=", "VN"], ["score", ">=", 50]]
    response = api_client(actors.manager).patch(url, {"assignment_domain": rule}, format="json")
    assert response.status_code == 200, response.json()
    actors.north.refresh_from_db()
    assert actors.north.assignment_domain == '["|", ["country", "=", "VN"], ["score", ">=", 50]]'
    assert response.json()["assignment_domain_json"] == ["|", ["country", "=", "VN"], ["score", ">=", 50]]


def test_an_empty_team_rule_means_all_leads(actors, api_client):
    url = reverse("api:team-detail", args=[actors.north.pk])
    empty: object
    for empty in ("", [], "  "):
        response = api_client(actors.manager).patch(url, {"assignment_domain": empty}, format="json")
        assert response.status_code == 200, response.json()
        assert (response.json()["assignment_domain"], response.json()["assignment_domain_json"]) == ("", [])


@pytest.mark.parametrize(
    ("rule", "count"),
    [
        ("[['cuntry', '=', 'VN'], ['score', '>=', 'many']]", 2),
        ([["country", "=", "Wakanda"]], 1),
        ("[[", 1),
        ("__import__('os')", 1),
    ],
)
def test_a_bad_team_rule_is_a_400_listing_every_problem_and_changes_nothing(actors, api_client, rule, count):
    client = api_client(actors.manager)
    url = reverse("api:team-detail", args=[actors.north.pk])
    response = client.patch(url, {"assignment_domain": rule}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["assignment_domain"] and len(body["assignment_domain"]) == count
    actors.north.refresh_from_db()
    assert actors.north.assignment_domain == ""
    response = client.post(TEAMS, {"name": "New", "assignment_domain": rule}, format="json")
    assert response.status_code == 400 and not Team.objects.filter(name="New").exists()


def test_a_bad_team_rule_names_the_term(actors, api_client):
    response = api_client(actors.manager).post(
        TEAMS,
        {"name": "T", "assignment_domain": "[['cuntry', '=', 'VN']]"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.json()["assignment_domain"][0].startswith("Term 1: unknown field “cuntry”")


@pytest.mark.parametrize("rule", [5, {"country": "VN"}, None])
def test_a_team_rule_of_another_type_is_a_400(actors, api_client, rule):
    response = api_client(actors.manager).post(TEAMS, {"name": "T", "assignment_domain": rule}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["assignment_domain"]


def test_a_member_rule_is_checked_and_stored_like_a_team_rule(actors, api_client):
    client = api_client(actors.manager)
    response = client.post(
        MEMBERS,
        {"team": actors.south.pk, "user": actors.sales1.pk, "assignment_domain": [["tag_ids", "=", False]]},
        format="json",
    )
    assert response.status_code == 201, response.json()
    member = TeamMember.objects.get(team=actors.south, user=actors.sales1)
    assert member.assignment_domain == '[["tags", "=", false]]'
    assert response.json()["assignment_domain_json"] == [["tags", "=", False]]
    url = reverse("api:team-member-detail", args=[member.pk])
    response = client.patch(url, {"assignment_domain": "[['user_id', '=', 'nobody-here']]"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["assignment_domain"]
    member.refresh_from_db()
    assert member.assignment_domain == '[["tags", "=", false]]'
    response = client.patch(url, {"assignment_domain": "[('score', '>', 10)]"}, format="json")
    assert response.status_code == 200
    assert response.json()["assignment_domain"] == "[('score', '>', 10)]"


def test_a_stored_rule_that_no_longer_reads_has_null_json(actors, api_client):
    Team.objects.filter(pk=actors.north.pk).update(assignment_domain="[['team', '=', 'Gone']]")
    body = api_client(actors.sales1).get(reverse("api:team-detail", args=[actors.north.pk])).json()
    assert (body["assignment_domain"], body["assignment_domain_json"]) == ("[['team', '=', 'Gone']]", None)


def test_members_list_parses_each_distinct_rule_once(actors, api_client, django_assert_max_num_queries):
    TeamMember.objects.update(assignment_domain="[['team', '=', 'Miền Bắc']]")
    client = api_client(actors.sales1)
    client.get(MEMBERS)  # warm up: token, sessions…
    with django_assert_max_num_queries(5):
        body = client.get(MEMBERS).json()
    assert {tuple(map(tuple, m["assignment_domain_json"])) for m in body["results"]} == {
        (("team", "=", "Miền Bắc"),)
    }
