"""``pheu score``: re-scores every open lead, rebuilds the model on demand, reports counts; errors exit
non-zero naming the cause."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError
from django.utils import translation

from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead
from pheu.scoring.models import ModelState, ScoringRule
from pheu.scoring.services import create_scoring_rule
from pheu.testing import make_lead, set_scores

pytestmark = pytest.mark.django_db

VIETNAM = "[['country.code', '=', 'VN']]"


def run(*args: str, language: str = "en") -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    with translation.override(language):
        call_command("score", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def stale_scores() -> list[Lead]:
    leads = [make_lead(country="VN"), make_lead(country="VN"), make_lead(country="US")]
    create_scoring_rule(actor=None, values={"name": "VN", "domain": VIETNAM, "points": 10})
    set_scores([leads[0]], 0)  # written by a path that skipped scoring
    set_scores([leads[2]], 4)
    return leads


def test_rescoring_prints_checked_and_changed(english):
    leads = stale_scores()
    make_lead(country="VN", won_status=WonStatus.LOST, active=False, score=1)  # closed: kept
    out, _err = run()
    assert out.startswith("Scores: 3 open leads checked, 2 changed (1 active rules) in ")
    assert [Lead.objects.get(pk=lead.pk).score for lead in leads] == [10, 10, 0]
    assert Lead.objects.filter(won_status=WonStatus.LOST).get().score == 1
    assert "Model:" not in out


def test_json_output(english):
    stale_scores()
    out, _err = run("--json")
    data = json.loads(out)
    assert data["scores"]["checked"] == 3 and data["scores"]["changed"] == 2
    assert data["scores"]["rules"] == 1 and data["scores"]["unreadable_rules"] == []
    assert "model" not in data and "predictions" not in data


def test_rebuild_model_prints_samples_and_auc_and_predicts(english):
    for _ in range(5):
        make_lead(country="VN", won_status=WonStatus.WON)
        make_lead(country="US", won_status=WonStatus.LOST, active=False)
    open_lead = make_lead(country="VN")
    out, _err = run("--rebuild-model")
    assert "Model: 10 closed records (5 won, 5 lost); AUC " in out
    assert "Predictions: 1 open records checked, 1 changed" in out
    assert ModelState.load().samples == 10
    assert Lead.objects.get(pk=open_lead.pk).automated_probability is not None

    data = json.loads(run("--rebuild-model", "--json")[0])
    assert (data["model"]["samples"], data["model"]["won"], data["model"]["lost"]) == (10, 5, 5)
    assert data["model"]["auc_samples"] == 2
    assert data["predictions"] == {"checked": 1, "changed": 0, "seconds": data["predictions"]["seconds"]}


def test_unreadable_rules_are_named(english):
    stale_scores()
    ScoringRule.objects.update(domain="[['cuntry', '=', 'VN']]")
    out, err = run()
    assert "The rule “VN” gives no points:" in err and "cuntry" in err
    assert "(0 active rules)" in out


def test_a_database_failure_exits_non_zero_naming_it(english, monkeypatch):
    def broken(**kwargs):
        raise DatabaseError("connection lost")

    monkeypatch.setattr("pheu.scoring.management.commands.score.rescore_open_leads", broken)
    with pytest.raises(CommandError, match="connection lost"):
        run()
