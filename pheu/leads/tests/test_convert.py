"""Conversion of a lead into an opportunity (SPEC section 6)."""

from __future__ import annotations

import pytest
from django.utils import translation

from pheu.contacts.models import Partner
from pheu.core.exceptions import PermissionDeniedError
from pheu.core.history import history_of
from pheu.core.models import HistoryKind
from pheu.leads.choices import LeadType
from pheu.leads.models import Lead
from pheu.leads.services.convert import ConvertError, convert_lead
from pheu.testing import make_lead, make_partner, make_stage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    """Messages are asserted in English (the source language; the default UI language is Vietnamese)."""
    with translation.override("en"):
        yield


def test_convert_creates_company_and_contact_and_enters_the_first_stage_of_the_team(actors):
    make_stage("Shared later", sequence=20)
    first = make_stage("Mới", sequence=1, team=actors.north, probability=15)
    lead = make_lead(
        "Cần 200 máy lọc nước",
        contact_name="Nguyễn Văn An",
        company_name="Công ty Thép Việt",
        email="an@thepviet.vn",
        phone="0912 345 678",
        city="Hà Nội",
        job_title="Giám đốc",
        user=actors.sales1,
        team=actors.north,
    )
    result = convert_lead(actor=actors.sales1, lead=lead, customer="create")
    assert result.pk == lead.pk
    lead = Lead.objects.get(pk=lead.pk)
    assert lead.type == LeadType.OPPORTUNITY and lead.converted_at is not None
    assert (lead.stage, lead.probability, lead.team, lead.user) == (first, 15, actors.north, actors.sales1)
    person = lead.partner
    assert (person.name, person.email, person.job_title, person.city) == (
        "Nguyễn Văn An",
        "an@thepviet.vn",
        "Giám đốc",
        "Hà Nội",
    )
    assert person.parent.name == "Công ty Thép Việt" and person.parent.is_company
    entry = history_of(lead).first()
    assert entry.kind == HistoryKind.CHANGE and "Converted" in entry.body
    assert {"field": "type", "old": "lead", "new": "opportunity"}.items() <= entry.changes[0].items()


def test_convert_a_company_only_lead_creates_the_company(actors):
    lead = make_lead("X", company_name="Thép Việt", email="info@thepviet.vn", user=actors.sales1)
    convert_lead(actor=actors.sales1, lead=lead, customer="create")
    partner = Lead.objects.get(pk=lead.pk).partner
    assert (partner.name, partner.is_company, partner.email) == ("Thép Việt", True, "info@thepviet.vn")


def test_convert_links_an_existing_customer_or_none(actors):
    customer = make_partner("Thép Việt", is_company=True)
    linked = convert_lead(actor=actors.manager, lead=make_lead("A"), customer="link", partner=customer)
    assert linked.partner == customer
    plain = convert_lead(actor=actors.manager, lead=make_lead("B"), customer="none")
    assert plain.partner is None and Partner.objects.count() == 1


def test_convert_defaults_to_the_current_user_and_their_team(actors):
    lead = make_lead("Unassigned of the team", team=actors.south)
    result = convert_lead(actor=actors.sales3, lead=lead)
    assert (result.user, result.team) == (actors.sales3, actors.south)
    no_team = convert_lead(actor=None, lead=make_lead("Nobody's"))
    assert (no_team.user, no_team.team) == (None, None)


def test_convert_to_another_team_and_salesperson(actors):
    lead = make_lead("A", user=actors.sales1, team=actors.north)
    result = convert_lead(actor=actors.manager, lead=lead, team=actors.south, user=actors.sales3)
    assert (result.user, result.team) == (actors.sales3, actors.south)
    assert result.assigned_at is not None


