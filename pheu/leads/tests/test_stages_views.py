"""The configuration pages of the pipeline: stages and lost reasons, for managers only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from pheu.core.exceptions import PermissionDeniedError
from pheu.leads.exceptions import LeadError
from pheu.leads.models import LostReason, Stage
from pheu.leads.services.pipeline import create_lost_reason, reorder_stages, update_lost_reason
from pheu.testing import make_stage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "url", ["leads:stage_list", "leads:stage_create", "leads:lost_reason_list", "leads:lost_reason_create"]
)
def test_salespeople_and_leaders_may_not_open_the_configuration(client, actors, url):
    for person in (actors.sales1, actors.leader):
        client.force_login(person)
        assert client.get(reverse(url)).status_code == 403


def test_manager_creates_a_team_stage_with_required_fields(client, english):
    client.force_login(english.manager)
    response = client.post(
        reverse("leads:stage_create"),
        {
            "name": "Đàm phán",
            "team": english.north.pk,
            "sequence": 30,
            "probability": "70",
            "rotting_days": "10",
            "required_fields": ["expected_revenue", "expected_close_date"],
            "requirements": "Gửi báo giá trước.",
        },
    )
    assert response.status_code == 302
    stage = Stage.objects.get(name="Đàm phán")
    assert (stage.team, stage.probability, stage.rotting_days, stage.required_fields) == (
        english.north,
        Decimal(70),
        10,
        ["expected_revenue", "expected_close_date"],
    )
    assert "Đàm phán" in client.get(reverse("leads:stage_list")).content.decode()


def test_stage_form_refuses_a_bad_probability_and_saves_nothing(client, english):
    client.force_login(english.manager)
    response = client.post(reverse("leads:stage_create"), {"name": "X", "sequence": 1, "probability": "120"})
    assert response.status_code == 200
    assert response.context["form"].errors["probability"]
    assert not Stage.objects.exists()


def test_manager_edits_a_stage(client, english):
    stage = make_stage("New", probability=10)
    client.force_login(english.manager)
    client.post(
        reverse("leads:stage_edit", args=[stage.pk]),
        {"name": "Mới", "sequence": 5, "probability": "15", "folded": "on"},
    )
    stage.refresh_from_db()
    assert (stage.name, stage.probability, stage.folded, stage.team) == ("Mới", Decimal(15), True, None)


def test_reorder_stages_by_drag_and_drop(client, actors):
    a, b, c = make_stage("A", sequence=1), make_stage("B", sequence=2), make_stage("C", sequence=3)
    client.force_login(actors.manager)
    response = client.post(reverse("leads:stage_reorder"), {"stages": [c.pk, a.pk, b.pk]})
    assert response.status_code == 204
    assert list(Stage.objects.order_by("sequence").values_list("name", flat=True)) == ["C", "A", "B"]
    response = client.post(reverse("leads:stage_reorder"), {"stages": [c.pk, 999999]})
    assert response.status_code == 422
    assert list(Stage.objects.order_by("sequence").values_list("name", flat=True)) == ["C", "A", "B"]


def test_reorder_is_for_managers(actors):
    a = make_stage("A", sequence=1)
    with pytest.raises(PermissionDeniedError):
        reorder_stages(actor=actors.sales1, stage_ids=[a.pk])
    with pytest.raises(LeadError):
        reorder_stages(actor=actors.manager, stage_ids=[a.pk, a.pk])


def test_lost_reasons_are_unique_whatever_the_case(actors):
    reason = create_lost_reason(actor=actors.manager, values={"name": " Giá cao "})
    assert reason.name == "Giá cao"
    with pytest.raises(LeadError) as err:
        create_lost_reason(actor=actors.manager, values={"name": "giá cao"})
    assert list(err.value.field_errors) == ["name"]
    update_lost_reason(actor=actors.manager, lost_reason=reason, values={"active": False})
    assert LostReason.objects.get().active is False
    with pytest.raises(PermissionDeniedError):
        create_lost_reason(actor=actors.sales1, values={"name": "Other"})


def test_manager_manages_lost_reasons_on_pages(client, english):
    client.force_login(english.manager)
    assert (
        client.post(reverse("leads:lost_reason_create"), {"name": "Chọn đối thủ", "active": "on"}).status_code
        == 302
    )
    reason = LostReason.objects.get()
    client.post(reverse("leads:lost_reason_edit", args=[reason.pk]), {"name": "Chose a competitor"})
    reason.refresh_from_db()
    assert (reason.name, reason.active) == ("Chose a competitor", False)
    assert "Chose a competitor" in client.get(reverse("leads:lost_reason_list")).content.decode()
