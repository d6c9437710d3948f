"""Scoring API: rules (CRUD through the services, with the re-scoring outcome), lead explanations (404 when
not visible), page views, and the predictive model's state and rebuild."""

from __future__ import annotations

import pytest

from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead
from pheu.scoring import services
from pheu.scoring.models import ModelState, PageView, RescoreRun, ScoringRule
from pheu.scoring.services import create_scoring_rule
from pheu.testing import make_lead

pytestmark = pytest.mark.django_db

VIETNAM = "[['country.code', '=', 'VN']]"
RULES = "/api/v1/scoring-rules/"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}  # API messages in English (the default language is Vietnamese)


def make_rule(name: str = "Viet Nam", domain: str = VIETNAM, points: int = 10, **kw) -> ScoringRule:
    rule, _outcome = create_scoring_rule(
        actor=None, values={"name": name, "domain": domain, "points": points, **kw}
    )
    return rule


def score(lead: Lead) -> int:
    return Lead.objects.get(pk=lead.pk).score


# --- rules ----------------------------------------------------------------------------------------------
def test_manager_creates_a_rule_as_a_json_list_and_gets_the_outcome(api_client, english):
    vn, us = make_lead(country="VN"), make_lead(country="US")
    response = api_client(english.manager).post(
        RULES,
        {"name": "Viet Nam", "domain": [["country.code", "=", "VN"]], "points": 10},
        format="json",
        **EN,
    )
    assert response.status_code == 201, response.data
    body = response.json()
    assert body["domain"] == '[["country.code", "=", "VN"]]'
    assert body["domain_json"] == [["country.code", "=", "VN"]]
    assert body["explanation"] == "Country › Code is “VN”"
    assert (body["points"], body["active"], body["window_days"]) == (10, True, None)
    assert body["rescore"] == {"background": False, "changed": 1}
    assert (score(vn), score(us)) == (10, 0)


def test_a_rule_typed_as_text_is_stored_as_typed(api_client, actors):
    response = api_client(actors.admin).post(
        RULES, {"name": "VN", "domain": VIETNAM, "points": -3, "window_days": 30}, format="json"
    )
    assert response.status_code == 201
    assert ScoringRule.objects.get().domain == VIETNAM
    assert response.json()["window_days"] == 30


@pytest.mark.parametrize(
    "payload, field, words",
    [
        ({"name": "X", "domain": "[['cuntry', '=', 'VN']]", "points": 1}, "domain", "cuntry"),
        ({"name": "X", "domain": 42, "points": 1}, "domain", "A rule is a text or a list"),
        ({"name": "X", "domain": ""}, "points", "required"),
        ({"name": "X", "points": "ten"}, "points", "valid integer"),
        ({"name": "X", "points": 10**7}, "points", "less than or equal to 1000000"),
        ({"name": "", "points": 1}, "name", ""),
        ({"name": "X", "points": 1, "window_days": 0}, "window_days", "greater than or equal to 1"),
        ({"name": "X", "points": 1, "window_days": 2**40}, "window_days", "less than or equal to"),
        ({"name": "X", "points": 1, "sequence": -1}, "sequence", "greater than or equal to 0"),
        ({"name": "X" * 101, "points": 1}, "name", "no more than 100"),
        ({"name": "X\x00", "points": 1}, "name", "Null characters"),
        ({"name": "X", "points": 1, "domain": "[['name', '=', 'a\x00']]"}, "domain", ""),
        ({"name": "X", "points": 1, "domain": [[None, {}, []]]}, "domain", ""),
        ({"name": "X", "points": True}, "points", ""),
    ],
)
def test_bad_rules_are_400_with_field_errors(api_client, english, payload, field, words):
    response = api_client(english.manager).post(RULES, payload, format="json", **EN)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert words in " ".join(response.json()[field])
    assert not ScoringRule.objects.exists()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_bad_rule_is_worded_per_term_as_domains_validate_words_it(api_client, actors, language):
    bad = "[['cuntry', '=', 'VN'], ['name', 'is', 'x']]"
    client = api_client(actors.manager)
    language_header = {"HTTP_ACCEPT_LANGUAGE": language}
    response = client.post(RULES, {"name": "X", "domain": bad, "points": 1}, format="json", **language_header)
    checked = client.post("/api/v1/domains/validate/", {"domain": bad}, format="json", **language_header)
    assert response.status_code == 400
    assert response.json() == {"domain": [problem["message"] for problem in checked.json()["errors"]]}
    assert len(response.json()["domain"]) == 2 and "RuleProblem" not in str(response.json())
    assert not ScoringRule.objects.exists()


