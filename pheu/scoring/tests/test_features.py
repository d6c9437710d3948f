"""The predictive model's SQL (pheu.scoring.features), written for each database, gives what a computation
in Python on the same records gives: the features per record, those of a whole base, the frequencies.

Runs in the suite on SQLite and on PostgreSQL, so both databases are held to the same result."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from pheu.leads.choices import WonStatus
from pheu.leads.models import Lead, Stage
from pheu.scoring.features import VENDORS, encode_features, features_sql, frequencies_sql
from pheu.scoring.models import Frequency, ModelSample
from pheu.scoring.services.prediction import features_of, rebuild_model
from pheu.testing import make_lead, make_source, make_stage, make_tag, make_team

pytestmark = pytest.mark.django_db

_EMAIL_LIKE = re.compile(r".+@.+\..+", re.DOTALL)  # SQL: LIKE '%_@_%._%'


def expected_tokens(lead: Lead, stages: list[Stage]) -> list[str]:
    """The features of ``lead`` computed in Python from its row, in the stored order."""
    tokens: list[str] = []
    if lead.won_status != WonStatus.OPEN:
        reached = lead.stage.sequence if lead.stage is not None else None
        passed = [
            s
            for s in stages
            if s.team_id in (None, lead.team_id)
            and not s.is_won
            and (lead.won_status == WonStatus.WON or (reached is not None and s.sequence <= reached))
        ]
        tokens += [f"stage:{s.pk}" for s in sorted(passed, key=lambda s: s.pk)]
    elif lead.stage_id:
        tokens.append(f"stage:{lead.stage_id}")
    if lead.country_id:
        tokens.append(f"country:{lead.country_id}")
    if lead.state_key:
        tokens.append(f"state:{lead.state_key}")
    if lead.source_id:
        tokens.append(f"source:{lead.source_id}")
    if lead.language:
        tokens.append(f"language:{lead.language.lower()}")
    email = lead.email_normalized
    tokens.append(
        f"email_quality:{'none' if not email else 'valid' if _EMAIL_LIKE.fullmatch(email) else 'invalid'}"
    )
    phone = (
        "none"
        if not lead.phone and not lead.mobile
        else "valid"
        if lead.phone_e164 or lead.mobile_e164
        else "invalid"
    )
    tokens.append(f"phone_quality:{phone}")
    tokens += [f"tags:{pk}" for pk in sorted(lead.tags.values_list("pk", flat=True))]
    return tokens


@pytest.fixture
def base():
    north, south = make_team("North"), make_team("South")
    new, qualified = make_stage("New", sequence=1), make_stage("Qualified", sequence=2)
    north_demo = make_stage("Demo (North)", sequence=3, team=north)
    south_first = make_stage("First call (South)", sequence=1, team=south)
    won = make_stage("Won", sequence=9, is_won=True)
    vip, hot, cold = make_tag("VIP"), make_tag("Hot"), make_tag("Cold")
    web = make_source("Website")
    closed: dict[str, Any] = {"active": False, "probability": 0}
    contact = {"country": "VN", "state": "Hà Nội", "email": "a@b.vn", "phone": "0912 345 678"}
    leads = [
        make_lead("Won, North", team=north, stage=won, won_status=WonStatus.WON, tags=[hot, vip],
                  source=web, language="VI", **contact),
        make_lead("Lost at Qualified, North", team=north, stage=qualified, won_status=WonStatus.LOST,
                  mobile="12", **closed),
        make_lead("Lost at the North demo", team=north, stage=north_demo, won_status=WonStatus.LOST,
                  **closed),
        make_lead("Lost, no stage", team=south, won_status=WonStatus.LOST, state="Khu: A", **closed),
        make_lead("Won, no team", stage=won, won_status=WonStatus.WON, tags=[cold]),
        make_lead("Won, South", team=south, stage=won, won_status=WonStatus.WON, language="en"),
        make_lead("Lost at the South's first call", team=south, stage=south_first, won_status=WonStatus.LOST,
                  email="not an address", **closed),
        make_lead("Open at New", team=north, stage=new, tags=[vip], email="x@y.com", source=web),
        make_lead("Open, nothing", phone="abc"),
    ]  # fmt: skip
    merged_away = make_lead("Won, merged away", team=north, stage=won, won_status=WonStatus.WON)
    Lead.objects.filter(pk=merged_away.pk).update(active=False, merged_into=leads[0])
    return [*leads, Lead.objects.get(pk=merged_away.pk)]


def test_both_databases_have_the_features_sql():
    for vendor in VENDORS:
        assert features_sql(vendor).expression and features_sql(vendor, whole_base=True).with_clause
        assert frequencies_sql(vendor).startswith(("INSERT", "WITH"))
    with pytest.raises(NotImplementedError):
        features_sql("oracle")


def test_the_features_of_each_record_are_those_python_computes(base):
    stages = list(Stage.objects.all())
    found = features_of([lead.pk for lead in base], closed_only=False)
    assert {pk: encode_features(sample.features) for pk, sample in found.items()} == {
        lead.pk: expected_tokens(lead, stages) for lead in base
    }
    closed = features_of([lead.pk for lead in base], closed_only=True)
    assert set(closed) == {
        lead.pk for lead in base if lead.won_status != WonStatus.OPEN and not lead.merged_into_id
    }


def test_a_rebuild_stores_the_features_and_frequencies_python_computes(base):
    stages = list(Stage.objects.all())
    closed = [lead for lead in base if lead.won_status != WonStatus.OPEN and lead.merged_into_id is None]

    rebuild_model()

    stored = {row.lead_id: (row.team_key, row.won, list(row.features)) for row in ModelSample.objects.all()}
    assert stored == {
        lead.pk: (lead.team_id or 0, lead.won_status == WonStatus.WON, expected_tokens(lead, stages))
        for lead in closed
    }
    counts: Counter[tuple[int, str, str, bool]] = Counter()
    for lead in closed:
        won = lead.won_status == WonStatus.WON
        counts[(lead.team_id or 0, "", "", won)] += 1
        for token in expected_tokens(lead, stages):
            variable, _sep, value = token.partition(":")
            counts[(lead.team_id or 0, variable, value, won)] += 1
    expected = {
        (team, variable, value, counts[(team, variable, value, True)], counts[(team, variable, value, False)])
        for team, variable, value, _won in counts
    }
    assert set(Frequency.objects.values_list("team_key", "variable", "value", "won", "lost")) == expected
