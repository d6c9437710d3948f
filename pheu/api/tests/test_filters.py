"""Every API list refuses a query parameter it does not read (a misspelt filter); pages ignore it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pheu.api.urls import router
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _list_urls() -> list[str]:
    return sorted(
        f"/api/v1/{prefix}/" for prefix, viewset, _basename in router.registry if hasattr(viewset, "list")
    )


@pytest.mark.parametrize("url", _list_urls())
def test_every_list_answers_400_naming_a_misspelt_filter(api_client, actors, url):
    response = api_client(actors.admin).get(url, {"tema": "3"}, **EN)
    assert response.status_code == 400, (url, response.status_code)
    assert list(response.json()) == ["tema"]
    assert "“tema”" in response.json()["tema"][0]


@pytest.mark.parametrize("url", _list_urls())
def test_every_list_still_takes_pagination_and_format(api_client, actors, url):
    response = api_client(actors.admin).get(url, {"page": "1", "page_size": "5", "format": "json"})
    assert response.status_code == 200, (url, response.json())


def test_the_lead_list_names_the_unknown_filter_and_what_it_takes(api_client, actors):
    lead = make_lead(team=actors.north)
    client = api_client(actors.manager)
    response = client.get("/api/v1/leads/", {"tema": actors.north.pk, "team": actors.north.pk}, **EN)
    assert response.status_code == 400
    assert response.json() == {"tema": [response.json()["tema"][0]]}
    message = response.json()["tema"][0]
    assert message.startswith("This list has no parameter “tema”. It takes: ")
    assert all(name in message for name in ("team", "ordering", "page", "page_size", "domain"))
    listed = client.get(
        "/api/v1/leads/", {"team": actors.north.pk, "ordering": "-created_at", "domain": "", "page": 1}
    )
    assert listed.status_code == 200 and [row["id"] for row in listed.json()["results"]] == [lead.pk]


def test_ordering_and_range_parameters_of_other_backends_are_known(api_client, actors):
    client = api_client(actors.admin)
    assert client.get("/api/v1/users/", {"ordering": "username"}).status_code == 200
    assert client.get("/api/v1/users/", {"orderin": "username"}).status_code == 400


def test_one_record_is_not_checked(api_client, actors):
    lead = make_lead(team=actors.north)
    response = api_client(actors.manager).get(f"/api/v1/leads/{lead.pk}/", {"tema": "3"})
    assert response.status_code == 200


def test_the_lead_page_ignores_an_unknown_parameter(client, actors):
    make_lead(name="Công ty An Phát", team=actors.north)
    client.force_login(actors.manager)
    response = client.get(reverse("leads:list"), {"tema": "3"})
    assert response.status_code == 200 and "Công ty An Phát" in response.content.decode()
