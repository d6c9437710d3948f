"""A lead created by hand is its creator's unless they leave it to automatic assignment (issue 27)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pheu.core.models import PheuSettings
from pheu.leads.models import Lead
from pheu.teams.models import TeamMember

pytestmark = pytest.mark.django_db

FORM = {"type": "lead", "priority": "0", "customer_type": "new", "probability": "0", "auto_probability": "on"}


@pytest.mark.usefixtures("english")
def test_the_form_offers_leaving_the_record_to_automatic_assignment(client, actors):
    client.force_login(actors.sales1)
    form = client.get(reverse("leads:create")).context["form"]

    assert form["user"].value() == actors.sales1.pk
    assert next(iter(form.fields["user"].choices))[1] == "Leave to automatic assignment"
    page = client.get(reverse("leads:create")).content.decode()
    assert "Leave to automatic assignment" in page


def test_vietnamese_form_says_de_tu_dong_phan_cong(client, actors):
    client.force_login(actors.sales1)
    page = client.get(reverse("leads:create")).content.decode()
    assert "Để tự động phân công" in page


def test_a_lead_created_in_the_form_is_the_creators(client, actors):
    client.force_login(actors.sales1)
    response = client.post(reverse("leads:create"), {**FORM, "name": "Của tôi", "user": actors.sales1.pk})
    assert response.status_code == 302
    assert Lead.objects.get().user == actors.sales1


def test_left_to_automatic_assignment_the_rules_choose_the_salesperson(client, actors):
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": True})
    TeamMember.objects.filter(team=actors.north).exclude(user=actors.sales2).update(capacity=0)
    client.force_login(actors.sales1)

    response = client.post(
        reverse("leads:create"), {**FORM, "name": "Để phân công", "user": "", "team": actors.north.pk}
    )

    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.team, lead.user) == (actors.north, actors.sales2)


def test_api_user_null_leaves_the_lead_to_assignment_and_omitted_gives_it_the_creator(actors, api_client):
    TeamMember.objects.filter(team=actors.north).exclude(user=actors.sales2).update(capacity=0)
    client = api_client(actors.sales1)
    left = client.post(reverse("api:lead-list"), {"name": "Không ai", "user": None}, format="json")
    mine = client.post(reverse("api:lead-list"), {"name": "Của tôi"}, format="json")

    assert (left.status_code, mine.status_code) == (201, 201)
    # Real-time assignment is on by default: the rules give the first its salesperson at once.
    assert (left.json()["user"], mine.json()["user"]) == (actors.sales2.pk, actors.sales1.pk)
    schema = client.get(reverse("api:schema"), {"format": "json"}).json()
    create = schema["paths"]["/api/v1/leads/"]["post"]["description"]
    assert '"user": null' in create and "automatic assignment" in create
