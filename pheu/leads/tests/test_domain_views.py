"""The domain field: its live preview, the lead list's advanced filter, and the team admin's rules."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from pheu.core.forms import DomainField, DomainWidget
from pheu.teams.models import Team, TeamMember
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
PREVIEW = reverse("leads:domain_preview")
SEED = "[['country_id', 'in', ['United States', 'Canada']]]"


def _names(response) -> set[str]:
    html = response.content.decode()
    return set(re.findall(r'<a href="/leads/\d+/" class="fw-semibold">([^<]+)</a>', html))


def _sample(response) -> set[str]:
    html = response.content.decode()
    return set(re.findall(r'<a href="/leads/\d+/" target="_blank" rel="noopener">([^<]+)</a>', html))


@pytest.fixture
def scene(actors):
    make_lead("US of sales1", user=actors.sales1, team=actors.north, country="US")
    make_lead("CA north unassigned", team=actors.north, country="CA")
    make_lead("VN of sales1", user=actors.sales1, team=actors.north, country="VN")
    make_lead("US of sales2", user=actors.sales2, team=actors.north, country="US")
    make_lead("CA of sales3", user=actors.sales3, team=actors.south, country="CA")
    return actors


# --- the field ---------------------------------------------------------------------------------------
def test_field_keeps_the_rule_as_typed_and_refuses_one_with_problems(actors):
    field = DomainField(required=False)
    assert field.clean(f"  {SEED} ") == SEED
    assert field.clean("") == ""
    with pytest.raises(ValidationError) as caught:
        field.clean("[['nope', '=', 1], ['country_id', 'in', 3]]")
    with translation.override("en"):
        messages = caught.value.messages
    assert messages == [
        "Term 1: unknown field “nope”.",
        "Term 2 (country_id): “in” needs a list of values, such as [3].",
    ]


def test_widget_posts_to_the_preview_as_the_user_types():
    widget = DomainField(required=False).widget
    assert isinstance(widget, DomainWidget)
    html = widget.render("domain", SEED, {"id": "id_domain"})
    assert f'hx-post="{PREVIEW}"' in html
    assert 'hx-trigger="input changed delay:400ms, load"' in html  # a stored rule is previewed at once
    assert 'hx-target="next .domain-preview"' in html
    assert "font-monospace" in html
    assert 'id="id_domain-preview"' in html


# --- the preview -------------------------------------------------------------------------------------
@pytest.mark.usefixtures("english")
def test_preview_lists_every_problem_of_a_bad_rule(client, scene):
    client.force_login(scene.manager)
    response = client.post(PREVIEW, {"domain": "[['nope', '=', 1], ['country_id', 'like', 3]]"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-position="1" data-path="nope"' in html
    assert "Term 1: unknown field “nope”." in html
    assert 'data-position="2" data-path="country_id"' in html
    assert "matching" not in html


@pytest.mark.usefixtures("english")
def test_preview_of_a_syntax_error_is_a_message_not_a_server_error(client, scene):
    client.force_login(scene.manager)
    response = client.post(PREVIEW, {"domain": "[['country_id', 'in', ['United States'"}, **HTMX)
    assert response.status_code == 200
    assert "The rule could not be read" in response.content.decode()


@pytest.mark.usefixtures("english")
def test_preview_explains_counts_and_samples_what_the_manager_sees(client, scene):
    client.force_login(scene.manager)
    response = client.post(PREVIEW, {"domain": SEED}, **HTMX)
    html = response.content.decode()
    assert "Country is in United States, Canada" in html
    assert "4 matching records that you can see" in html
    assert _sample(response) == {"US of sales1", "CA north unassigned", "US of sales2", "CA of sales3"}


@pytest.mark.usefixtures("english")
def test_preview_counts_only_the_leads_the_salesperson_may_see(client, scene):
    client.force_login(scene.sales1)
    response = client.post(PREVIEW, {"domain": SEED}, **HTMX)
    assert "2 matching records that you can see" in response.content.decode()
    assert _sample(response) == {"US of sales1", "CA north unassigned"}


def test_preview_explains_in_vietnamese_by_default(client, scene):
    client.force_login(scene.manager)
    response = client.post(PREVIEW, {"domain": SEED}, **HTMX)
    assert "Quốc gia thuộc Hoa Kỳ, Canada" in response.content.decode()


def test_preview_samples_at_most_five(client, actors):
    for number in range(7):
        make_lead(f"US {number}", country="US")
    client.force_login(actors.manager)
    response = client.post(PREVIEW, {"domain": SEED}, **HTMX)
    assert len(_sample(response)) == 5


@pytest.mark.usefixtures("english")
def test_preview_reads_the_field_htmx_names_so_prefixed_fields_work(client, scene):
    client.force_login(scene.manager)
    response = client.post(
        PREVIEW,
        {"members-0-assignment_domain": "[['country_id', '=', 'Vietnam']]", "domain": SEED},
        HTTP_HX_TRIGGER_NAME="members-0-assignment_domain",
        **HTMX,
    )
    assert "1 matching record that you can see" in response.content.decode()
    assert _sample(response) == {"VN of sales1"}


def test_preview_needs_a_signed_in_user_and_a_post(client, scene):
    assert client.post(PREVIEW, {"domain": SEED}).status_code == 302
    client.force_login(scene.manager)
    assert client.get(PREVIEW, {"domain": SEED}).status_code == 405


# --- the list's advanced filter ----------------------------------------------------------------------
def test_list_filters_by_the_seed_rule_within_what_the_user_sees(client, scene):
    client.force_login(scene.manager)
    response = client.get(reverse("leads:list"), {"domain": SEED})
    assert response.status_code == 200
    assert _names(response) == {"US of sales1", "CA north unassigned", "US of sales2", "CA of sales3"}
    client.force_login(scene.sales1)
    assert _names(client.get(reverse("leads:list"), {"domain": SEED})) == {
        "US of sales1",
        "CA north unassigned",
    }


def test_list_combines_the_rule_with_the_other_filters(client, scene):
    client.force_login(scene.manager)
    response = client.get(reverse("leads:list"), {"domain": SEED, "team": scene.south.pk})
    assert _names(response) == {"CA of sales3"}


def test_list_shows_the_advanced_filter_open_with_the_rule(client, scene):
    client.force_login(scene.manager)
    html = client.get(reverse("leads:list"), {"domain": SEED}).content.decode()
    assert 'class="col-12 collapse show" id="advanced-filter"' in html
    assert f'hx-post="{PREVIEW}"' in html
    assert "[[&#x27;country_id&#x27;, &#x27;in&#x27;" in html  # the rule as typed, in the textarea
    closed = client.get(reverse("leads:list")).content.decode()
    assert 'class="col-12 collapse" id="advanced-filter"' in closed


@pytest.mark.usefixtures("english")
def test_list_with_a_bad_rule_shows_the_problem_and_no_records(client, scene):
    client.force_login(scene.manager)
    response = client.get(reverse("leads:list"), {"domain": "[['nope', '=', 1]]"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Term 1: unknown field “nope”." in html
    assert "This rule cannot be used: the list shows no records until it is corrected." in html
    assert _names(response) == set()
    assert 'id="no-results"' in html


@pytest.mark.usefixtures("english")
def test_list_with_unreadable_rule_answers_the_table_and_the_errors_out_of_band(client, scene):
    client.force_login(scene.manager)
    response = client.get(
        reverse("leads:list"), {"domain": "[['country_id'"}, HTTP_HX_TARGET="lead-table", **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" not in html  # the table alone
    assert '<div id="domain-errors" class="domain-errors" hx-swap-oob="true">' in html
    assert "This rule cannot be used: the list shows no records until it is corrected." in html
    assert "The rule could not be read" not in html  # listed by the live preview already
    assert _names(response) == set()


# --- the team admin ----------------------------------------------------------------------------------
def _team_form(name: str, rule: str, member_rule: str = "", member=None) -> dict[str, object]:
    data: dict[str, object] = {
        "name": name,
        "sequence": 10,
        "active": "on",
        "use_leads": "unknown",
        "assignment_domain": rule,
        "min_score": 0,
        "email_alias": "",
        "members-TOTAL_FORMS": 0,
        "members-INITIAL_FORMS": 0,
        "members-MIN_NUM_FORMS": 0,
        "members-MAX_NUM_FORMS": 1000,
    }
    if member is not None:
        data.update(
            {
                "members-TOTAL_FORMS": 1,
                "members-0-user": member.pk,
                "members-0-capacity": 30,
                "members-0-weight": "1",
                "members-0-active": "on",
                "members-0-assignment_domain": member_rule,
            }
        )
    return data


@pytest.mark.usefixtures("english")
def test_admin_team_form_refuses_a_bad_rule_with_its_messages(client, actors):
    client.force_login(actors.manager)
    response = client.post(reverse("admin:teams_team_add"), _team_form("Mỹ", "[['nope', 'in', ['x']]]"))
    assert response.status_code == 200
    assert "Term 1: unknown field “nope”." in response.content.decode()
    assert not Team.objects.filter(name="Mỹ").exists()


@pytest.mark.usefixtures("english")
def test_admin_member_rule_is_checked_too(client, actors):
    client.force_login(actors.manager)
    data = _team_form("Mỹ", SEED, member_rule="[['country_id', 'in', 3]]", member=actors.sales3)
    response = client.post(reverse("admin:teams_team_add"), data)
    assert response.status_code == 200
    assert "“in” needs a list of values" in response.content.decode()
    assert not Team.objects.filter(name="Mỹ").exists()


def test_admin_team_form_stores_a_good_rule_as_typed(client, actors):
    client.force_login(actors.manager)
    data = _team_form("Mỹ", f" {SEED}\n", member_rule="[['country_id', '=', 'Canada']]", member=actors.sales3)
    response = client.post(reverse("admin:teams_team_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    team = Team.objects.get(name="Mỹ")
    assert team.assignment_domain == SEED
    assert TeamMember.objects.get(team=team).assignment_domain == "[['country_id', '=', 'Canada']]"


def test_admin_team_page_loads_htmx_and_the_live_preview(client, actors):
    actors.north.assignment_domain = SEED
    actors.north.save()
    client.force_login(actors.manager)
    html = client.get(reverse("admin:teams_team_change", args=[actors.north.pk])).content.decode()
    assert "vendor/htmx/htmx.min.js" in html
    assert f'hx-post="{PREVIEW}"' in html
    assert 'name="members-0-assignment_domain"' in html


def test_a_refused_rule_is_marked_invalid_and_not_previewed_twice(client, scene):
    client.force_login(scene.manager)
    html = client.get(reverse("leads:list"), {"domain": "[['nope', '=', 1]]"}).content.decode()
    assert "domain-input is-invalid" in html
    assert 'hx-trigger="input changed delay:400ms"' in html  # no "load": the problems are listed already


@pytest.mark.usefixtures("english")
def test_list_choice_filters_offer_one_empty_choice_called_all(client, actors):
    client.force_login(actors.manager)
    html = client.get(reverse("leads:list")).content.decode()
    select = re.search(r'<select name="type".*?</select>', html, re.S)
    assert select is not None
    assert re.findall(r'<option value=""[^>]*>([^<]*)</option>', select.group(0)) == ["All"]
