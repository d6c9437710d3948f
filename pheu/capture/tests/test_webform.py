"""The public web-to-lead form over HTTP (Django test client): HTML form posts and the JSON endpoint."""

from __future__ import annotations

import json

import pytest

from pheu.capture.exceptions import CaptureError
from pheu.capture.models import WebForm
from pheu.capture.services import regenerate_form_key, update_web_form
from pheu.capture.testing import make_web_form
from pheu.core.history import history_of
from pheu.core.models import HistoryKind, PheuSettings
from pheu.leads.models import Lead, Source
from pheu.scoring.models import PageView
from pheu.scoring.services import create_scoring_rule
from pheu.teams.models import Team

pytestmark = pytest.mark.django_db

VISITOR = {
    "contact_name": "Trần Thị Bích",
    "email": "bich.tran@hoaphat-example.vn",
    "phone": "0912 345 678",
    "company_name": "Công ty Hòa Phát",
    "description": "Tôi cần tư vấn <b>gấp</b>.\nCảm ơn!",
}


@pytest.fixture
def form(actors) -> WebForm:
    return make_web_form(team=actors.north, key="north-key")


def url(key: str = "north-key") -> str:
    return f"/forms/lead/{key}/"


def test_html_post_creates_a_lead_of_the_team_from_the_website_and_thanks(client, form):
    # Real-time assignment (on by default) is tested below: here the lead waits for a run.
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": False})
    response = client.post(url(), VISITOR)
    assert response.status_code == 303
    assert response["Location"] == "/forms/lead/north-key/thanks/"
    lead = Lead.objects.get()
    assert (lead.name, lead.contact_name, lead.email, lead.phone_e164, lead.company_name) == (
        "Trần Thị Bích",
        "Trần Thị Bích",
        "bich.tran@hoaphat-example.vn",
        "+84912345678",
        "Công ty Hòa Phát",
    )
    assert lead.team == form.team
    assert lead.source == Source.objects.get(name="Website")
    assert lead.user is None and lead.created_by is None
    # The visitor's text is text: the markup shows as typed, lines are kept.
    assert lead.description == "<p>Tôi cần tư vấn &lt;b&gt;gấp&lt;/b&gt;.<br>Cảm ơn!</p>"
    assert [entry.kind for entry in history_of(lead)] == [HistoryKind.CREATED]
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200 and b'id="thanks"' in thanks.content


def test_thank_you_page_of_the_team(client, form):
    form.redirect_url = "https://www.hoaphat-example.vn/cam-on"
    form.save()
    response = client.post(url(), VISITOR)
    assert (response.status_code, response["Location"]) == (303, "https://www.hoaphat-example.vn/cam-on")


def test_json_post_creates_a_lead(client, form):
    body = {**VISITOR, "name": "Báo giá CRM 20 người", "country": "VN", "job_title": "Giám đốc"}
    response = client.post(url(), json.dumps(body), content_type="application/json")
    assert response.status_code == 201
    assert response.json() == {"ok": True, "redirect": "/forms/lead/north-key/thanks/"}
    lead = Lead.objects.get()
    assert (lead.name, lead.country_id, lead.job_title, lead.team_id) == (
        "Báo giá CRM 20 người",
        "VN",
        "Giám đốc",
        form.team_id,
    )


