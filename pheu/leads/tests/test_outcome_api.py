"""``POST /api/v1/leads/{id}/won/``, ``lost/`` and ``restore/``."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.models import Lead, LostReason
from pheu.testing import make_lead, make_lost_reason, make_stage

pytestmark = pytest.mark.django_db


def url(name: str, lead: Lead) -> str:
    return reverse(f"api:lead-{name}", args=[lead.pk])


@pytest.fixture
def deal(actors):
    make_stage("New", sequence=1, probability=10)
    stage = make_stage("Proposal", sequence=2, probability=60)
    make_stage("Won", sequence=9, probability=100, is_won=True)
    return make_lead(
        "Deal", type=LeadType.OPPORTUNITY, team=actors.north, user=actors.sales1, stage=stage, probability=60
    )


def test_won_answers_with_the_won_record(actors, api_client, deal):
    response = api_client(actors.sales1).post(url("won", deal))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["won_status"], body["probability"]) == (deal.pk, "won", "100.00")
    assert body["closed_at"] is not None
    assert Lead.objects.get(pk=deal.pk).stage.name == "Won"


def test_lost_with_reason_and_note_then_restore(actors, api_client, deal):
    reason = make_lost_reason("Giá quá cao")
    client = api_client(actors.sales1)
    response = client.post(
        url("lost", deal), {"lost_reason": reason.pk, "note": "Đã mua nơi khác"}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["won_status"], body["active"], body["lost_reason"], body["probability"]) == (
        "lost",
        False,
        reason.pk,
        "0.00",
    )
    assert history_of(deal).get(kind=HistoryKind.CHANGE).body == "Đã mua nơi khác"

    response = client.post(url("restore", deal))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["won_status"], body["active"], body["lost_reason"], body["probability"]) == (
        "open",
        True,
        None,
        "60.00",
    )


def test_lost_with_an_unknown_or_archived_reason_is_a_400_and_changes_nothing(actors, api_client, deal):
    archived = LostReason.objects.create(name="Cũ", active=False)
    client = api_client(actors.sales1)
    for reason_id in (999999, archived.pk):
        response = client.post(url("lost", deal), {"lost_reason": reason_id}, format="json")
        assert response.status_code == 400
        assert "lost_reason" in response.json()
    assert Lead.objects.get(pk=deal.pk).won_status == WonStatus.OPEN


def test_restore_of_an_open_record_is_a_400(actors, api_client, deal):
    response = api_client(actors.sales1).post(url("restore", deal))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("name", ["won", "lost", "restore"])
def test_a_record_the_user_may_not_see_is_a_404(actors, api_client, deal, name):
    Lead.objects.filter(pk=deal.pk).update(user=actors.sales2)
    response = api_client(actors.sales1).post(url(name, deal), {}, format="json")
    assert response.status_code == 404
    assert Lead.objects.get(pk=deal.pk).won_status == WonStatus.OPEN


def test_anonymous_is_refused(api_client, deal):
    assert api_client().post(url("won", deal)).status_code in (401, 403)
    assert Lead.objects.get(pk=deal.pk).probability == Decimal(60)


def test_the_api_refuses_a_stage_with_missing_required_fields(actors, api_client, deal):
    qualified = make_stage("Qualified", sequence=3, probability=30, required_fields=["expected_close_date"])
    response = api_client(actors.sales1).patch(
        reverse("api:lead-detail", args=[deal.pk]), {"stage": qualified.pk}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {"stage", "expected_close_date"}
