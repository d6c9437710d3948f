"""The admin site follows the roles: managers edit configuration, administrators also settings and users."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pheu.testing import make_lead, make_partner, make_stage

pytestmark = pytest.mark.django_db

CONFIGURATION = [
    "teams_team",
    "leads_stage",
    "leads_lostreason",
    "contacts_tag",
    "leads_campaign",
    "leads_source",
    "leads_medium",
    "contacts_country",
]


def test_anonymous_visitors_log_in_through_pheus_login_page(client):
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_salesperson_has_no_configuration(client, actors):
    client.force_login(actors.sales1)
    assert client.get(reverse("admin:teams_team_changelist")).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 302


@pytest.mark.parametrize("model", CONFIGURATION)
def test_manager_opens_every_configuration_list(client, actors, model):
    make_stage("New")
    client.force_login(actors.manager)
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 200


def test_manager_edits_a_team_with_its_members_but_not_users_or_settings(client, actors):
    client.force_login(actors.manager)
    page = client.get(reverse("admin:teams_team_change", args=[actors.north.pk])).content.decode()
    assert "Nguyễn An" in page  # the members inline
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert client.get(reverse("admin:core_pheusettings_changelist")).status_code == 403


def test_administrator_sees_users_with_role_and_language(client, actors):
    client.force_login(actors.admin)
    page = client.get(
        reverse("admin:accounts_user_changelist"), {"role__exact": "salesperson"}
    ).content.decode()
    assert ">sales1</a>" in page and ">manager</a>" not in page
    assert client.get(reverse("admin:core_pheusettings_changelist")).status_code == 200


def test_leads_and_customers_are_read_only_and_searched_without_accents(client, actors):
    make_lead("Nguyễn Thị Hương", user=actors.sales1)
    make_partner("Công ty Đại Việt")
    client.force_login(actors.manager)
    page = client.get(reverse("admin:leads_lead_changelist"), {"q": "nguyen huong"}).content.decode()
    assert "Nguyễn Thị Hương" in page
    assert client.get(reverse("admin:leads_lead_add")).status_code == 403
    page = client.get(reverse("admin:contacts_partner_changelist"), {"q": "dai viet"}).content.decode()
    assert "Công ty Đại Việt" in page