def test_form_encoded_post_asking_for_json_answers_json(client, form):
    response = client.post(url(), {**VISITOR, "country": "Việt Nam"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    assert Lead.objects.get().country_id == "VN"


def test_honeypot_is_thanked_and_nothing_is_stored(client, form):
    response = client.post(url(), {**VISITOR, "fax": "http://spam.example"})
    assert response.status_code == 303
    json_response = client.post(url(), json.dumps({**VISITOR, "fax": "x"}), content_type="application/json")
    assert json_response.status_code == 201
    assert not Lead.objects.exists()
    assert not Source.objects.filter(name="Website").exists()


def test_bad_json_input_is_400_with_field_errors_and_nothing_stored(client, form):
    response = client.post(
        url(),
        json.dumps({"email": "not-an-address", "country": "Atlantis", "zip": "1" * 30}),
        content_type="application/json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert set(errors) == {"country", "zip"}
    response = client.post(url(), json.dumps({"description": "hello"}), content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"contact_name", "email"}
    assert not Lead.objects.exists()


def test_an_invalid_email_or_phone_is_kept_as_typed_and_answered_as_a_warning(client, form):
    existing = Lead.objects.create(name="Earlier", email="not-an-address")  # as an old record may be
    response = client.post(
        url(),
        json.dumps({"contact_name": "An", "email": "not-an-address", "phone": "12"}),
        content_type="application/json",
    )
    assert response.status_code == 201
    assert set(response.json()["warnings"]) == {"email", "phone"}
    lead = Lead.objects.exclude(pk=existing.pk).get()
    assert (lead.email, lead.email_normalized, lead.phone, lead.phone_e164) == (
        "not-an-address",
        "",
        "12",
        "",
    )
    assert lead.team == form.team
    notes = [entry.body for entry in history_of(lead) if entry.kind == HistoryKind.SYSTEM]
    assert len(notes) == 1 and "not-an-address" in notes[0] and "12" in notes[0]
    # The HTML form thanks the visitor all the same.
    assert client.post(url(), {"contact_name": "Bình", "email": "binh@"}).status_code == 303
    assert Lead.objects.filter(email="binh@", email_normalized="").exists()


def test_not_json_is_400(client, form):
    response = client.post(url(), "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid"
    response = client.post(url(), "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    assert not Lead.objects.exists()


def test_bad_html_input_shows_the_form_again_with_the_errors(client, form, english):
    response = client.post(url(), {"contact_name": "An", "phone": "1" * 50, "visitor_id": "v-1"})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'id="pheu-lead-form"' in page
    assert "is-invalid" in page and 'value="An"' in page
    assert 'name="visitor_id" value="v-1"' in page
    assert not Lead.objects.exists()


def test_unknown_or_inactive_key_is_404(client, form):
    assert client.post(url("nope"), VISITOR).status_code == 404
    response = client.post(url("nope"), json.dumps(VISITOR), content_type="application/json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    Team.objects.filter(pk=form.team_id).update(active=False)
    assert client.post(url(), VISITOR).status_code == 404
    assert not Lead.objects.exists()


def test_hosted_form_page(client, form, english):
    response = client.get(url() + "?visitor_id=abc123")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'action="/forms/lead/north-key/"' in page
    assert 'name="visitor_id" value="abc123"' in page and 'name="fax"' in page
    assert "X-Frame-Options" not in response  # may be shown in a frame on the team's site


def test_rate_limit_per_ip(client, form, settings):
    settings.PHEU_WEBFORM_RATE_LIMIT = 3
    for _ in range(3):
        assert client.post(url(), VISITOR, REMOTE_ADDR="203.0.113.7").status_code == 303
    refused = client.post(url(), VISITOR, REMOTE_ADDR="203.0.113.7")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    refused_json = client.post(
        url(), json.dumps(VISITOR), content_type="application/json", REMOTE_ADDR="203.0.113.7"
    )
    assert refused_json.status_code == 429 and refused_json.json()["code"] == "rate_limited"
    # Counted before the key is looked up: guessing keys is limited too.
    assert client.post(url("guess"), VISITOR, REMOTE_ADDR="203.0.113.7").status_code == 429
    assert Lead.objects.count() == 3
    assert client.post(url(), VISITOR, REMOTE_ADDR="198.51.100.1").status_code == 303
    assert Lead.objects.count() == 4


def test_cors_for_the_team_site(client, form):
    form.allowed_origins = "https://www.hoaphat-example.vn"
    form.save()
    preflight = client.options(
        url(),
        HTTP_ORIGIN="https://www.hoaphat-example.vn",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://www.hoaphat-example.vn"
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight["Access-Control-Allow-Headers"]
    posted = client.post(
        url(),
        json.dumps(VISITOR),
        content_type="application/json",
        HTTP_ORIGIN="https://www.hoaphat-example.vn",
    )
    assert posted.status_code == 201
    assert posted["Access-Control-Allow-Origin"] == "https://www.hoaphat-example.vn"
    assert "Origin" in posted["Vary"]

    other = client.options(
        url(), HTTP_ORIGIN="https://evil.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST"
    )
    assert "Access-Control-Allow-Origin" not in other
    refused = client.post(
        url(), json.dumps(VISITOR), content_type="application/json", HTTP_ORIGIN="https://evil.example"
    )
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused
    assert Lead.objects.count() == 1
    # A plain HTML form posts from any site (no CORS there): the embedded snippet works everywhere.
    assert client.post(url(), VISITOR, HTTP_ORIGIN="https://evil.example").status_code == 303
    assert Lead.objects.count() == 2


def test_cors_origins_of_the_setting(client, form, settings):
    settings.PHEU_WEBFORM_ALLOWED_ORIGINS = ["https://pheu-partner.example"]
    response = client.options(url(), HTTP_ORIGIN="https://pheu-partner.example")
    assert response["Access-Control-Allow-Origin"] == "https://pheu-partner.example"


def test_visitor_id_gives_the_lead_the_visitors_page_views_and_their_points(client, actors, form):
    create_scoring_rule(
        actor=actors.manager,
        values={"name": "Pricing", "domain": "[['pageviews.url', 'ilike', '/pricing']]", "points": 15},
    )
    PageView.objects.create(url="https://pheu.example/pricing", visitor_id="vid-42")
    PageView.objects.create(url="https://pheu.example/blog", visitor_id="vid-42")
    stranger = PageView.objects.create(url="https://pheu.example/pricing", visitor_id="vid-7")
    client.post(url(), {**VISITOR, "visitor_id": "vid-42"})
    client.post(url(), {**VISITOR, "email": "khac@example.vn"})
    first, second = Lead.objects.order_by("id")
    assert sorted(first.pageviews.values_list("url", flat=True)) == [
        "https://pheu.example/blog",
        "https://pheu.example/pricing",
    ]
    assert (first.score, second.score) == (15, 0)
    stranger.refresh_from_db()
    assert stranger.lead_id is None


def test_regenerate_form_key(actors, form):
    team = regenerate_form_key(actor=actors.manager, team=actors.north)
    assert len(team.form_key) == 32 and team.form_key != "north-key"
    assert Team.objects.get(pk=team.pk).form_key == team.form_key
    with pytest.raises(CaptureError) as caught:
        regenerate_form_key(actor=actors.sales1, team=actors.north)
    assert caught.value.code == "forbidden"
    assert Team.objects.get(pk=team.pk).form_key == team.form_key


def test_old_key_stops_working(client, actors, form):
    regenerate_form_key(actor=actors.manager, team=actors.north)
    assert client.post(url(), VISITOR).status_code == 404


def test_update_web_form_checks_the_addresses(actors):
    with pytest.raises(CaptureError) as caught:
        update_web_form(
            actor=actors.manager,
            team=actors.south,
            values={"allowed_origins": "www.x.vn", "redirect_url": "x"},
        )
    assert set(caught.value.field_errors) == {"allowed_origins", "redirect_url"}
    assert not WebForm.objects.exists() and Team.objects.get(pk=actors.south.pk).form_key is None
    web_form = update_web_form(
        actor=actors.manager,
        team=actors.south,
        values={"allowed_origins": " https://a.vn/ \n\nhttps://b.vn", "redirect_url": "https://a.vn/thanks"},
    )
    assert web_form.origins() == ["https://a.vn", "https://b.vn"]
    assert Team.objects.get(pk=actors.south.pk).form_key  # a form set up gets its address at once


def test_team_web_form_page_shows_the_snippet_to_managers(client, actors, form, english):
    client.force_login(actors.manager)
    response = client.get(f"/capture/teams/{actors.north.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "http://testserver/forms/lead/north-key/" in page
    assert "pheu_vid" in page and "&lt;form method=&quot;post&quot;" in page
    response = client.post(
        f"/capture/teams/{actors.north.pk}/",
        {"allowed_origins": "https://north.example", "redirect_url": ""},
    )
    assert response.status_code == 302
    assert WebForm.objects.get(team=actors.north).allowed_origins == "https://north.example"
    response = client.post(f"/capture/teams/{actors.north.pk}/key/")
    assert response.status_code == 302
    assert Team.objects.get(pk=actors.north.pk).form_key != "north-key"


def test_salespeople_may_not_manage_web_forms(client, actors, form):
    client.force_login(actors.sales1)
    assert client.get(f"/capture/teams/{actors.north.pk}/").status_code == 403
    assert client.post(f"/capture/teams/{actors.north.pk}/key/").status_code == 403
    assert Team.objects.get(pk=actors.north.pk).form_key == "north-key"


def test_post_queries_are_bounded(client, form, django_assert_max_num_queries):
    # Without real-time assignment (on by default; its cost is the next test's).
    PheuSettings.objects.update_or_create(pk=1, defaults={"realtime_assignment": False})
    values = {**VISITOR, "country": "Việt Nam", "visitor_id": "vid-1"}
    client.post(url(), values)  # the source exists from now on; the countries are read once per process
    # The rate limit's count (one upsert; on Redis when there is one), the team of the key with its form,
    # the source and the settings (one statement), the lead, its history, the page views of its e-mail and
    # visitor (one statement), and create_lead's savepoint and its release. The scoring rules are read
    # again only when they change.
    with django_assert_max_num_queries(7):
        assert client.post(url(), values).status_code == 303


def test_a_post_assigned_in_real_time_costs_at_most_11_queries(
    client, actors, form, django_assert_max_num_queries
):
    """With real-time assignment on, the post also locks the team's members, gives the lead to the member
    with the most room (their load read from the day counts, not from their leads) and records why."""
    from pheu.core.models import PheuSettings

    settings = PheuSettings.load()
    settings.realtime_assignment = True
    settings.save()
    client.post(url(), {**VISITOR, "email": "first@example.vn"})
    with django_assert_max_num_queries(11):
        assert client.post(url(), VISITOR).status_code == 303
    assert Lead.objects.filter(user__isnull=False, team=actors.north).count() == 2


def test_no_key_names_no_form_even_when_a_team_has_none(actors, form):
    from pheu.capture.services import team_for_form_key

    assert Team.objects.filter(form_key__isnull=True, active=True).exists()
    for key in ("", None):
        with pytest.raises(CaptureError) as caught:
            team_for_form_key(key)
        assert caught.value.code == "not_found"


def test_a_post_follows_the_installation_settings_read_with_the_team(client, form):
    from pheu.core.models import PheuSettings
    from pheu.leads.choices import LeadType

    settings = PheuSettings.load()
    settings.use_leads = False  # the installation works with opportunities only
    settings.save()
    client.post(url(), VISITOR)
    assert Lead.objects.get().type == LeadType.OPPORTUNITY


def test_a_team_whose_form_was_never_configured_takes_posts_with_one_website_source(client, actors):
    Team.objects.filter(pk=actors.south.pk).update(form_key="south-key")  # a key, no form settings yet
    for email in ("a@example.vn", "b@example.vn"):
        assert client.post(url("south-key"), {**VISITOR, "email": email}).status_code == 303
    assert list(Lead.objects.values_list("team", flat=True)) == [actors.south.pk] * 2
    assert Source.objects.filter(name="Website").count() == 1
    assert set(Lead.objects.values_list("source__name", flat=True)) == {"Website"}
