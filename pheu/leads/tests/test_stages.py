"""Entering stages: required fields, automatic probability, won stages, stages of other teams, the move."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from pheu.core.exceptions import PermissionDeniedError
from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.exceptions import LeadError
from pheu.leads.models import Lead
from pheu.leads.services import create_lead, update_lead
from pheu.leads.services.outcome import move_lead
from pheu.testing import make_lead, make_stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def stages(actors):
    return {
        "new": make_stage("New", sequence=1, probability=10),
        "qualified": make_stage(
            "Qualified",
            sequence=2,
            probability=30,
            required_fields=["expected_revenue", "expected_close_date"],
        ),
        "proposal": make_stage("Proposal", sequence=3, probability=60),
        "won": make_stage("Won", sequence=9, probability=100, is_won=True),
        "south_only": make_stage("Khảo sát", sequence=4, probability=40, team=actors.south),
    }


def _deal(actors, stages, **kw):
    values = {
        "type": LeadType.OPPORTUNITY,
        "team": actors.north,
        "user": actors.sales1,
        "stage": stages["new"],
    }
    return make_lead("Máy lọc nước cho trường học", **{**values, **kw})


def test_move_to_a_stage_with_missing_required_fields_names_them_and_changes_nothing(actors, stages):
    lead = _deal(actors, stages, probability=Decimal(10))
    with translation.override("en"), pytest.raises(LeadError) as err:
        move_lead(actor=actors.sales1, lead=lead, stage=stages["qualified"])
    assert err.value.code == LeadError.Code.STAGE_REQUIREMENTS
    assert err.value.field_errors["stage"] == [
        "Fill in expected revenue, expected closing before moving to “Qualified”."
    ]
    lead.refresh_from_db()
    assert (lead.stage, lead.probability, lead.stage_changed_at) == (stages["new"], Decimal(10), None)
    assert not history_of(lead).exists()


def test_move_with_required_fields_filled_follows_the_stage_probability(actors, stages):
    lead = _deal(
        actors,
        stages,
        expected_revenue=Decimal("200000000"),
        expected_close_date=datetime.date(2026, 6, 30),
    )
    move_lead(actor=actors.sales1, lead=lead, stage=stages["qualified"])
    lead.refresh_from_db()
    assert (lead.stage, lead.probability) == (stages["qualified"], Decimal(30))
    assert lead.stage_changed_at is not None
    change = history_of(lead).get(kind=HistoryKind.CHANGE)
    assert [c["field"] for c in change.changes] == ["stage", "probability"]
    assert (change.changes[0]["old"], change.changes[0]["new"]) == ("New", "Qualified")


def test_move_without_automatic_probability_keeps_the_salespersons(actors, stages):
    lead = _deal(actors, stages, auto_probability=False, probability=Decimal(55))
    move_lead(actor=actors.sales1, lead=lead, stage=stages["proposal"])
    lead.refresh_from_db()
    assert (lead.stage, lead.probability) == (stages["proposal"], Decimal(55))


def test_setting_the_probability_by_hand_stops_it_following_the_stage(actors, stages):
    lead = create_lead(
        actor=actors.sales1, values={"name": "Deal", "type": LeadType.OPPORTUNITY, "stage": stages["new"]}
    )
    lead = update_lead(actor=actors.sales1, lead=lead, values={"probability": Decimal(25)})
    assert lead.auto_probability is False
    lead = update_lead(actor=actors.sales1, lead=lead, values={"stage": stages["proposal"]})
    assert lead.probability == Decimal(25)


def test_move_to_a_won_stage_marks_the_record_won_and_back_reopens_it(actors, stages):
    lead = _deal(actors, stages)
    move_lead(actor=actors.sales1, lead=lead, stage=stages["won"])
    lead.refresh_from_db()
    assert (lead.won_status, lead.probability) == (WonStatus.WON, Decimal(100))
    assert lead.closed_at is not None
    move_lead(actor=actors.sales1, lead=lead, stage=stages["proposal"])
    lead.refresh_from_db()
    assert (lead.won_status, lead.probability, lead.closed_at) == (WonStatus.OPEN, Decimal(60), None)


def test_a_stage_of_another_team_is_refused(actors, stages):
    lead = _deal(actors, stages)
    with pytest.raises(LeadError) as err:
        move_lead(actor=actors.sales1, lead=lead, stage=stages["south_only"])
    assert list(err.value.field_errors) == ["stage"]
    assert Lead.objects.get(pk=lead.pk).stage == stages["new"]
    with pytest.raises(LeadError):
        create_lead(actor=actors.sales1, values={"name": "X", "stage": stages["south_only"]})


def test_a_salesperson_cannot_move_a_colleagues_record(actors, stages):
    lead = _deal(actors, stages, user=actors.sales2)
    with pytest.raises(PermissionDeniedError):
        move_lead(actor=actors.sales1, lead=lead, stage=stages["proposal"])
    assert Lead.objects.get(pk=lead.pk).stage == stages["new"]
    move_lead(actor=actors.leader, lead=lead, stage=stages["proposal"])
    assert Lead.objects.get(pk=lead.pk).stage == stages["proposal"]
