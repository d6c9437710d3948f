"""Scoring pages: rules (read by all, changed by managers), live impact, toggle, delete, background
re-scoring progress, the predictive model page, and the lead page's scoring panels."""

from __future__ import annotations

import pytest
from django.urls import reverse

from pheu.core.models import PREDICTIVE_FIELDS, PheuSettings
from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead
from pheu.scoring import services
from pheu.scoring.models import ModelState, PageView, RescoreRun, ScoringRule
from pheu.scoring.services import create_scoring_rule
from pheu.testing import make_lead, set_scores

pytestmark = pytest.mark.django_db

VIETNAM = "[['country.code', '=', 'VN']]"
HTMX = {"HTTP_HX_REQUEST": "true"}


def make_rule(name: str = "Viet Nam", domain: str = VIETNAM, points: int = 10, **kw) -> ScoringRule:
    rule, _outcome = create_scoring_rule(
        actor=None, values={"name": name, "domain": domain, "points": points, **kw}
    )
    return rule


def scores(*leads: Lead) -> list[int]:
    return [Lead.objects.get(pk=lead.pk).score for lead in leads]


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- the list -------------------------------------------------------------------------------------------
def test_salesperson_reads_the_rules_without_edit_controls(client, english):
    rule = make_rule()
    client.force_login(english.sales1)
    response = client.get(reverse("scoring:rules"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Viet Nam" in html and "Country › Code is “VN”" in html
    assert reverse("scoring:rule_edit", args=[rule.pk]) not in html
    assert reverse("scoring:rule_create") not in html
    assert 'id="rescore-all"' not in html
    assert "disabled" in html  # the active switch is shown, not usable
    assert 'href="/scoring/"' in html  # the menu entry


def test_manager_sees_rules_with_their_wording_points_and_the_snippet(client, english):
    make_rule(points=-5, window_days=30)
    client.force_login(english.manager)
    response = client.get(reverse("scoring:rules"))
    html = response.content.decode()
    assert reverse("scoring:rule_create") in html
    assert "-5" in html and "last 30 days" in html
    assert 'data-pheu="http://testserver/scoring/t/pageview/"' in html
    assert 'src="http://testserver/scoring/track.js"' in html
    assert "pheu_vid" in html and "visitor_id" in html


def test_a_rule_that_no_longer_reads_is_flagged(client, english):
    rule = make_rule()
    ScoringRule.objects.filter(pk=rule.pk).update(domain="[['cuntry', '=', 'VN']]")
    client.force_login(english.manager)
    html = client.get(reverse("scoring:rules")).content.decode()
    assert "This rule no longer reads and gives no points" in html


# --- permissions ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["sales1", "leader"])
def test_only_managers_change_rules(client, actors, who):
    rule = make_rule()
    client.force_login(actors.by_name(who))
    posts = [
        (reverse("scoring:rule_create"), {"name": "X", "domain": "", "points": 1, "sequence": 1}),
        (reverse("scoring:rule_edit", args=[rule.pk]), {"name": "Y", "points": 99, "sequence": 1}),
        (reverse("scoring:rule_delete", args=[rule.pk]), {}),
        (reverse("scoring:rule_toggle", args=[rule.pk]), {}),
        (reverse("scoring:rule_impact"), {"domain": "", "points": 1}),
        (reverse("scoring:rescore"), {}),
        (reverse("scoring:model"), {"predictive_fields": ["stage"]}),
        (reverse("scoring:model_rebuild"), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert client.get(reverse("scoring:model")).status_code == 403
    assert list(ScoringRule.objects.values_list("name", "points", "active")) == [("Viet Nam", 10, True)]
    assert PheuSettings.load().predictive_fields == list(PREDICTIVE_FIELDS)


def test_anonymous_users_are_sent_to_log_in(client):
    response = client.get(reverse("scoring:rules"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- create, edit, delete -------------------------------------------------------------------------------
def test_manager_creates_a_rule_and_sees_how_many_scores_changed(client, english):
    vn, vn2, us = make_lead(country="VN"), make_lead(country="VN"), make_lead(country="US")
    set_scores([us], 3)  # stale, but no concern of the new rule: left alone
    client.force_login(english.manager)
    response = client.post(
        reverse("scoring:rule_create"),
        {"name": "Viet Nam", "domain": VIETNAM, "points": "10", "sequence": "5", "active": "on"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("scoring:rules")
    assert "2 scores changed." in messages_of(response)
    assert scores(vn, vn2, us) == [10, 10, 3]
    rule = ScoringRule.objects.get()
    assert (rule.name, rule.domain, rule.points, rule.sequence, rule.active) == (
        "Viet Nam",
        VIETNAM,
        10,
        5,
        True,
    )


def test_a_bad_rule_is_refused_next_to_the_field_and_nothing_is_saved(client, english):
    lead = make_lead(country="VN")
    client.force_login(english.manager)
    response = client.post(
        reverse("scoring:rule_create"),
        {"name": "Typo", "domain": "[['cuntry', '=', 'VN']]", "points": "10", "sequence": "1"},
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "cuntry" in " ".join(errors["domain"])
    assert not ScoringRule.objects.exists()
    assert scores(lead) == [0]


def test_points_must_be_a_whole_number(client, english):
    client.force_login(english.manager)
    response = client.post(
        reverse("scoring:rule_create"), {"name": "X", "domain": "", "points": "ten", "sequence": "1"}
    )
    assert "points" in response.context["form"].errors
    assert not ScoringRule.objects.exists()


def test_a_window_of_zero_days_is_refused(client, english):
    client.force_login(english.manager)
    response = client.post(
        reverse("scoring:rule_create"),
        {"name": "X", "domain": "", "points": "1", "window_days": "0", "sequence": "1"},
    )
    assert "window_days" in response.context["form"].errors
    assert not ScoringRule.objects.exists()


def test_editing_the_points_rescored_and_says_so(client, english):
    lead = make_lead(country="VN")
    rule = make_rule(points=10)
    client.force_login(english.manager)
    response = client.post(
        reverse("scoring:rule_edit", args=[rule.pk]),
        {"name": "Viet Nam", "domain": VIETNAM, "points": "25", "sequence": "10", "active": "on"},
        follow=True,
    )
    assert "1 score changed." in messages_of(response)
    assert scores(lead) == [25]


def test_renaming_changes_no_score(client, english):
    lead = make_lead(country="VN")
    rule = make_rule(points=10)
    client.force_login(english.manager)
    response = client.post(
        reverse("scoring:rule_edit", args=[rule.pk]),
        {"name": "Việt Nam", "domain": VIETNAM, "points": "10", "sequence": "10", "active": "on"},
        follow=True,
    )
    assert "0 scores changed." in messages_of(response)
    assert ScoringRule.objects.get().name == "Việt Nam"
    assert scores(lead) == [10]


def test_deleting_a_rule_after_confirmation_takes_its_points_back(client, english):
    lead = make_lead(country="VN")
    rule = make_rule(points=10)
    client.force_login(english.manager)
    confirm = client.get(reverse("scoring:rule_delete", args=[rule.pk]))
    assert "Delete the rule “Viet Nam”?" in confirm.content.decode()
    assert ScoringRule.objects.exists()
    response = client.post(reverse("scoring:rule_delete", args=[rule.pk]), follow=True)
    assert "1 score changed." in messages_of(response)
    assert not ScoringRule.objects.exists()
    assert scores(lead) == [0]


# --- htmx: impact preview and toggle --------------------------------------------------------------------
def test_impact_preview_counts_matching_leads_and_changed_scores(client, english):
    make_lead(country="VN"), make_lead(country="VN"), make_lead(country="US")
    make_lead(country="VN", won_status=WonStatus.LOST, active=False)  # closed: not scored
    client.force_login(english.manager)
    response = client.post(
        reverse("scoring:rule_impact"), {"domain": VIETNAM, "points": "10", "active": "on"}, **HTMX
    )
    html = response.content.decode()
    assert "2 open leads match." in html
    assert "Saving changes 2 scores: 2 raised, 0 lowered." in html
    assert not ScoringRule.objects.exists()


def test_impact_of_an_edit_that_lowers_points(client, english):
    make_lead(country="VN"), make_lead(country="US")
    rule = make_rule(points=10)
    client.force_login(english.manager)
    url = reverse("scoring:rule_impact") + f"?rule={rule.pk}"
    html = client.post(url, {"domain": VIETNAM, "points": "0", "active": "on"}, **HTMX).content.decode()
    assert "1 open lead matches." in html
    assert "Saving changes 1 score: 0 raised, 1 lowered." in html
    html = client.post(url, {"domain": VIETNAM, "points": "10"}, **HTMX).content.decode()  # switched off
    assert "Inactive: the rule gives no points." in html and "0 raised, 1 lowered" in html
    assert ScoringRule.objects.get().points == 10


def test_impact_of_a_bad_rule_asks_to_correct_it(client, english):
    client.force_login(english.manager)
    html = client.post(
        reverse("scoring:rule_impact"), {"domain": "[['nope'", "points": "3", "active": "on"}, **HTMX
    ).content.decode()
    assert "Correct the rule to see what it would change." in html


def test_toggle_by_htmx_swaps_the_row_and_reports_the_change(client, english):
    lead = make_lead(country="VN")
    rule = make_rule(points=10)
    client.force_login(english.manager)
    response = client.post(reverse("scoring:rule_toggle", args=[rule.pk]), **HTMX)
    html = response.content.decode()
    assert f'id="rule-{rule.pk}"' in html and "checked" not in html.split("rule-active")[1].split(">")[0]
    assert 'hx-swap-oob="true"' in html and "1 score changed." in html
    assert ScoringRule.objects.get().active is False
    assert scores(lead) == [0]
    client.post(reverse("scoring:rule_toggle", args=[rule.pk]), **HTMX)
    assert scores(lead) == [10]


# --- background re-scoring ------------------------------------------------------------------------------
def test_on_a_large_base_the_save_shows_a_progress_bar(
    client, english, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "BACKGROUND_THRESHOLD", 1)
    leads = [make_lead(country="VN") for _ in range(3)]
    client.force_login(english.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("scoring:rule_create"),
            {"name": "Viet Nam", "domain": VIETNAM, "points": "4", "sequence": "1", "active": "on"},
        )
    run = RescoreRun.objects.get()
    assert response["Location"] == f"{reverse('scoring:rules')}?run={run.pk}"
    page = client.get(response["Location"]).content.decode()
    assert 'id="rescore-run"' in page and "100%" in page
    assert "3 open leads checked, 3 scores changed." in page
    assert scores(*leads) == [4, 4, 4]


def test_progress_polls_while_running_and_stops_when_done(client, english):
    run = RescoreRun.objects.create(
        reason="Rule changed", status=RescoreRun.Status.RUNNING, total=200, done=50
    )
    client.force_login(english.sales1)
    html = client.get(reverse("scoring:run", args=[run.pk]), **HTMX).content.decode()
    assert 'hx-trigger="every 1s"' in html and "25%" in html and "50 of 200 open leads checked" in html
    RescoreRun.objects.filter(pk=run.pk).update(status=RescoreRun.Status.DONE, done=200, changed=7)
    html = client.get(reverse("scoring:run", args=[run.pk]), **HTMX).content.decode()
    assert "every 1s" not in html and "200 open leads checked, 7 scores changed." in html


def test_rescore_all_now(client, english):
    lead = make_lead(country="VN")
    make_rule(points=10)
    set_scores([lead], 3)  # stale
    client.force_login(english.manager)
    response = client.post(reverse("scoring:rescore"), follow=True)
    assert "1 open leads checked, 1 scores changed." in messages_of(response)
    assert scores(lead) == [10]


# --- the predictive model page --------------------------------------------------------------------------
def closed_history() -> None:
    for _ in range(6):
        make_lead(country="VN", won_status=WonStatus.WON)
        make_lead(country="US", won_status=WonStatus.LOST, active=False)
    make_lead(country="VN", won_status=WonStatus.LOST, active=False)


def test_model_page_shows_the_state_and_explains_auc(client, english):
    client.force_login(english.manager)
    html = client.get(reverse("scoring:model")).content.decode()
    assert "0.5 is a coin toss, 1 is perfect" in html
    assert 'name="predictive_fields"' in html and 'id="rebuild-model"' in html


def test_rebuild_learns_and_predicts_open_records(client, english):
    closed_history()
    open_vn = make_lead(country="VN")
    client.force_login(english.manager)
    response = client.post(reverse("scoring:model_rebuild"), follow=True)
    assert any("learnt from 13 closed records (6 won, 7 lost)" in m for m in messages_of(response))
    state = ModelState.load()
    assert state.samples == 13 and state.rebuilt_at is not None
    assert Lead.objects.get(pk=open_vn.pk).automated_probability is not None
    assert 'id="model-samples">13<' in response.content.decode()


def test_rebuild_on_a_large_history_runs_in_the_background(
    client, english, monkeypatch, django_capture_on_commit_callbacks
):
    from pheu.scoring.services import prediction

    monkeypatch.setattr(prediction, "REBUILD_BACKGROUND_THRESHOLD", 5)
    closed_history()
    open_vn = make_lead(country="VN")
    client.force_login(english.manager)
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("scoring:model_rebuild"), follow=True)
    assert any("learning from 13 closed records in the background" in m for m in messages_of(response))
    html = response.content.decode()
    assert 'id="model-rebuilding"' in html and 'id="rebuild-model" disabled' in html
    assert ModelState.load().rebuild_status == "queued" and ModelState.load().samples == 0
    with django_capture_on_commit_callbacks() as again:  # asked twice: queued once
        client.post(reverse("scoring:model_rebuild"))
    assert len(queued) == 1 and again == []
    queued[0]()  # the worker runs the task
    state = ModelState.load()
    assert (state.rebuild_status, state.samples) == ("idle", 13)
    assert Lead.objects.get(pk=open_vn.pk).automated_probability is not None
    html = client.get(reverse("scoring:model")).content.decode()
    assert 'id="model-rebuilding"' not in html and 'id="rebuild-model">' in html


def test_a_failed_background_rebuild_is_shown_and_may_be_asked_again(
    client, english, monkeypatch, django_capture_on_commit_callbacks
):
    from pheu.scoring.services import prediction

    monkeypatch.setattr(prediction, "REBUILD_BACKGROUND_THRESHOLD", 5)
    closed_history()
    client.force_login(english.manager)
    with django_capture_on_commit_callbacks() as queued:
        client.post(reverse("scoring:model_rebuild"))

    def broken(**kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(prediction, "rebuild_model", broken)
    queued[0]()  # the worker records the task as failed
    html = client.get(reverse("scoring:model")).content.decode()
    assert 'id="model-rebuild-failed"' in html and "the disk is full" in html
    with django_capture_on_commit_callbacks() as again:
        client.post(reverse("scoring:model_rebuild"))
    assert len(again) == 1 and ModelState.load().rebuild_status == "queued"


def test_a_rebuild_queued_long_ago_without_a_worker_may_be_asked_again(
    client, english, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from pheu.scoring.services import prediction

    monkeypatch.setattr(prediction, "REBUILD_BACKGROUND_THRESHOLD", 5)
    closed_history()
    ModelState.load()
    ModelState.objects.filter(pk=1).update(
        rebuild_status="queued", rebuild_asked_at=timezone.now() - timedelta(hours=2)
    )
    client.force_login(english.manager)
    with django_capture_on_commit_callbacks() as queued:
        client.post(reverse("scoring:model_rebuild"))
    assert len(queued) == 1
    assert timezone.now() - ModelState.load().rebuild_asked_at < timedelta(minutes=1)


def test_saving_the_model_settings(client, english):
    client.force_login(english.manager)
    before = ModelState.load().version
    response = client.post(
        reverse("scoring:model"),
        {"predictive_fields": ["country", "stage"], "probability_follows_prediction": "on"},
        follow=True,
    )
    assert response.status_code == 200
    settings = PheuSettings.load()
    assert (settings.predictive_fields, settings.probability_follows_prediction) == (
        ["stage", "country"],
        True,
    )
    assert ModelState.load().version == before + 1  # every open record is predicted again
    html = client.get(reverse("scoring:model")).content.decode()
    assert 'value="country" class="form-check-input" id="id_predictive_fields_1" checked' in html
    assert 'value="state" class="form-check-input" id="id_predictive_fields_2">' in html


def test_an_unknown_variable_is_refused(client, english):
    client.force_login(english.manager)
    response = client.post(reverse("scoring:model"), {"predictive_fields": ["shoe_size"]})
    assert "predictive_fields" in response.context["form"].errors
    assert PheuSettings.load().predictive_fields == list(PREDICTIVE_FIELDS)


# --- the lead page --------------------------------------------------------------------------------------
def test_lead_page_says_why_the_score_and_lists_page_views(client, english):
    lead = make_lead(country="VN")
    make_rule(points=10)
    make_rule("Pricing page", "[['pageviews.url', 'ilike', '/pricing']]", 5)
    PageView.objects.create(lead=lead, url="https://example.vn/pricing")
    services.refresh_leads(lead_ids=[lead.pk], outcome_may_change=False)
    client.force_login(english.manager)
    html = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="score-total">15<' in html
    panel = html.split('id="score-panel"')[1].split("</section>")[0]
    assert "Viet Nam" in panel and "+10" in panel and "Pricing page" in panel and "+5" in panel
    assert "Not enough history to predict yet" in panel
    assert "https://example.vn/pricing" in html.split('id="pageviews-panel"')[1]


def test_lead_page_shows_the_prediction_and_its_factors(client, english):
    closed_history()
    from pheu.scoring.services.prediction import rebuild_model

    rebuild_model()
    lead = make_lead(country="VN")
    client.force_login(english.manager)
    html = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    panel = html.split('id="score-panel"')[1].split("</section>")[0]
    assert 'id="predicted-probability"' in panel
    assert "Raised it most" in panel and "Country: " in panel
    assert "Learnt from 13 closed records." in panel


def test_lead_page_of_an_invisible_lead_is_a_404(client, actors):
    lead = make_lead(country="VN", team=actors.south)
    client.force_login(actors.sales1)
    assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 404