def test_convert_and_merge_the_duplicates(actors):
    lead = make_lead("A", email="an@thepviet.vn", user=actors.sales1)
    dup = make_lead("B", email="an@thepviet.vn", phone="0912 345 678", user=actors.sales1)
    result = convert_lead(actor=actors.sales1, lead=lead, merge=[dup])
    assert result.pk == lead.pk and result.type == LeadType.OPPORTUNITY
    dup.refresh_from_db()
    assert (dup.active, dup.merged_into_id) == (False, lead.pk)
    assert Lead.objects.get(pk=lead.pk).phone == "0912 345 678"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"customer": "link"}, "partner"),
        ({"customer": "bogus"}, "customer"),
        ({"customer": "create"}, "customer"),  # neither company nor contact name
        ({"user": "sales3"}, "user"),  # a salesperson may not give it to someone else
    ],
)
def test_convert_refusals_change_nothing(actors, kwargs, field):
    lead = make_lead("A", user=actors.sales1, team=actors.north)
    if kwargs.get("user"):
        kwargs["user"] = actors.by_name(kwargs["user"])
    with pytest.raises(ConvertError) as err:
        convert_lead(actor=actors.sales1, lead=lead, **kwargs)
    assert field in err.value.field_errors
    lead.refresh_from_db()
    assert lead.type == LeadType.LEAD and lead.converted_at is None and not Partner.objects.exists()


def test_convert_refuses_an_opportunity_a_merged_away_record_and_one_the_user_cannot_edit(actors):
    opp = make_lead("Opp", type=LeadType.OPPORTUNITY)
    with pytest.raises(ConvertError) as err:
        convert_lead(actor=actors.manager, lead=opp)
    assert err.value.code == ConvertError.Code.ALREADY_CONVERTED
    theirs = make_lead("Theirs", user=actors.sales3, team=actors.south)
    with pytest.raises(PermissionDeniedError):
        convert_lead(actor=actors.sales1, lead=theirs)
    assert Lead.objects.get(pk=theirs.pk).type == LeadType.LEAD
    survivor = make_lead("Survivor")
    merged_away = make_lead("Merged away", active=False, merged_into=survivor)
    with pytest.raises(ConvertError) as err:
        convert_lead(actor=actors.manager, lead=merged_away)
    assert err.value.code == ConvertError.Code.MERGED_AWAY
    assert Lead.objects.get(pk=merged_away.pk).type == LeadType.LEAD


@pytest.mark.parametrize("status", ["lost", "won"])
def test_convert_refuses_a_lost_or_won_lead_and_changes_nothing(actors, status):
    lead = make_lead(
        "Closed", user=actors.sales1, team=actors.north, won_status=status, active=status != "lost"
    )
    with pytest.raises(ConvertError) as err:
        convert_lead(actor=actors.sales1, lead=lead)
    assert err.value.code == ConvertError.Code.CLOSED and "lead" in err.value.field_errors
    lead.refresh_from_db()
    assert (lead.type, lead.converted_at, lead.won_status) == (LeadType.LEAD, None, status)


def test_convert_with_merge_keeps_the_record_created_first_and_converts_it(actors):
    first = make_stage("Mới", sequence=1, team=actors.north)
    older = make_lead("Older", email="an@thepviet.vn", user=actors.sales1, team=actors.north)
    newer = make_lead("Newer", email="an@thepviet.vn", phone="0912 345 678", user=actors.sales1)
    result = convert_lead(actor=actors.sales1, lead=newer, merge=[older])
    assert result.pk == older.pk
    older.refresh_from_db()
    newer.refresh_from_db()
    assert (older.type, older.active, older.stage, older.phone) == (
        LeadType.OPPORTUNITY,
        True,
        first,
        "0912 345 678",
    )
    assert older.converted_at is not None
    assert (newer.active, newer.merged_into_id, newer.type) == (False, older.pk, LeadType.LEAD)


def test_convert_with_merge_into_an_existing_opportunity_keeps_its_stage(actors):
    won_later = make_stage("Proposal", sequence=5, team=actors.north, probability=60)
    opp = make_lead(
        "Opp", type=LeadType.OPPORTUNITY, email="an@thepviet.vn", stage=won_later, probability=60,
        user=actors.sales1, team=actors.north,
    )  # fmt: skip
    lead = make_lead("Lead", email="an@thepviet.vn", user=actors.sales1, team=actors.north)
    partner = make_partner("Thép Việt")
    result = convert_lead(actor=actors.sales1, lead=lead, merge=[opp], customer="link", partner=partner)
    assert result.pk == opp.pk
    opp.refresh_from_db()
    assert (opp.type, opp.stage, opp.probability, opp.partner) == (
        LeadType.OPPORTUNITY,
        won_later,
        60,
        partner,
    )
    assert Lead.objects.get(pk=lead.pk).merged_into_id == opp.pk
    assert "converted into this opportunity" in history_of(opp).first().body
