"""The public tracking snippet and endpoint: CORS, 204, bad input 400 (never a 500), rate limit 429."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from pheu.leads.models import Lead
from pheu.scoring.models import PageView
from pheu.scoring.services import create_scoring_rule
from pheu.scoring.tracking import Rate, tracking_rate
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db

ENDPOINT = "/scoring/t/pageview/"
ORIGIN = {"HTTP_ORIGIN": "https://shop.example.vn"}


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def site() -> Client:
    """A customer's website: no session, and CSRF checks on (as a real browser would meet them)."""
    return Client(enforce_csrf_checks=True)


def test_the_script_is_public_javascript_naming_the_endpoint(site):
    response = site.get("/scoring/track.js")
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "http://testserver/scoring/t/pageview/" in body
    assert "pheu_vid" in body and "max-age=31536000" in body and "sendBeacon" in body
    assert "public" in response["Cache-Control"]


def test_a_page_view_is_recorded_with_cors_headers(site):
    response = site.post(ENDPOINT, {"url": "https://shop.example.vn/pricing", "visitor_id": "v-1"}, **ORIGIN)
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.vn"
    assert "Access-Control-Allow-Credentials" not in response
    view = PageView.objects.get()
    assert (view.url, view.visitor_id, view.lead_id) == ("https://shop.example.vn/pricing", "v-1", None)


def test_the_preflight_is_answered(site):
    response = site.options(ENDPOINT, **ORIGIN, HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.vn"
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert not PageView.objects.exists()


def test_a_json_body_and_an_email_find_the_lead_and_rescore_it(site):
    lead = make_lead(email="lan@example.vn")
    create_scoring_rule(
        actor=None,
        values={"name": "Pricing", "domain": "[['pageviews.url', 'ilike', '/pricing']]", "points": 5},
    )
    response = site.post(
        ENDPOINT,
        json.dumps(
            {"url": "https://shop.example.vn/Pricing", "visitor_id": "v-2", "email": "Lan@example.vn"}
        ),
        content_type="application/json",
    )
    assert response.status_code == 204
    assert PageView.objects.get().lead_id == lead.pk
    assert Lead.objects.get(pk=lead.pk).score == 5


def test_recording_a_view_costs_a_bounded_number_of_queries(site, django_assert_max_num_queries):
    lead = make_lead(email="lan@example.vn")
    for i in range(3):
        create_scoring_rule(
            actor=None, values={"name": f"R{i}", "domain": "[['pageviews.url', 'ilike', '/p']]", "points": 1}
        )
    site.post(ENDPOINT, {"url": "/warm-up", "visitor_id": "v-0"})
    with django_assert_max_num_queries(8):
        response = site.post(ENDPOINT, {"url": "/p/1", "visitor_id": "v-5", "email": "lan@example.vn"})
    assert response.status_code == 204
    assert Lead.objects.get(pk=lead.pk).score == 3


def test_a_known_visitor_s_views_go_to_its_lead(site):
    lead = make_lead()
    PageView.objects.create(lead=lead, url="/first", visitor_id="v-3")
    assert site.post(ENDPOINT, {"url": "/second", "visitor_id": "v-3"}).status_code == 204
    assert PageView.objects.filter(lead=lead).count() == 2


@pytest.mark.parametrize(
    "body, content_type, field",
    [
        ({"url": "/a"}, None, "visitor_id"),
        ({"url": "", "visitor_id": "v"}, None, "url"),
        ({"url": "/a", "visitor_id": "v" * 101}, None, "visitor_id"),
        ({"url": "/" + "a" * 2000, "visitor_id": "v"}, None, "url"),
        ({"url": "/a\x00", "visitor_id": "v"}, None, "url"),
        ({"url": "/a", "email": "x" * 300 + "@example.vn"}, None, "email"),
        ('{"url": "/a", "visitor_id": ["v"]}', "application/json", "detail"),
        ("{not json", "application/json", "detail"),
        ("[1, 2]", "application/json", "detail"),
    ],
)
def test_bad_input_is_400_never_500(site, body, content_type, field):
    if content_type:
        response = site.post(ENDPOINT, body, content_type=content_type, **ORIGIN)
    else:
        response = site.post(ENDPOINT, body, **ORIGIN)
    assert response.status_code == 400
    assert field in response.json()
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.vn"
    assert not PageView.objects.exists()


def test_a_lead_id_cannot_be_given_publicly(site):
    lead = make_lead()
    response = site.post(ENDPOINT, {"url": "/a", "lead": lead.pk, "visitor_id": "v-9"})
    assert response.status_code == 204
    assert PageView.objects.get().lead_id is None  # anyone may post here: only the visitor's own id counts


def test_get_is_not_allowed(site):
    assert site.get(ENDPOINT).status_code == 405


def test_rate_limit_per_ip_is_429(site, settings):
    settings.PHEU_TRACKING_RATE = "3/minute"
    for _ in range(3):
        assert site.post(ENDPOINT, {"url": "/a", "visitor_id": "v"}, **ORIGIN).status_code == 204
    refused = site.post(ENDPOINT, {"url": "/a", "visitor_id": "v"}, **ORIGIN)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 61
    assert refused["Access-Control-Allow-Origin"] == "https://shop.example.vn"
    assert PageView.objects.count() == 3
    other = site.post(ENDPOINT, {"url": "/a", "visitor_id": "v"}, REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 204


def test_rate_setting(settings):
    settings.PHEU_TRACKING_RATE = "120/minute"
    assert tracking_rate() == Rate(120, 60)
    settings.PHEU_TRACKING_RATE = "10 / hours"
    assert tracking_rate() == Rate(10, 3600)
    settings.PHEU_TRACKING_RATE = "lots"
    with pytest.raises(ImproperlyConfigured, match="PHEU_TRACKING_RATE"):
        tracking_rate()


def test_no_limit_with_zero(site, settings):
    settings.PHEU_TRACKING_RATE = "0/minute"
    for _ in range(5):
        assert site.post(ENDPOINT, {"url": "/a", "visitor_id": "v"}).status_code == 204
