"""The installation's settings in the app (page and ``/api/v1/settings/``) for managers and administrators,
and the teams' overrides of them (issue 27)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pheu.core.exceptions import PheuError
from pheu.core.models import PheuSettings
from pheu.core.services import update_settings
from pheu.leads.services import create_lead
from pheu.scoring.models import ModelState
from pheu.testing import make_member, make_team, make_user

pytestmark = pytest.mark.django_db

API = reverse("api:settings")
PAGE = reverse("core:settings")


def _settings() -> PheuSettings:
    return PheuSettings.load()


# --- the page ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "status"), [("manager", 200), ("admin", 200), ("leader", 403), ("sales1", 403)]
)
def test_the_settings_page_is_for_managers_and_administrators(client, actors, who, status):
    client.force_login(getattr(actors, who))
    assert client.get(PAGE).status_code == status
    assert client.post(PAGE, {"use_leads": ""}).status_code in (status, 302)
    assert _settings().use_leads is True  # a refused post changed nothing (and the others' posts: below)


def test_the_menu_links_the_settings_page_for_a_manager_only(client, actors):
    client.force_login(actors.manager)
    assert PAGE in client.get(reverse("leads:list")).content.decode()
    client.force_login(actors.sales1)
    assert PAGE not in client.get(reverse("leads:list")).content.decode()


def test_a_manager_changes_the_settings_on_the_page(client, actors):
    version = ModelState.load().version
    client.force_login(actors.manager)
    page = client.get(PAGE).content.decode()
    assert "Dùng khách hàng tiềm năng" in page or 'name="use_leads"' in page

    response = client.post(
        PAGE,
        {
            "realtime_assignment": "on",
            "merge_duplicates_on_assignment": "on",
            "currency": "VND",
            "phone_region": "VN",
            "predictive_fields": ["stage", "country"],
            "duplicate_show_threshold": "70",
            "duplicate_merge_threshold": "95",
        },
    )

    assert response.status_code == 302
    current = _settings()
    assert (current.use_leads, current.realtime_assignment, current.merge_duplicates_on_assignment) == (
        False,
        True,
        True,
    )
    assert (current.confirm_marks_won, current.predictive_fields) == (False, ["stage", "country"])
    assert (current.duplicate_show_threshold, current.duplicate_merge_threshold) == (70, 95)
    assert ModelState.load().version == version + 1  # open records are predicted again


def test_the_page_shows_a_refused_threshold_next_to_its_field(client, actors):
    client.force_login(actors.manager)
    response = client.post(
        PAGE,
        {
            "use_leads": "on",
            "currency": "VND",
            "phone_region": "VN",
            "duplicate_show_threshold": "80",
            "duplicate_merge_threshold": "50",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["duplicate_merge_threshold"]
    assert _settings().duplicate_merge_threshold == 90


# --- the service and the API --------------------------------------------------------------------------
def test_update_settings_refuses_salespeople_and_fields_it_does_not_change(actors):
    with pytest.raises(PheuError) as refused:
        update_settings(actor=actors.sales1, values={"use_leads": False})
    assert refused.value.code == PheuError.Code.FORBIDDEN
    with pytest.raises(PheuError) as unknown:
        update_settings(actor=actors.manager, values={"scoring_rules_stamp": None})
    assert "scoring_rules_stamp" in unknown.value.field_errors
    assert _settings().use_leads is True


def test_api_reads_the_settings_for_everyone_and_changes_them_for_managers(actors, api_client):
    read = api_client(actors.sales1).get(API)
    assert read.status_code == 200
    body = read.json()
    assert body["use_leads"] is True and body["phone_region"] == "VN"
    assert body["predictive_fields"][0] == "stage"

    refused = api_client(actors.sales1).patch(API, {"use_leads": False}, format="json")
    assert refused.status_code == 403
    assert _settings().use_leads is True

    changed = api_client(actors.manager).patch(
        API, {"realtime_assignment": False, "predictive_fields": ["tags", "stage"]}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["predictive_fields"] == ["stage", "tags"]
    assert (_settings().realtime_assignment, _settings().use_leads) == (False, True)


def test_api_answers_400_with_field_errors(actors, api_client):
    client = api_client(actors.admin)
    bad = client.patch(
        API, {"predictive_fields": ["shoe_size"], "duplicate_show_threshold": 0}, format="json"
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"predictive_fields", "duplicate_show_threshold"}
    below = client.patch(API, {"duplicate_merge_threshold": 10}, format="json")
    assert below.status_code == 400 and "duplicate_merge_threshold" in below.json()
    assert _settings().duplicate_merge_threshold == 90


# --- teams' overrides ---------------------------------------------------------------------------------
def test_the_team_page_offers_follow_the_general_setting_yes_no(client, actors):
    client.force_login(actors.manager)
    url = reverse("assignment:team", args=[actors.north.pk])
    page = client.get(url).content.decode()
    assert "Theo cài đặt chung" in page and ">Có<" in page and ">Không<" in page

    saved = client.post(
        url, {"min_score": "0", "use_leads": "false", "merge_duplicates_on_assignment": "true"}
    )
    assert saved.status_code == 302
    actors.north.refresh_from_db()
    assert (actors.north.use_leads, actors.north.merge_duplicates_on_assignment) == (False, True)
    client.post(url, {"min_score": "0", "use_leads": "unknown", "merge_duplicates_on_assignment": "unknown"})
    actors.north.refresh_from_db()
    assert (actors.north.use_leads, actors.north.merge_duplicates_on_assignment) == (None, None)


@pytest.mark.parametrize(
    ("general", "team", "merged"), [(True, None, True), (True, False, False), (False, True, True)]
)
def test_a_team_follows_or_overrides_the_installations_merge_on_assignment(db, general, team, merged):
    sales = make_team("Sales", merge_duplicates_on_assignment=team)
    make_member(team=sales, user=make_user("seller"))
    PheuSettings.objects.update_or_create(
        pk=1, defaults={"realtime_assignment": True, "merge_duplicates_on_assignment": general}
    )
    first = create_lead(actor=None, values={"name": "Anh Minh", "email": "minh@example.vn"})
    second = create_lead(actor=None, values={"name": "Minh again", "email": "minh@example.vn"})

    second.refresh_from_db()
    assert (second.merged_into == first) is merged