def test_everyone_reads_rules_but_only_managers_write(api_client, actors):
    rule = make_rule()
    for who in ("sales1", "leader"):
        client = api_client(actors.by_name(who))
        listed = client.get(RULES)
        assert listed.status_code == 200 and [r["name"] for r in listed.json()["results"]] == ["Viet Nam"]
        assert client.post(RULES, {"name": "X", "points": 1}, format="json").status_code == 403
        assert client.patch(f"{RULES}{rule.pk}/", {"points": 1}, format="json").status_code == 403
        assert client.delete(f"{RULES}{rule.pk}/").status_code == 403
    assert api_client().get(RULES).status_code == 401
    assert list(ScoringRule.objects.values_list("name", "points")) == [("Viet Nam", 10)]


def test_patch_deactivates_and_rescores(api_client, actors):
    lead = make_lead(country="VN")
    rule = make_rule()
    response = api_client(actors.manager).patch(f"{RULES}{rule.pk}/", {"active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["active"] is False and response.json()["rescore"] == {
        "background": False,
        "changed": 1,
    }
    assert score(lead) == 0


def test_patch_with_a_bad_rule_changes_nothing(api_client, actors):
    lead = make_lead(country="VN")
    rule = make_rule()
    response = api_client(actors.manager).patch(
        f"{RULES}{rule.pk}/", {"domain": "[['country.code', 'is', 'VN']]", "points": 3}, format="json"
    )
    assert response.status_code == 400 and "domain" in response.json()
    assert ScoringRule.objects.values_list("domain", "points").get() == (VIETNAM, 10)
    assert score(lead) == 10


def test_delete_takes_the_points_back(api_client, actors):
    lead = make_lead(country="VN")
    rule = make_rule()
    response = api_client(actors.manager).delete(f"{RULES}{rule.pk}/")
    assert response.status_code == 200
    assert response.json() == {"rescore": {"background": False, "changed": 1}}
    assert not ScoringRule.objects.exists() and score(lead) == 0


def test_on_a_large_base_the_outcome_names_the_background_run(
    api_client, actors, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "BACKGROUND_THRESHOLD", 0)
    lead = make_lead(country="VN")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(actors.manager).post(
            RULES, {"name": "VN", "domain": VIETNAM, "points": 2}, format="json"
        )
    run = RescoreRun.objects.get()
    assert response.json()["rescore"]["background"] is True and response.json()["rescore"]["run"] == run.pk
    assert score(lead) == 2


# --- explain --------------------------------------------------------------------------------------------
def test_explain_lists_matched_rules_and_the_prediction(api_client, english):
    lead = make_lead(country="VN")
    make_rule(points=10)
    make_rule("Everyone", "", 1)
    make_rule("US", "[['country.code', '=', 'US']]", 50)
    response = api_client(english.sales1).get(f"/api/v1/leads/{lead.pk}/explain/")  # unassigned: not visible
    assert response.status_code == 404
    response = api_client(english.manager).get(f"/api/v1/leads/{lead.pk}/explain/", **EN)
    assert response.status_code == 200
    body = response.json()
    assert body["lead"] == lead.pk
    assert body["score"]["total"] == 11 and body["score"]["stored"] == 11
    assert [(r["name"], r["points"]) for r in body["score"]["matched"]] == [("Viet Nam", 10), ("Everyone", 1)]
    assert body["score"]["matched"][0]["explanation"] == "Country › Code is “VN”"
    assert body["prediction"] == {"probability": None, "raised": [], "lowered": [], "samples": 0}


def test_explain_is_a_404_for_a_lead_the_user_may_not_see(api_client, actors):
    theirs = make_lead(country="VN", team=actors.south, user=actors.sales3)
    mine = make_lead(country="VN", team=actors.north, user=actors.sales1)
    client = api_client(actors.sales1)
    assert client.get(f"/api/v1/leads/{theirs.pk}/explain/").status_code == 404
    assert client.get(f"/api/v1/leads/{mine.pk}/explain/").status_code == 200
    assert client.get("/api/v1/leads/999999/explain/").status_code == 404


def test_explain_gives_the_factors_of_the_prediction(api_client, actors):
    from pheu.scoring.services.prediction import rebuild_model

    for _ in range(5):
        make_lead(country="VN", won_status=WonStatus.WON)
        make_lead(country="US", won_status=WonStatus.LOST, active=False)
    rebuild_model()
    lead = make_lead(country="VN")
    body = api_client(actors.manager).get(f"/api/v1/leads/{lead.pk}/explain/").json()["prediction"]
    assert float(body["probability"]) > 50
    assert body["samples"] == 10
    assert any(f["variable"] == "country" and f["weight"] > 0 for f in body["raised"])


# --- page views -----------------------------------------------------------------------------------------
def test_pageview_for_a_lead_is_201_and_rescored(api_client, actors):
    lead = make_lead(country="VN", team=actors.north, user=actors.sales1)
    make_rule("Pricing", "[['pageviews.url', 'ilike', '/pricing']]", 7)
    response = api_client(actors.sales1).post(
        "/api/v1/pageviews/", {"lead": lead.pk, "url": "https://pheu.vn/Pricing"}, format="json"
    )
    assert response.status_code == 201, response.data
    assert response.json()["lead"] == lead.pk and response.json()["url"] == "https://pheu.vn/Pricing"
    assert score(lead) == 7


def test_pageview_by_visitor_or_email_waits_or_finds_its_lead(api_client, actors):
    lead = make_lead(email="an@example.vn")
    client = api_client(actors.manager)
    by_email = client.post(
        "/api/v1/pageviews/", {"email": "An@Example.vn", "url": "/a", "viewed_at": "2024-05-01T10:00:00Z"}
    )
    assert by_email.status_code == 201 and by_email.json()["lead"] == lead.pk
    assert by_email.json()["viewed_at"].startswith("2024-05-01")
    anonymous = client.post("/api/v1/pageviews/", {"visitor": "v-123", "url": "/b"}, format="json")
    assert anonymous.status_code == 201
    assert anonymous.json()["lead"] is None and anonymous.json()["visitor_id"] == "v-123"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"url": "/a"}, "lead"),
        ({"lead": 1, "url": ""}, "url"),
        ({"email": "not-an-email", "url": "/a"}, "email"),
        ({"visitor_id": "x" * 101, "url": "/a"}, "visitor_id"),
        ({"visitor_id": "v", "url": "/" + "a" * 2000}, "url"),
        ({"visitor_id": "v", "url": "/a\x00"}, "url"),
        ({"visitor_id": "v", "url": "/a", "viewed_at": "yesterday"}, "viewed_at"),
    ],
)
def test_bad_pageviews_are_400_with_field_errors(api_client, actors, payload, field):
    make_lead(pk=1)
    response = api_client(actors.manager).post("/api/v1/pageviews/", payload, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not PageView.objects.exists()


def test_pageview_for_a_lead_the_user_may_not_see_is_refused(api_client, actors):
    lead = make_lead(team=actors.south, user=actors.sales3)
    response = api_client(actors.sales1).post("/api/v1/pageviews/", {"lead": lead.pk, "url": "/a"})
    assert response.status_code == 400 and "lead" in response.json()
    assert not PageView.objects.exists()
    assert api_client().post("/api/v1/pageviews/", {"lead": lead.pk, "url": "/a"}).status_code == 401


# --- the model ------------------------------------------------------------------------------------------
def test_model_state_and_rebuild(api_client, actors):
    for _ in range(4):
        make_lead(country="VN", won_status=WonStatus.WON)
        make_lead(country="US", won_status=WonStatus.LOST, active=False)
    open_lead = make_lead(country="VN")
    assert api_client(actors.sales1).post("/api/v1/scoring-model/rebuild/").status_code == 403
    assert ModelState.load().rebuilt_at is None
    response = api_client(actors.manager).post("/api/v1/scoring-model/rebuild/")
    assert response.status_code == 200
    body = response.json()
    assert (body["samples"], body["won"], body["lost"]) == (8, 4, 4)
    assert body["predicted"] == {"checked": 1, "changed": 1}
    assert Lead.objects.get(pk=open_lead.pk).automated_probability is not None
    state = api_client(actors.sales1).get("/api/v1/scoring-model/").json()
    assert state["samples"] == 8 and state["rebuilt_at"] is not None
    assert "country" in state["predictive_fields"]


def test_rebuild_on_a_large_history_answers_202_and_the_state_follows_it(
    api_client, actors, monkeypatch, django_capture_on_commit_callbacks
):
    from pheu.scoring.services import prediction

    monkeypatch.setattr(prediction, "REBUILD_BACKGROUND_THRESHOLD", 3)
    for _ in range(2):
        make_lead(country="VN", won_status=WonStatus.WON)
        make_lead(country="US", won_status=WonStatus.LOST, active=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client(actors.manager).post("/api/v1/scoring-model/rebuild/")
        body = response.json()
        assert response.status_code == 202
        assert (body["background"], body["closed"], body["rebuild_status"]) == (True, 4, "queued")
        assert body["rebuild_asked_at"] is not None
    state = api_client(actors.sales1).get("/api/v1/scoring-model/").json()
    assert (state["rebuild_status"], state["samples"], state["rebuild_error"]) == ("idle", 4, "")
