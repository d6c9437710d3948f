"""The predictive probability: learnt incrementally exactly as a rebuild would, explained, measured."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from pheu.core.models import PheuSettings
from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead
from pheu.leads.services import update_lead
from pheu.scoring.features import decode_features
from pheu.scoring.models import Frequency, ModelSample
from pheu.scoring.services import refresh_leads
from pheu.scoring.services.prediction import (
    auc,
    explain_prediction,
    load_model,
    predict_leads,
    rebuild_model,
)
from pheu.testing import country, make_lead, make_source, make_stage, make_tag

pytestmark = pytest.mark.django_db


def frequencies() -> set[tuple[int, str, str, int, int]]:
    return {
        row
        for row in Frequency.objects.values_list("team_key", "variable", "value", "won", "lost")
        if row[3] or row[4]
    }


def samples() -> dict[int, tuple[int, bool, dict]]:
    return {s.lead_id: (s.team_key, s.won, decode_features(s.features)) for s in ModelSample.objects.all()}


def lose(lead: Lead) -> None:
    """A writer other than the lead services (won/lost, merge, import) following the scoring contract."""
    Lead.objects.filter(pk=lead.pk).update(
        won_status=WonStatus.LOST, active=False, probability=0, closed_at=timezone.now()
    )
    refresh_leads(lead_ids=[lead.pk])


@pytest.fixture
def pipeline(db):
    return {
        "new": make_stage("New", sequence=1, probability=10),
        "qualified": make_stage("Qualified", sequence=2, probability=30),
        "won": make_stage("Won", sequence=9, probability=100, is_won=True),
    }


def test_incremental_learning_equals_a_full_rebuild(actors, pipeline):
    rng = random.Random(7)
    tags = [make_tag(name) for name in ("VIP", "Hội chợ", "Partner")]
    web, fair = make_source("Website"), make_source("Hội chợ")
    leads = []
    for _ in range(30):
        leads.append(
            make_lead(
                country=rng.choice(["VN", "US", "FR"]),
                state=rng.choice(["Hà Nội", "", "Texas"]),
                source=rng.choice([web, fair, None]),
                language=rng.choice(["vi", "en", ""]),
                email=rng.choice(["a@b.vn", "", "not-an-email"]),
                phone=rng.choice(["0912345678", "", "12"]),
                team=rng.choice([actors.north, actors.south, None]),
                stage=rng.choice([pipeline["new"], pipeline["qualified"]]),
                tags=rng.sample(tags, rng.randint(0, 2)),
            )
        )
    for lead in leads[:10]:  # won through the services: the stage says so
        update_lead(actor=actors.admin, lead=lead, values={"stage": pipeline["won"]})
    for lead in leads[10:20]:
        lose(lead)
    # changes to closed records, a restore and a re-win are learnt too
    leads[0].tags.add(tags[2])
    refresh_leads(lead_ids=[leads[0].pk])
    update_lead(actor=actors.admin, lead=leads[1], values={"country": country("DE")})
    Lead.objects.filter(pk=leads[10].pk).update(won_status=WonStatus.OPEN, active=True)
    refresh_leads(lead_ids=[leads[10].pk])
    update_lead(actor=actors.admin, lead=leads[2], values={"stage": pipeline["qualified"]})

    incremental, incremental_samples = frequencies(), samples()
    stored = dict(ModelSample.objects.values_list("lead_id", "features"))
    assert len(incremental_samples) == 9 + 9  # 10 won − 1 reopened, 10 lost − 1 restored
    rebuild_model()
    assert samples() == incremental_samples
    assert dict(ModelSample.objects.values_list("lead_id", "features")) == stored  # tokens in one order
    assert frequencies() == incremental


def test_a_value_with_a_colon_is_counted_whole(actors, pipeline):
    lead = make_lead(country="VN", state="Khu: A", team=actors.north, stage=pipeline["new"])
    lose(lead)
    state = dict(samples())[lead.pk][2]["state"]
    assert len(state) == 1 and ":" in state[0]
    incremental = frequencies()
    assert (actors.north.pk, "state", state[0], 0, 1) in incremental
    rebuild_model()
    assert frequencies() == incremental


def test_the_models_bulk_scorer_adds_what_the_explanation_adds(actors, pipeline):
    _history(actors, pipeline, won_country="VN", lost_country="FR")
    lose(make_lead(country="US", team=actors.south, stage=pipeline["qualified"]))
    model = load_model()
    variables = ["stage", "country", "tags"]
    log_odds = model.scorer(variables)
    cases = [
        (actors.north.pk, {"country": ["VN"], "stage": [str(pipeline["new"].pk)]}),
        (actors.north.pk, {"country": ["FR"], "tags": ["999"], "language": ["vi"]}),
        (actors.south.pk, {"country": ["US"]}),  # a history of losses only: no prediction
        (0, {"country": ["VN"]}),  # no team: every team's history
    ]
    results = [model.factors(team_key, features, variables) for team_key, features in cases]
    assert [result is None for result in results] == [False, False, True, False]
    for (team_key, features), result in zip(cases, results, strict=True):
        assert log_odds(team_key, features) == (None if result is None else result[0])


def test_won_records_teach_every_stage_lost_ones_the_stages_they_reached(actors, pipeline):
    won = make_lead(stage=pipeline["new"], team=actors.north)
    lost = make_lead(stage=pipeline["new"], team=actors.north)
    update_lead(actor=actors.admin, lead=won, values={"stage": pipeline["won"]})
    lose(lost)
    by_lead = samples()
    stage_ids = lambda *names: sorted(str(pipeline[n].pk) for n in names)  # noqa: E731
    assert sorted(by_lead[won.pk][2]["stage"]) == stage_ids("new", "qualified")
    assert by_lead[lost.pk][2]["stage"] == stage_ids("new")


def _history(actors, pipeline, *, won_country: str, lost_country: str, n: int = 6) -> None:
    for _ in range(n):
        update_lead(
            actor=actors.admin,
            lead=make_lead(country=won_country, team=actors.north, stage=pipeline["new"]),
            values={"stage": pipeline["won"]},
        )
        lose(make_lead(country=lost_country, team=actors.north, stage=pipeline["new"]))


def test_open_records_get_a_probability_that_follows_history(actors, pipeline):
    _history(actors, pipeline, won_country="VN", lost_country="FR")
    hanoi = make_lead(country="VN", team=actors.north, stage=pipeline["new"])
    paris = make_lead(country="FR", team=actors.north, stage=pipeline["new"])
    result = predict_leads()
    assert result.changed >= 2
    hanoi.refresh_from_db()
    paris.refresh_from_db()
    assert hanoi.automated_probability > 80 > 20 > paris.automated_probability
    assert predict_leads().changed == 0  # idempotent: nothing new to write


def test_explanation_names_the_factors_that_raised_and_lowered_it(actors, pipeline):
    _history(actors, pipeline, won_country="VN", lost_country="FR")
    paris = make_lead(country="FR", team=actors.north, stage=pipeline["new"])
    with translation.override("en"):
        explanation = explain_prediction(paris)
        france = country("FR").name
    assert explanation.probability is not None and explanation.probability < 20
    assert explanation.lowered[0].label == "Country"
    assert explanation.lowered[0].value == france == "France"
    assert all(f.weight > 0 for f in explanation.raised)
    assert explanation.samples == 12


def test_without_history_there_is_no_prediction(actors, pipeline):
    lead = make_lead(country="VN")
    assert explain_prediction(lead).probability is None
    predict_leads()
    lead.refresh_from_db()
    assert lead.automated_probability is None


def test_probability_follows_the_prediction_when_the_setting_says_so(actors, pipeline):
    _history(actors, pipeline, won_country="VN", lost_country="FR")
    auto = make_lead(country="VN", team=actors.north, stage=pipeline["new"], probability=10)
    manual = make_lead(
        country="VN", team=actors.north, stage=pipeline["new"], probability=10, auto_probability=False
    )
    predict_leads()
    auto.refresh_from_db()
    assert auto.probability == Decimal(10)  # off by default: the stage's probability stays
    settings = PheuSettings.load()
    settings.probability_follows_prediction = True
    settings.save()
    predict_leads()
    auto.refresh_from_db()
    manual.refresh_from_db()
    assert auto.probability == auto.automated_probability > 80
    assert manual.probability == Decimal(10)


def test_the_chosen_variables_are_the_only_ones_used(actors, pipeline):
    _history(actors, pipeline, won_country="VN", lost_country="FR")
    settings = PheuSettings.load()
    settings.predictive_fields = ["source"]
    settings.save()
    paris = make_lead(country="FR", team=actors.north, stage=pipeline["new"])
    explanation = explain_prediction(paris)
    assert explanation.probability == Decimal("50.00")
    assert explanation.raised == explanation.lowered == ()


def test_rebuild_measures_how_well_the_model_separates(actors, pipeline):
    _history(actors, pipeline, won_country="VN", lost_country="FR", n=10)
    result = rebuild_model()
    assert (result.samples, result.won, result.lost) == (20, 10, 10)
    assert result.auc_samples == 4
    assert result.auc == 1.0


def test_auc():
    assert auc([(0.9, True), (0.1, False)]) == 1.0
    assert auc([(0.1, True), (0.9, False)]) == 0.0
    assert auc([(0.5, True), (0.5, False)]) == 0.5
    assert auc([(0.8, True), (0.4, True), (0.6, False), (0.2, False)]) == 0.75
    assert auc([(0.3, True)]) is None


def test_without_a_history_the_periodic_prediction_reads_no_records(django_assert_max_num_queries):
    make_lead(country="VN")
    with django_assert_max_num_queries(2):  # the model's tables; not a record's features
        result = predict_leads(only_missing=True)
    assert (result.checked, result.changed) == (0, 0)


def test_refreshing_the_records_named_by_another_tables_rows_reads_their_lead_ids():
    from pheu.scoring.models import PageView, ScoringRule

    for _ in range(3):
        make_lead()  # so that the page view's own id is not its lead's
    lead = make_lead(country="VN", won_status=WonStatus.WON, closed_at=timezone.now())
    view = PageView.objects.create(lead=lead, url="/pricing", url_key="/pricing")
    assert view.pk != lead.pk
    ScoringRule.objects.create(name="VN", domain="[['country_id', 'in', ['Vietnam']]]", points=5)
    refresh_leads(lead_ids=PageView.objects.filter(pk=view.pk).values("lead_id"), outcome_may_change=True)
    assert ModelSample.objects.filter(lead=lead).exists()


# --- a record being created ---------------------------------------------------------------------------
@pytest.fixture
def recent_model(monkeypatch):
    """The process's copy of the model, checked just now (tests run inside a transaction, where
    load_model does not keep one)."""
    import time

    from pheu.scoring.services import prediction

    def keep() -> None:
        monkeypatch.setattr(prediction, "_MODEL", load_model())
        monkeypatch.setattr(prediction, "_checked_at", time.monotonic())

    return keep


def test_a_record_is_predicted_as_it_is_created_as_the_periodic_job_would(actors, pipeline, recent_model):
    from pheu.leads.services import create_lead
    from pheu.scoring.services.prediction import features_of, features_of_unsaved

    _history(actors, pipeline, won_country="VN", lost_country="FR")
    settings = PheuSettings.load()
    settings.predictive_fields = [*(PheuSettings().predictive_fields or []), "language", "tags"]
    settings.save()
    recent_model()
    vip, web = make_tag("VIP"), make_tag("Web")
    kinds = [
        {"country": country("VN"), "stage": pipeline["new"], "team": actors.north},
        {"country": country("FR"), "email": "khong-hop-le", "phone": "123", "state": "Île-de-France"},
        {"email": "lan@example.vn", "phone": "0912345678", "language": "VI", "source": make_source("Web")},
        {"country": country("VN"), "mobile": "0987654321", "team": actors.north},
    ]
    created = []
    for index, values in enumerate(kinds):
        tags = [web, vip] if index % 2 else []
        lead = create_lead(  # as the web form does, keeping an invalid e-mail or phone as typed
            actor=actors.admin, values={"name": f"Lead {index}", **values}, tags=tags, check_contacts=False
        )
        stored = features_of([lead.pk], closed_only=False)[lead.pk].features
        assert features_of_unsaved(lead, tags) == stored, values
        created.append(lead)

    assert all(lead.automated_probability is not None for lead in created)
    assert Lead.objects.get(pk=created[0].pk).automated_probability == created[0].automated_probability
    assert created[0].automated_probability > 80 > 20 > created[1].automated_probability
    assert predict_leads(lead_ids=[lead.pk for lead in created]).changed == 0  # what the job would write


def test_without_a_recent_model_a_new_record_is_predicted_after_its_commit(
    actors, pipeline, django_capture_on_commit_callbacks
):
    from pheu.leads.services import create_lead

    _history(actors, pipeline, won_country="VN", lost_country="FR")
    with django_capture_on_commit_callbacks(execute=True):
        lead = create_lead(actor=actors.admin, values={"name": "Hà Nội", "country": country("VN")})
    assert lead.automated_probability is None  # not known at its insert
    lead.refresh_from_db()
    assert lead.automated_probability > 80
