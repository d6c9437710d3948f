"""Saved lead filters: private to their owner, created from the list's query string, deleted by the owner."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from pheu.leads.exceptions import SavedFilterError
from pheu.leads.models import SavedFilter
from pheu.leads.services.saved_filters import create_saved_filter, delete_saved_filter
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db
SEED = "[['country_id', 'in', ['United States', 'Canada']]]"
CREATE = reverse("leads:saved_filter_create")


def _saved_names(response) -> list[str]:
    html = response.content.decode()
    return re.findall(r'<a class="dropdown-item text-truncate" href="[^"]*">([^<]+)</a>', html)


# --- services ----------------------------------------------------------------------------------------
def test_create_stores_the_query_string_without_page_and_empty_parameters(actors):
    saved = create_saved_filter(
        actor=actors.sales1, name="  Bắc   Mỹ ", query_string=f"?search=&team=3&page=2&domain={SEED}"
    )
    assert saved.name == "Bắc Mỹ"
    assert saved.user == actors.sales1
    assert saved.query_string == (
        "team=3&domain=%5B%5B%27country_id%27%2C+%27in%27%2C+%5B%27United+States%27%2C+%27Canada%27%5D%5D%5D"
    )


def test_saving_under_the_same_name_replaces_the_query_string(actors):
    first = create_saved_filter(actor=actors.sales1, name="Mine", query_string="mine=true")
    again = create_saved_filter(actor=actors.sales1, name="Mine", query_string="type=lead")
    assert again.pk == first.pk
    assert list(SavedFilter.objects.values_list("name", "query_string")) == [("Mine", "type=lead")]


def test_create_refuses_a_filter_without_a_name(actors):
    with pytest.raises(SavedFilterError) as caught:
        create_saved_filter(actor=actors.sales1, name="   ", query_string="mine=true")
    assert list(caught.value.field_errors) == ["name"]
    assert not SavedFilter.objects.exists()


def test_only_the_owner_may_delete(actors):
    saved = create_saved_filter(actor=actors.sales1, name="Mine", query_string="mine=true")
    with pytest.raises(SavedFilterError) as caught:
        delete_saved_filter(actor=actors.manager, saved_filter=saved)
    assert caught.value.code == SavedFilterError.Code.FORBIDDEN
    assert SavedFilter.objects.filter(pk=saved.pk).exists()
    delete_saved_filter(actor=actors.sales1, saved_filter=saved)
    assert not SavedFilter.objects.exists()


# --- pages -------------------------------------------------------------------------------------------
def test_save_this_filter_from_the_list_and_open_it_again(client, actors):
    make_lead("US lead", user=actors.sales1, team=actors.north, country="US")
    make_lead("VN lead", user=actors.sales1, team=actors.north, country="VN")
    client.force_login(actors.sales1)
    response = client.post(CREATE, {"name": "Bắc Mỹ", "query_string": f"domain={SEED}&page=3"})
    saved = SavedFilter.objects.get()
    assert (saved.user, saved.name) == (actors.sales1, "Bắc Mỹ")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('leads:list')}?{saved.query_string}"
    page = client.get(response["Location"])
    assert _saved_names(page) == ["Bắc Mỹ"]
    html = page.content.decode()
    assert re.findall(r'class="fw-semibold">([^<]+)</a>', html) == ["US lead"]
    # The save form carries the list's current filter with it.
    assert f'name="query_string" value="{saved.query_string}" form="save-filter-form"' in html


def test_save_without_a_name_saves_nothing_and_says_why(client, english):
    client.force_login(english.sales1)
    response = client.post(CREATE, {"name": "", "query_string": "mine=true"}, follow=True)
    assert not SavedFilter.objects.exists()
    assert response.redirect_chain[-1][0] == f"{reverse('leads:list')}?mine=true"
    assert "This field is required." in response.content.decode()


def test_a_user_sees_only_their_own_saved_filters(client, actors):
    create_saved_filter(actor=actors.sales1, name="Of sales1", query_string="mine=true")
    create_saved_filter(actor=actors.sales2, name="Of sales2", query_string="type=lead")
    client.force_login(actors.sales2)
    assert _saved_names(client.get(reverse("leads:list"))) == ["Of sales2"]


def test_the_owner_deletes_their_saved_filter(client, actors):
    saved = create_saved_filter(actor=actors.sales1, name="Mine", query_string="mine=true")
    client.force_login(actors.sales1)
    response = client.post(reverse("leads:saved_filter_delete", args=[saved.pk]))
    assert response.status_code == 302
    assert not SavedFilter.objects.exists()


@pytest.mark.parametrize("actor", ["sales2", "manager", "admin"])
def test_another_user_cannot_delete_a_saved_filter(client, actors, actor):
    saved = create_saved_filter(actor=actors.sales1, name="Mine", query_string="mine=true")
    client.force_login(actors.by_name(actor))
    response = client.post(reverse("leads:saved_filter_delete", args=[saved.pk]))
    assert response.status_code == 404
    assert SavedFilter.objects.filter(pk=saved.pk, name="Mine", query_string="mine=true").exists()


def test_saved_filter_writes_need_a_post(client, actors):
    saved = create_saved_filter(actor=actors.sales1, name="Mine", query_string="mine=true")
    client.force_login(actors.sales1)
    assert client.get(reverse("leads:saved_filter_delete", args=[saved.pk])).status_code == 405
    assert client.get(CREATE).status_code == 405
    assert SavedFilter.objects.count() == 1
