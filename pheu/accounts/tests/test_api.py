"""The user API (``/api/v1/users/``): read-only, for pickers and integrations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pheu.accounts.models import User
from pheu.testing import make_user

pytestmark = pytest.mark.django_db

LIST = reverse("api:user-list")


def names(response) -> list[str]:
    return [row["username"] for row in response.json()["results"]]


def test_users_are_listed_with_their_public_fields(actors, api_client):
    response = api_client(actors.sales1).get(reverse("api:user-detail", args=[actors.leader.pk]))
    assert response.json() == {
        "id": actors.leader.pk,
        "username": "leader",
        "first_name": "Lan",
        "last_name": "Phạm",
        "name": "Phạm Lan",  # family name first in Vietnamese
        "email": "leader@example.com",
        "role": "team_leader",
        "language": "vi",
        "active": True,
    }


def test_users_filter_by_role_team_activity_and_text(actors, api_client):
    make_user("gone", is_active=False)
    client = api_client(actors.sales1)
    salespeople = client.get(LIST, {"role": "salesperson", "active": "true"})
    assert names(salespeople) == ["sales1", "sales2", "sales3"]
    assert names(client.get(LIST, {"team": actors.north.pk})) == ["leader", "sales1", "sales2"]
    assert names(client.get(LIST, {"active": "false"})) == ["gone"]
    assert names(client.get(LIST, {"search": "Bình"})) == ["sales2"]
    assert names(client.get(LIST, {"ordering": "-username", "page_size": 2})) == ["sales3", "sales2"]
    for bad in ({"role": "boss"}, {"team": "north"}, {"team": str(10**30)}):
        assert client.get(LIST, bad).status_code == 400
    # an ordering outside the allowed columns is ignored (DRF's OrderingFilter), never applied
    assert names(client.get(LIST, {"ordering": "password", "page_size": 1})) == ["admin"]


def test_users_cannot_be_changed_through_the_api(actors, api_client):
    client = api_client(actors.admin)
    url = reverse("api:user-detail", args=[actors.sales1.pk])
    assert client.post(LIST, {"username": "new"}, format="json").status_code == 405
    assert client.patch(url, {"role": "administrator"}, format="json").status_code == 405
    assert client.delete(url).status_code == 405
    assert User.objects.get(pk=actors.sales1.pk).role == "salesperson"
    assert "password" not in client.get(url).json()
