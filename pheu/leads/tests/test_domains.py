"""The rule language on leads: ``domain=`` on the list (API and FilterSet), ``preview_domain`` and
``POST /api/v1/domains/validate/``."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from pheu.leads.filters import LeadFilterSet
from pheu.leads.models import Lead
from pheu.leads.services import PREVIEW_SAMPLE_SIZE, DomainPreview, LeadSample, preview_domain
from pheu.rules import RuleProblemCode
from pheu.testing import make_lead, make_source

pytestmark = pytest.mark.django_db

LIST = reverse("api:lead-list")
VALIDATE = reverse("api:domain-validate")
SEED = "[['country_id', 'in', ['United States', 'Canada']]]"
EITHER = "['|', ['source', '=', 'Website'], ['score', '>=', 50]]"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def scene(actors):
    """North (sales1): a US, a Canadian and a Vietnamese lead; south (sales3): a US lead."""
    web = make_source("Website")
    return {
        "us": make_lead("Acme US", user=actors.sales1, team=actors.north, country="US", score=10),
        "ca": make_lead("Maple", user=actors.sales1, team=actors.north, country="CA", source=web),
        "vn": make_lead("Đại Việt", user=actors.sales1, team=actors.north, country="VN", score=70),
        "south_us": make_lead("Texas", user=actors.sales3, team=actors.south, country="US"),
    }


# --- domain= on the list -------------------------------------------------------------------------
def test_the_seed_example_typed_as_a_python_literal_filters_the_api_list(actors, api_client, scene):
    client = api_client(actors.manager)
    assert ids(client.get(LIST, {"domain": SEED})) == {scene["us"].pk, scene["ca"].pk, scene["south_us"].pk}


def test_prefix_or_typed_as_a_python_literal(actors, api_client, scene):
    assert ids(api_client(actors.manager).get(LIST, {"domain": EITHER})) == {scene["ca"].pk, scene["vn"].pk}


def test_a_json_domain_combines_with_the_other_filters(actors, api_client, scene):
    params = {"domain": json.dumps([["country.code", "=", "US"]]), "team": actors.south.pk}
    assert ids(api_client(actors.manager).get(LIST, params)) == {scene["south_us"].pk}


def test_the_domain_only_narrows_what_the_user_may_see(actors, api_client, scene):
    assert ids(api_client(actors.sales3).get(LIST, {"domain": SEED})) == {scene["south_us"].pk}
    assert ids(api_client(actors.sales3).get(LIST, {"domain": "[['team', '=', 'Miền Bắc']]"})) == set()


def test_an_empty_domain_filters_nothing(actors, api_client, scene):
    assert len(ids(api_client(actors.manager).get(LIST, {"domain": ""}))) == 4
    assert len(ids(api_client(actors.manager).get(LIST, {"domain": "[]"}))) == 4


def test_a_bad_domain_is_a_400_listing_every_problem(actors, api_client, scene):
    response = api_client(actors.manager).get(
        LIST,
        {"domain": "[['cuntry', '=', 'VN'], ['score', '>=', 'many'], ['country', '=', 'Wakanda']]"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    messages = response.json()["domain"]
    assert len(messages) == 3
    assert messages[0].startswith("Term 1: unknown field “cuntry”")
    assert messages[1].startswith("Term 2 (score): ")
    assert messages[2].startswith("Term 3 (country): ")


@pytest.mark.parametrize("text", ["[['name', '=', __import__('os')]]", "[[", "'not a list'", "{'a': 1}"])
def test_unreadable_domains_are_400s_never_500s(actors, api_client, text):
    response = api_client(actors.manager).get(LIST, {"domain": text})
    assert response.status_code == 400
    assert list(response.json()) == ["domain"]


def test_the_filterset_form_reports_a_bad_domain_and_selects_nothing(actors, scene):
    request = RequestFactory().get("/")
    request.user = actors.manager
    with translation.override("en"):
        filterset = LeadFilterSet(
            {"domain": "[['cuntry', '=', 'VN']]"}, queryset=Lead.objects.all(), request=request
        )
        assert not filterset.is_valid()
        assert filterset.form.errors["domain"][0].startswith("Term 1: unknown field “cuntry”")
    assert list(filterset.qs) == []


def test_the_filterset_form_narrows_with_a_good_domain(actors, scene):
    request = RequestFactory().get("/")
    request.user = actors.manager
    filterset = LeadFilterSet({"domain": EITHER}, queryset=Lead.objects.all(), request=request)
    assert filterset.is_valid()
    assert {lead.pk for lead in filterset.qs} == {scene["ca"].pk, scene["vn"].pk}


# --- preview_domain ------------------------------------------------------------------------------
def test_preview_counts_and_samples_the_visible_active_matches(actors, scene):
    gone = make_lead("Lost US", user=actors.sales1, team=actors.north, country="US", active=False)
    with translation.override("en"):
        preview = preview_domain(actor=actors.sales1, domain_text=SEED)
    assert preview == DomainPreview(
        valid=True,
        text=SEED,
        canonical=[["country", "in", ["United States", "Canada"]]],
        explanation=preview.explanation,
        count=2,
        sample=(LeadSample(scene["ca"].pk, "Maple"), LeadSample(scene["us"].pk, "Acme US")),
    )
    assert preview.explanation.startswith("Country is in ")
    assert gone.pk not in {row.id for row in preview.sample}


def test_preview_of_the_empty_domain_is_every_visible_record(actors, scene):
    preview = preview_domain(actor=actors.sales3, domain_text="")
    assert (preview.valid, preview.text, preview.canonical, preview.count) == (True, "", [], 1)


def test_preview_samples_at_most_five_newest_first(actors):
    leads = [make_lead(f"L{i}", user=actors.sales1, team=actors.north, score=i) for i in range(7)]
    preview = preview_domain(actor=actors.manager, domain_text=[["score", ">=", 0]])
    assert preview.count == 7
    assert [row.id for row in preview.sample] == [lead.pk for lead in leads[::-1][:PREVIEW_SAMPLE_SIZE]]
    assert preview.text == '[["score", ">=", 0]]'


def test_preview_of_a_bad_domain_lists_the_problems_and_counts_nothing(actors, scene):
    preview = preview_domain(actor=actors.manager, domain_text=" [['cuntry', '=', 'VN']] ")
    assert (preview.valid, preview.text, preview.count, preview.canonical, preview.sample) == (
        False,
        "[['cuntry', '=', 'VN']]",
        None,
        None,
        (),
    )
    assert [p.code for p in preview.errors] == [RuleProblemCode.UNKNOWN_FIELD]


# --- POST /api/v1/domains/validate/ ------------------------------------------------------------------
def test_validate_a_good_domain(actors, api_client, scene):
    response = api_client(actors.sales1).post(
        VALIDATE, {"domain": EITHER, "model": "lead"}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "valid": True,
        "errors": [],
        "text": EITHER,
        "canonical": ["|", ["source", "=", "Website"], ["score", ">=", 50]],
        "explanation": body["explanation"],
        "count": 2,
        "sample": [{"id": scene["vn"].pk, "name": "Đại Việt"}, {"id": scene["ca"].pk, "name": "Maple"}],
    }
    assert " or " in body["explanation"] and "Website" in body["explanation"]


def test_validate_takes_a_json_array_and_explains_in_the_request_language(actors, api_client, scene):
    client = api_client(actors.manager)
    payload = {"domain": [["country_id", "in", ["United States", "Canada"]]]}
    english = client.post(VALIDATE, payload, format="json", HTTP_ACCEPT_LANGUAGE="en").json()
    vietnamese = client.post(VALIDATE, payload, format="json", HTTP_ACCEPT_LANGUAGE="vi").json()
    assert english["text"] == '[["country", "in", ["United States", "Canada"]]]'
    assert english["count"] == vietnamese["count"] == 3
    assert "United States" in english["explanation"]
    assert english["explanation"] != vietnamese["explanation"]


def test_validate_a_bad_domain_is_a_200_with_every_problem(actors, api_client, scene):
    response = api_client(actors.manager).post(
        VALIDATE,
        {"domain": "[['cuntry', '=', 'VN'], ['score', 'is', 1]]"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["valid"], body["count"], body["canonical"], body["sample"]) == (False, None, None, [])
    assert [(e["position"], e["path"], e["code"]) for e in body["errors"]] == [
        (1, "cuntry", "unknown_field"),
        (2, "score", "unknown_operator"),
    ]
    assert body["errors"][0]["message"].startswith("Term 1: unknown field “cuntry”")


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "domain"), ({"domain": 5}, "domain"), ({"domain": "[]", "model": "user"}, "model")],
)
def test_validate_a_malformed_request_is_a_400(actors, api_client, payload, field):
    response = api_client(actors.manager).post(VALIDATE, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_validate_needs_a_login(db, api_client):
    assert api_client().post(VALIDATE, {"domain": "[]"}, format="json").status_code in (401, 403)
