from __future__ import annotations

from decimal import Decimal

import pytest

from pheu.core.history import history_of
from pheu.core.models import HistoryKind, PheuSettings
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.exceptions import LeadError
from pheu.leads.models import Lead
from pheu.leads.services import create_lead, update_lead
from pheu.testing import make_stage

pytestmark = pytest.mark.django_db


def test_create_lead_defaults_to_the_creator_and_their_team(actors):
    lead = create_lead(
        actor=actors.sales1, values={"name": "Cần báo giá máy lọc nước", "email": " An@Example.COM "}
    )
    assert lead.user == actors.sales1
    assert lead.team == actors.north
    assert lead.type == LeadType.LEAD
    assert lead.email_normalized == "an@example.com"
    assert [e.kind for e in history_of(lead)] == [HistoryKind.CREATED]


def test_create_lead_normalises_vietnamese_phone_formats(actors):
    for raw in ("0912 345 678", "+84 912345678", "84912345678"):
        lead = create_lead(actor=actors.sales1, values={"name": raw, "phone": raw})
        assert lead.phone_e164 == "+84912345678"


def test_create_lead_refuses_bad_email_and_phone_and_saves_nothing(actors):
    with pytest.raises(LeadError) as err:
        create_lead(actor=actors.sales1, values={"name": "X", "email": "not-an-email", "phone": "12"})
    assert set(err.value.field_errors) == {"email", "phone"}
    assert not Lead.objects.exists()


def test_create_lead_requires_a_name(actors):
    with pytest.raises(LeadError) as err:
        create_lead(actor=actors.sales1, values={"name": "   "})
    assert "name" in err.value.field_errors


def test_without_leads_everything_enters_as_an_opportunity_in_the_first_stage(actors):
    PheuSettings.objects.update_or_create(pk=1, defaults={"use_leads": False})
    make_stage("Qualified", sequence=2, probability=30)
    new = make_stage("New", sequence=1, probability=10)
    lead = create_lead(actor=actors.sales1, values={"name": "Deal"})
    assert lead.type == LeadType.OPPORTUNITY
    assert lead.stage == new
    assert lead.probability == Decimal(10)
    assert lead.converted_at is not None


def test_salesperson_cannot_give_a_lead_to_a_colleague(actors):
    lead = create_lead(actor=actors.sales1, values={"name": "Mine"})
    with pytest.raises(LeadError) as err:
        update_lead(actor=actors.sales1, lead=lead, values={"user": actors.sales2})
    assert "user" in err.value.field_errors
    lead.refresh_from_db()
    assert lead.user == actors.sales1


def test_manager_reassigns_and_history_records_who_and_what(actors):
    lead = create_lead(actor=actors.sales1, values={"name": "Mine"})
    update_lead(actor=actors.manager, lead=lead, values={"user": actors.sales2})
    change = history_of(lead).filter(kind=HistoryKind.CHANGE).get()
    assert change.author == actors.manager
    assert change.changes == [
        {
            "field": "user",
            "old": "Nguyễn An",
            "new": "Lê Bình",
            "old_id": actors.sales1.pk,
            "new_id": actors.sales2.pk,
        }
    ]


def test_stage_with_required_fields_refuses_entry_until_they_are_filled(actors):
    new = make_stage("New", sequence=1, probability=10)
    qualified = make_stage(
        "Qualified", sequence=2, probability=30, required_fields=["expected_revenue", "expected_close_date"]
    )
    lead = create_lead(actor=actors.sales1, values={"name": "Deal", "type": "opportunity", "stage": new})
    with pytest.raises(LeadError) as err:
        update_lead(actor=actors.sales1, lead=lead, values={"stage": qualified})
    assert {"stage", "expected_revenue", "expected_close_date"} <= set(err.value.field_errors)
    lead.refresh_from_db()
    assert lead.stage == new
    import datetime

    lead = update_lead(
        actor=actors.sales1,
        lead=lead,
        values={
            "stage": qualified,
            "expected_revenue": Decimal("150000000"),
            "expected_close_date": datetime.date(2026, 12, 31),
        },
    )
    assert lead.stage == qualified
    assert lead.probability == Decimal(30)


def test_won_stage_marks_the_record_won(actors):
    make_stage("New", sequence=1)
    won = make_stage("Won", sequence=9, probability=100, is_won=True)
    lead = create_lead(actor=actors.sales1, values={"name": "Deal", "type": "opportunity"})
    lead = update_lead(actor=actors.sales1, lead=lead, values={"stage": won})
    assert lead.won_status == WonStatus.WON
    assert lead.probability == 100
    assert lead.closed_at is not None


def test_search_is_accent_insensitive_and_matches_phone_digits(actors):
    create_lead(
        actor=actors.sales1,
        values={"name": "Nguyễn Thị Hương", "company_name": "Công ty Đại Việt", "phone": "0912 345 678"},
    )
    assert Lead.objects.search("nguyen huong").count() == 1
    assert Lead.objects.search("dai viet").count() == 1
    assert Lead.objects.search("0912345678").count() == 1
    assert Lead.objects.search("+84912345678").count() == 1
    assert Lead.objects.search("tran").count() == 0


def test_create_lead_uses_a_small_constant_number_of_queries(actors, django_assert_max_num_queries):
    create_lead(actor=actors.sales1, values={"name": "warm-up"})  # fills Django's content-type cache
    # settings, membership+team, the scoring rules, insert, history insert, the page views waiting under its
    # e-mail, and the savepoint pair of the transaction
    with django_assert_max_num_queries(8):
        create_lead(
            actor=actors.sales1, values={"name": "Đơn hàng", "email": "a@b.vn", "phone": "0912345678"}
        )
