"""SPEC section 11 as a matrix: role × whose record × interface → may the user see it, change it?

- salesperson: own records and the unassigned records of their teams;
- team leader: also every record of the teams they lead;
- sales manager, administrator: everything.

Every interface asks the one scoping function (``Lead.objects.visible_to``); this test holds them to it.
A refused path must leave the record exactly as it was.
"""

from __future__ import annotations

import pytest
from django.urls import NoReverseMatch, reverse

from pheu.conftest import Actors
from pheu.core.history import history_of
from pheu.leads.models import Lead
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db

ROLES = ["sales1", "leader", "manager", "admin"]  # salesperson, team leader, sales manager, administrator
OWNERS = ["own", "teammate", "unassigned_own_team", "other_team", "unassigned_no_team"]
VISIBLE = {
    "sales1": {"own", "unassigned_own_team"},
    "leader": {"own", "teammate", "unassigned_own_team"},
    "manager": set(OWNERS),
    "admin": set(OWNERS),
}


def _lead_page_exists() -> bool:
    try:
        reverse("leads:detail", args=[1])
    except NoReverseMatch:
        return False
    return True


needs_lead_page = pytest.mark.skipif(
    not _lead_page_exists(), reason="the lead page (leads:detail) is not there yet"
)


def scene(actors: Actors, role: str, owner: str) -> Lead:
    """A record of ``owner`` relative to ``role``.

    "Own team" is north: sales1's team, the one ``leader`` leads; managers are in no team.
    """
    me = actors.by_name(role)
    in_north = role in ("sales1", "leader")
    user, team = {
        "own": (me, actors.north if in_north else None),
        "teammate": (actors.sales2 if role == "sales1" else actors.sales1, actors.north),
        "unassigned_own_team": (None, actors.north),
        "other_team": (actors.sales3, actors.south),
        "unassigned_no_team": (None, None),
    }[owner]
    return make_lead(f"{owner} of {role}", user=user, team=team, city="Hà Nội")


def assert_unchanged(lead: Lead) -> None:
    fresh = Lead.objects.get(pk=lead.pk)
    assert (fresh.name, fresh.city, fresh.user_id, fresh.team_id, fresh.updated_at) == (
        lead.name,
        lead.city,
        lead.user_id,
        lead.team_id,
        lead.updated_at,
    )
    assert not history_of(lead).exists()


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("role", ROLES)
def test_api_list(actors, api_client, role, owner):
    lead = scene(actors, role, owner)
    response = api_client(actors.by_name(role)).get(reverse("api:lead-list"), {"page_size": 500})
    assert response.status_code == 200
    listed = lead.pk in {row["id"] for row in response.json()["results"]}
    assert listed is (owner in VISIBLE[role])


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("role", ROLES)
def test_api_retrieve(actors, api_client, role, owner):
    lead = scene(actors, role, owner)
    response = api_client(actors.by_name(role)).get(reverse("api:lead-detail", args=[lead.pk]))
    if owner in VISIBLE[role]:
        assert response.status_code == 200
        assert response.json()["name"] == lead.name
    else:
        assert response.status_code == 404
        assert lead.name not in response.content.decode()


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("role", ROLES)
def test_api_update(actors, api_client, role, owner):
    lead = scene(actors, role, owner)
    client = api_client(actors.by_name(role))
    url = reverse("api:lead-detail", args=[lead.pk])
    response = client.patch(url, {"city": "Huế"}, format="json")
    if owner in VISIBLE[role]:
        assert response.status_code == 200
        assert Lead.objects.get(pk=lead.pk).city == "Huế"
    else:
        assert response.status_code == 404
        assert client.put(url, {"name": "taken"}, format="json").status_code == 404
        assert_unchanged(lead)


@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("role", ROLES)
def test_api_history_and_notes(actors, api_client, role, owner):
    lead = scene(actors, role, owner)
    client = api_client(actors.by_name(role))
    history = client.get(reverse("api:lead-history", args=[lead.pk]))
    note = client.post(reverse("api:lead-notes", args=[lead.pk]), {"body": "hello"}, format="json")
    if owner in VISIBLE[role]:
        assert (history.status_code, note.status_code) == (200, 201)
    else:
        assert (history.status_code, note.status_code) == (404, 404)
        assert_unchanged(lead)


@needs_lead_page
@pytest.mark.parametrize("owner", OWNERS)
@pytest.mark.parametrize("role", ROLES)
def test_page_lead_detail(actors, client, role, owner):
    lead = scene(actors, role, owner)
    client.force_login(actors.by_name(role))
    response = client.get(reverse("leads:detail", args=[lead.pk]))
    assert response.status_code == (200 if owner in VISIBLE[role] else 404)
    if owner not in VISIBLE[role]:
        assert_unchanged(lead)
