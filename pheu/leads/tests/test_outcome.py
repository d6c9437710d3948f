from __future__ import annotations

from decimal import Decimal

import pytest

from pheu.core.exceptions import PermissionDeniedError
from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.exceptions import LeadError
from pheu.leads.models import Lead, LostReason
from pheu.leads.services.outcome import mark_lost, mark_won, restore_lead
from pheu.testing import make_lead, make_lost_reason, make_stage

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(actors):
    """Shared stages New (10 %) → Qualified (30 %) → Won, and a won stage of the north team."""
    return {
        "new": make_stage("New", sequence=1, probability=10),
        "qualified": make_stage("Qualified", sequence=2, probability=30),
        "won": make_stage("Won", sequence=9, probability=100, is_won=True),
        "north_won": make_stage("Signed", sequence=8, probability=100, is_won=True, team=actors.north),
    }


def _opportunity(actors, pipeline, **kw):
    values = {
        "type": LeadType.OPPORTUNITY,
        "team": actors.north,
        "user": actors.sales1,
        "stage": pipeline["qualified"],
        "probability": Decimal(30),
    }
    return make_lead("Hợp đồng máy lọc nước", **{**values, **kw})


def test_mark_won_puts_the_record_in_its_team_won_stage_with_probability_100(actors, pipeline):
    lead = _opportunity(actors, pipeline)
    won = mark_won(actor=actors.sales1, lead=lead)
    lead.refresh_from_db()
    assert (lead.won_status, lead.probability, lead.stage, lead.active) == (
        WonStatus.WON,
        Decimal(100),
        pipeline["north_won"],
        True,
    )
    assert lead.closed_at is not None and lead.stage_changed_at is not None
    assert won.pk == lead.pk
    change = history_of(lead).get(kind=HistoryKind.CHANGE)
    assert {c["field"] for c in change.changes} == {"stage", "probability", "won_status"}
    assert change.author == actors.sales1


def test_mark_won_uses_a_shared_won_stage_for_a_team_without_one(actors, pipeline):
    lead = _opportunity(actors, pipeline, team=actors.south, user=actors.sales3)
    mark_won(actor=None, lead=lead)
    lead.refresh_from_db()
    assert lead.stage == pipeline["won"]
    assert history_of(lead).get(kind=HistoryKind.CHANGE).author is None


def test_mark_won_without_any_won_stage_keeps_the_stage(actors):
    stage = make_stage("Proposal", probability=50)
    lead = make_lead("Deal", type=LeadType.OPPORTUNITY, team=actors.north, stage=stage)
    mark_won(actor=actors.manager, lead=lead)
    lead.refresh_from_db()
    assert (lead.stage, lead.won_status, lead.probability) == (stage, WonStatus.WON, Decimal(100))


def test_mark_won_twice_changes_nothing_the_second_time(actors, pipeline):
    lead = _opportunity(actors, pipeline)
    mark_won(actor=actors.sales1, lead=lead)
    closed_at = Lead.objects.get(pk=lead.pk).closed_at
    mark_won(actor=actors.sales1, lead=lead)
    assert Lead.objects.get(pk=lead.pk).closed_at == closed_at
    assert history_of(lead).filter(kind=HistoryKind.CHANGE).count() == 1


def test_mark_won_wins_back_a_lost_record(actors, pipeline):
    lead = _opportunity(actors, pipeline)
    mark_lost(actor=actors.sales1, lead=lead, lost_reason=make_lost_reason())
    mark_won(actor=actors.sales1, lead=lead)
    lead.refresh_from_db()
    assert (lead.won_status, lead.active, lead.lost_reason) == (WonStatus.WON, True, None)


def test_mark_lost_closes_with_reason_and_logs_the_note(actors, pipeline):
    lead = _opportunity(actors, pipeline)
    reason = make_lost_reason("Giá quá cao")
    mark_lost(actor=actors.sales1, lead=lead, lost_reason=reason, note="  Khách chọn đối thủ.  ")
    lead.refresh_from_db()
    assert (lead.won_status, lead.probability, lead.active, lead.lost_reason) == (
        WonStatus.LOST,
        Decimal(0),
        False,
        reason,
    )
    assert lead.closed_at is not None
    assert lead.stage == pipeline["qualified"]
    change = history_of(lead).get(kind=HistoryKind.CHANGE)
    assert change.body == "Khách chọn đối thủ."
    assert {c["field"] for c in change.changes} == {"probability", "won_status", "lost_reason", "active"}


def test_mark_lost_refuses_an_archived_reason_and_changes_nothing(actors, pipeline):
    lead = _opportunity(actors, pipeline)
    reason = LostReason.objects.create(name="Old reason", active=False)
    with pytest.raises(LeadError) as err:
        mark_lost(actor=actors.sales1, lead=lead, lost_reason=reason)
    assert list(err.value.field_errors) == ["lost_reason"]
    lead.refresh_from_db()
    assert (lead.won_status, lead.active, lead.probability) == (WonStatus.OPEN, True, Decimal(30))
    assert not history_of(lead).exists()


def test_mark_lost_refuses_a_record_already_lost(actors, pipeline):
    lead = _opportunity(actors, pipeline)
    mark_lost(actor=actors.sales1, lead=lead, lost_reason=None)
    with pytest.raises(LeadError):
        mark_lost(actor=actors.sales1, lead=lead, lost_reason=make_lost_reason())
    assert Lead.objects.get(pk=lead.pk).lost_reason is None


def test_restore_reopens_with_the_stage_probability_when_automatic(actors, pipeline):
    lead = _opportunity(actors, pipeline, auto_probability=True)
    mark_lost(actor=actors.sales1, lead=lead, lost_reason=make_lost_reason())
    restore_lead(actor=actors.sales1, lead=lead)
    lead.refresh_from_db()
    assert (lead.won_status, lead.active, lead.lost_reason, lead.closed_at) == (
        WonStatus.OPEN,
        True,
        None,
        None,
    )
    assert lead.probability == Decimal(30)
    assert history_of(lead).filter(kind=HistoryKind.CHANGE).count() == 2


def test_restore_keeps_a_manual_probability(actors, pipeline):
    lead = _opportunity(actors, pipeline, auto_probability=False, probability=Decimal(45))
    mark_lost(actor=actors.sales1, lead=lead, lost_reason=None)
    restore_lead(actor=actors.sales1, lead=lead)
    lead.refresh_from_db()
    assert (lead.won_status, lead.probability) == (WonStatus.OPEN, Decimal(0))


def test_restore_of_a_record_lost_in_a_won_stage_goes_back_to_an_open_stage(actors, pipeline):
    lead = _opportunity(actors, pipeline)
    mark_won(actor=actors.sales1, lead=lead)
    mark_lost(actor=actors.sales1, lead=lead, lost_reason=None)
    restore_lead(actor=actors.sales1, lead=lead)
    lead.refresh_from_db()
    assert (lead.stage, lead.won_status, lead.probability) == (pipeline["new"], WonStatus.OPEN, Decimal(10))


def test_restore_refuses_an_open_record(actors, pipeline):
    lead = _opportunity(actors, pipeline)
    with pytest.raises(LeadError):
        restore_lead(actor=actors.sales1, lead=lead)
    assert not history_of(lead).exists()


@pytest.mark.parametrize("service", ["won", "lost", "restore"])
def test_a_salesperson_cannot_close_a_colleagues_record(actors, pipeline, service):
    lead = _opportunity(actors, pipeline, user=actors.sales2)
    if service == "restore":
        Lead.objects.filter(pk=lead.pk).update(won_status=WonStatus.LOST, active=False)
    before = Lead.objects.filter(pk=lead.pk).values().get()
    call = {
        "won": lambda: mark_won(actor=actors.sales1, lead=lead),
        "lost": lambda: mark_lost(actor=actors.sales1, lead=lead, lost_reason=None),
        "restore": lambda: restore_lead(actor=actors.sales1, lead=lead),
    }[service]
    with pytest.raises(PermissionDeniedError):
        call()
    assert Lead.objects.filter(pk=lead.pk).values().get() == before
    assert not history_of(lead).exists()


def test_the_team_leader_closes_a_record_of_their_team(actors, pipeline):
    lead = _opportunity(actors, pipeline, user=actors.sales2)
    mark_lost(actor=actors.leader, lead=lead, lost_reason=None)
    assert Lead.objects.get(pk=lead.pk).won_status == WonStatus.LOST


def test_a_merged_away_record_cannot_be_won(actors, pipeline):
    survivor = _opportunity(actors, pipeline)
    merged = _opportunity(actors, pipeline, merged_into=survivor, active=False)
    with pytest.raises(LeadError):
        mark_won(actor=actors.manager, lead=merged)
    assert Lead.objects.get(pk=merged.pk).won_status == WonStatus.OPEN


def test_a_lost_record_keeps_probability_0_when_its_stage_changes_and_a_won_stage_wins_it_back(
    actors, pipeline
):
    from pheu.leads.services import update_lead

    lead = mark_lost(actor=actors.sales1, lead=_opportunity(actors, pipeline), lost_reason=None)
    update_lead(actor=actors.sales1, lead=lead, values={"stage": pipeline["new"]})
    lead.refresh_from_db()
    assert (lead.won_status, lead.probability, lead.active) == (WonStatus.LOST, 0, False)
    update_lead(actor=actors.sales1, lead=lead, values={"stage": pipeline["won"]})
    lead.refresh_from_db()
    assert (lead.won_status, lead.probability, lead.active, lead.lost_reason) == (
        WonStatus.WON,
        100,
        True,
        None,
    )


def test_a_lost_record_is_not_moved_on_the_board(actors, pipeline):
    from pheu.leads.services.outcome import move_lead

    lead = mark_lost(actor=actors.sales1, lead=_opportunity(actors, pipeline), lost_reason=None)
    with pytest.raises(LeadError):
        move_lead(actor=actors.sales1, lead=lead, stage=pipeline["new"])
    assert Lead.objects.get(pk=lead.pk).stage == pipeline["qualified"]


def test_a_merged_away_record_is_not_edited(actors):
    from pheu.leads.services import update_lead
    from pheu.leads.services.merge import merge_leads

    survivor, merged = make_lead("A", user=actors.sales1), make_lead("B", user=actors.sales1)
    merge_leads(actor=actors.sales1, leads=[survivor, merged])
    with pytest.raises(LeadError) as refused:
        update_lead(actor=actors.sales1, lead=Lead.objects.get(pk=merged.pk), values={"city": "Huế"})
    assert "merged_into" in refused.value.field_errors
    assert Lead.objects.get(pk=merged.pk).city == ""
