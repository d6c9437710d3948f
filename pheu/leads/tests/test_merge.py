"""Merge (SPEC section 6): survivor, field precedence, re-linking, refusals — and its exact undo."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.forms.models import model_to_dict
from django.utils import timezone, translation

from pheu.core.exceptions import PermissionDeniedError
from pheu.core.history import history_of
from pheu.core.models import HistoryEntry, HistoryKind
from pheu.core.services import log_entry
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.models import Lead, Merge
from pheu.leads.services.merge import MergeError, _links, merge_leads, merge_warnings, unmerge
from pheu.scoring.models import PageView
from pheu.testing import make_lead, make_lost_reason, make_partner, make_stage, make_tag

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_english():
    """Messages are asserted in English (the source language; the default UI language is Vietnamese)."""
    with translation.override("en"):
        yield


def created(days_ago: int) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days_ago)


def aged(lead: Lead, days_ago: int) -> Lead:
    Lead.objects.filter(pk=lead.pk).update(created_at=created(days_ago))
    lead.refresh_from_db()
    return lead


def fresh(lead: Lead) -> Lead:
    return Lead.objects.get(pk=lead.pk)


# --- survivor -------------------------------------------------------------------------------------------
def test_survivor_active_before_inactive(actors):
    lost = aged(make_lead("Lost", active=False, won_status=WonStatus.LOST, type=LeadType.OPPORTUNITY), 10)
    active = make_lead("Active")
    assert merge_leads(actor=actors.manager, leads=[lost, active]).survivor == active


def test_survivor_opportunity_before_lead(actors):
    lead = aged(make_lead("Lead"), 10)
    opp = make_lead("Opportunity", type=LeadType.OPPORTUNITY)
    assert merge_leads(actor=actors.manager, leads=[lead, opp]).survivor == opp


def test_survivor_most_advanced_stage_then_higher_probability_then_earliest(actors):
    new, proposal = make_stage("New", sequence=1), make_stage("Proposal", sequence=5)
    early = aged(make_lead("Early", type=LeadType.OPPORTUNITY, stage=new, probability=90), 10)
    advanced = make_lead("Advanced", type=LeadType.OPPORTUNITY, stage=proposal, probability=20)
    assert merge_leads(actor=actors.manager, leads=[early, advanced]).survivor == advanced

    a = aged(make_lead("A", type=LeadType.OPPORTUNITY, stage=new, probability=10), 10)
    b = make_lead("B", type=LeadType.OPPORTUNITY, stage=new, probability=30)
    assert merge_leads(actor=actors.manager, leads=[a, b]).survivor == b

    older = aged(make_lead("Older", probability=10), 10)
    newer = make_lead("Newer", probability=10)
    assert merge_leads(actor=actors.manager, leads=[newer, older]).survivor == older


# --- fields ---------------------------------------------------------------------------------------------
def test_each_field_keeps_the_survivors_value_or_the_first_non_empty_in_order(actors):
    survivor = aged(make_lead("Survivor", email="", phone="0912 345 678", job_title=""), 30)
    second = aged(make_lead("Second", email="second@x.vn", phone="0987 654 321", job_title=""), 20)
    third = aged(make_lead("Third", email="third@x.vn", job_title="Giám đốc", user=actors.sales1), 10)
    merge = merge_leads(actor=actors.manager, leads=[third, second, survivor])
    lead = fresh(merge.survivor)
    assert lead.pk == survivor.pk
    assert (lead.email, lead.phone, lead.job_title, lead.user) == (
        "second@x.vn",
        "0912 345 678",
        "Giám đốc",
        actors.sales1,
    )
    assert lead.email_normalized == "second@x.vn"  # keys follow
    assert merge.merged_ids == [second.pk, third.pk]


def test_address_moves_as_one_block_from_the_most_complete_record(actors):
    survivor = aged(make_lead("S", street="", city="Hà Nội"), 30)
    complete = make_lead("C", street="12 Lý Thường Kiệt", city="Hoàn Kiếm", zip="100000", country="VN")
    lead = fresh(merge_leads(actor=actors.manager, leads=[survivor, complete]).survivor)
    assert (lead.street, lead.city, lead.zip, lead.country_id) == (
        "12 Lý Thường Kiệt",
        "Hoàn Kiếm",
        "100000",
        "VN",
    )


def test_address_line_2_moves_with_the_rest_of_its_address(actors):
    survivor = aged(make_lead("S", street2="Tầng 3", city="Hà Nội"), 30)
    complete = make_lead("C", street="12 Lý Thường Kiệt", street2="Phòng 501", city="Hoàn Kiếm", zip="100000")
    lead = fresh(merge_leads(actor=actors.manager, leads=[survivor, complete]).survivor)
    assert (lead.street, lead.street2, lead.city) == ("12 Lý Thường Kiệt", "Phòng 501", "Hoàn Kiếm")


def test_descriptions_are_concatenated_under_a_header_naming_each_source(actors):
    survivor = aged(make_lead("Khách A", description="<p>Muốn báo giá</p>"), 30)
    empty = aged(make_lead("Khách B", description=""), 20)
    other = make_lead("Khách C", description="<p>Gọi lại <b>thứ Hai</b></p>")
    lead = fresh(merge_leads(actor=actors.manager, leads=[other, survivor, empty]).survivor)
    assert lead.description == (
        f'<p class="merge-source"><strong>From “Khách A” (#{survivor.pk})</strong></p><p>Muốn báo giá</p>'
        f'<p class="merge-source"><strong>From “Khách C” (#{other.pk})</strong></p>'
        "<p>Gọi lại <b>thứ Hai</b></p>"
    )


def test_a_survivors_only_description_is_kept_as_is(actors):
    survivor = aged(make_lead("A", description="<p>Chỉ một</p>"), 30)
    lead = fresh(merge_leads(actor=actors.manager, leads=[survivor, make_lead("B")]).survivor)
    assert lead.description == "<p>Chỉ một</p>"


def test_tags_unioned_priority_max_probability_and_lost_reason_of_the_survivor(actors):
    vip, hot, web = make_tag("VIP"), make_tag("Hot"), make_tag("Web")
    survivor = aged(make_lead("S", priority=1, probability=Decimal(40), tags=[vip]), 30)
    other = make_lead(
        "O",
        priority=3,
        probability=Decimal(5),
        tags=[hot, web],
        lost_reason=make_lost_reason(),
        won_status=WonStatus.LOST,
    )
    lead = fresh(merge_leads(actor=actors.manager, leads=[survivor, other]).survivor)
    assert set(lead.tags.all()) == {vip, hot, web}
    assert set(fresh(other).tags.all()) == {hot, web}  # the merged-away record keeps its own
    assert (lead.priority, lead.probability, lead.lost_reason) == (3, Decimal(40), None)


def test_merged_away_records_become_inactive_and_point_to_the_survivor(actors):
    survivor = aged(make_lead("S"), 30)
    a, b = make_lead("A"), make_lead("B")
    merge = merge_leads(actor=actors.manager, leads=[a, survivor, b])
    for lead in (a, b):
        lead = fresh(lead)
        assert (lead.active, lead.merged_into_id) == (False, survivor.pk)
    assert Lead.objects.count() == 3  # never deleted
    assert Merge.objects.get() == merge and merge.created_by == actors.manager


# --- re-linking -----------------------------------------------------------------------------------------
def test_every_relation_to_lead_is_re_linked():
    """Generic: each foreign key to Lead (other apps add theirs) is handled, save the merge log's own."""
    links, many = _links()
    covered = {(link.model, link.attname) for link in links}
    for rel in Lead._meta.related_objects:
        if rel.many_to_many or rel.related_model is Merge:
            continue
        assert (rel.related_model, rel.field.attname) in covered, rel
    assert (HistoryEntry, "object_id") in covered
    assert Lead.tags.through in {m.through for m in many}


def test_page_views_history_and_activities_move_to_the_survivor(actors):
    survivor = aged(make_lead("S"), 30)
    other = make_lead("O")
    view = PageView.objects.create(lead=other, url="https://pheu.vn/gia")
    note = log_entry(record=other, kind=HistoryKind.NOTE, body="Gọi lại")
    activity = _make_activity(other, actors.sales1)
    earlier = make_lead("Merged earlier", active=False, merged_into=other)
    merge_leads(actor=actors.manager, leads=[survivor, other])
    view.refresh_from_db()
    note.refresh_from_db()
    assert view.lead_id == survivor.pk
    assert note.object_id == survivor.pk
    assert fresh(earlier).merged_into_id == survivor.pk
    if activity is not None:
        activity.refresh_from_db()
        assert activity.lead_id == survivor.pk


def _make_activity(lead: Lead, user: Any) -> Any:
    try:
        from pheu.activities.models import Activity
    except ImportError:  # the activities app is built beside this one
        return None
    return Activity.objects.create(lead=lead, assignee=user, due_date=timezone.localdate(), summary="Gọi")


def test_the_survivors_history_lists_every_merged_record_with_its_values(actors):
    survivor = aged(make_lead("S"), 30)
    other = make_lead("Khách O", email="o@x.vn", city="Huế")
    merge = merge_leads(actor=actors.manager, leads=[survivor, other])
    entry = history_of(survivor).filter(kind=HistoryKind.SYSTEM).first()
    assert f"#{other.pk}" in entry.body and f"merge #{merge.pk}" in entry.body
    values = {(c["record"], c["field"]): c["old"] for c in entry.changes}
    assert values[(other.pk, "name")] == "Khách O"
    assert values[(other.pk, "email")] == "o@x.vn"
    assert values[(other.pk, "city")] == "Huế"
    assert entry.author == actors.manager
    assert "merged into" in history_of(other).first().body.lower()


def test_every_field_a_person_sets_is_in_the_merged_records_history_street2_too(actors):
    from pheu.leads.models import EDITABLE_FIELDS
    from pheu.leads.services.merge import LOGGED_FIELDS

    # Derived from the lead's editable fields: a field added to the model is logged without a list to update.
    assert set(EDITABLE_FIELDS) - {"auto_probability"} <= set(LOGGED_FIELDS)
    survivor = aged(make_lead("S"), 30)
    other = make_lead("Khách O", street2="Tầng 3")
    merge_leads(actor=actors.manager, leads=[survivor, other])
    entry = history_of(survivor).filter(kind=HistoryKind.SYSTEM).first()
    values = {(c["record"], c["field"]): c["old"] for c in entry.changes}
    assert values[(other.pk, "street2")] == "Tầng 3"


# --- confirmations and refusals -------------------------------------------------------------------------
def test_records_of_different_customers_need_a_confirmation(actors):
    a = make_lead("A", partner=make_partner("Khách 1"))
    b = make_lead("B", partner=make_partner("Khách 2"))
    with pytest.raises(MergeError) as err:
        merge_leads(actor=actors.manager, leads=[a, b])
    assert err.value.code == MergeError.Code.DIFFERENT_CUSTOMERS
    assert not Merge.objects.exists() and fresh(b).active
    assert merge_leads(actor=actors.manager, leads=[a, b], confirm_different_customers=True)


def test_a_contact_and_its_company_are_the_same_customer(actors):
    company = make_partner("Thép Việt", is_company=True)
    a = make_lead("A", partner=company)
    b = make_lead("B", partner=make_partner("An", parent=company))
    assert merge_leads(actor=actors.manager, leads=[a, b])


def test_won_records_are_merged_with_a_warning(actors):
    won = make_lead("Won", type=LeadType.OPPORTUNITY, won_status=WonStatus.WON, probability=100)
    other = make_lead("Other")
    merge = merge_leads(actor=actors.manager, leads=[other, won])
    assert merge.survivor == won
    assert [(w.code, w.lead_id) for w in merge_warnings(merge)] == [("won", won.pk)]


@pytest.mark.parametrize(
    ("make_ids", "code"),
    [
        (lambda a, b: [a], MergeError.Code.TOO_FEW),
        (lambda a, b: [], MergeError.Code.TOO_FEW),
        (lambda a, b: [a, a], MergeError.Code.SAME_RECORD),
        (lambda a, b: [a, b, a], MergeError.Code.SAME_RECORD),
        (lambda a, b: [a, 999_999], MergeError.Code.NOT_FOUND),
    ],
)
def test_bad_requests_change_nothing(actors, make_ids, code):
    a, b = make_lead("A", email="x@y.vn"), make_lead("B", email="x@y.vn")
    leads = [Lead(pk=pk) if isinstance(pk, int) else pk for pk in make_ids(a, b)]
    with pytest.raises(MergeError) as err:
        merge_leads(actor=actors.manager, leads=leads)
    assert err.value.code == code
    assert not Merge.objects.exists()
    assert Lead.objects.filter(active=True).count() == 2


def test_a_salesperson_cannot_merge_records_they_cannot_edit(actors):
    mine = make_lead("Mine", user=actors.sales1, team=actors.north)
    theirs = make_lead("Theirs", user=actors.sales3, team=actors.south)
    before = model_to_dict(fresh(theirs))
    with pytest.raises(PermissionDeniedError):
        merge_leads(actor=actors.sales1, leads=[mine, theirs])
    assert model_to_dict(fresh(theirs)) == before and not Merge.objects.exists()


def test_a_record_already_merged_away_is_refused(actors):
    a, b, c = make_lead("A"), make_lead("B"), make_lead("C")
    merge_leads(actor=actors.manager, leads=[a, b])
    away = next(x for x in (a, b) if not fresh(x).active)
    with pytest.raises(MergeError) as err:
        merge_leads(actor=actors.manager, leads=[away, c])
    assert err.value.code == MergeError.Code.ALREADY_MERGED


def test_the_system_merges_without_a_permission_check(actors):
    a = make_lead("A", user=actors.sales3)
    b = make_lead("B", user=actors.sales1)
    assert merge_leads(actor=None, leads=[a, b]).created_by is None


# --- unmerge: the round trip ----------------------------------------------------------------------------
def _state(lead_ids: list[int]) -> dict[str, Any]:
    """Every row a merge may touch, as stored."""
    ct = ContentType.objects.get_for_model(Lead)
    state: dict[str, Any] = {
        "leads": {
            lead.pk: model_to_dict(lead, exclude=["tags"]) | _dates(lead) for lead in Lead.objects.all()
        },
        "tags": sorted(Lead.tags.through.objects.values_list("lead_id", "tag_id")),
        "views": sorted(PageView.objects.values_list("pk", "lead_id", "url")),
        "history": sorted(
            HistoryEntry.objects.filter(content_type=ct).values_list("pk", "object_id", "kind", "body")
        ),
    }
    try:
        from pheu.activities.models import Activity

        state["activities"] = sorted(Activity.objects.values_list("pk", "lead_id"))
    except ImportError:
        pass
    return state


def _dates(lead: Lead) -> dict[str, Any]:
    return {
        name: getattr(lead, name) for name in ("created_at", "updated_at", "email_normalized", "search_text")
    }


def test_unmerge_restores_every_record_field_link_and_history_entry(actors):
    vip, hot = make_tag("VIP"), make_tag("Hot")
    stage = make_stage("Proposal", sequence=5)
    survivor = aged(
        make_lead("Survivor", type=LeadType.OPPORTUNITY, stage=stage, tags=[vip], description="<p>A</p>"), 30
    )
    other = make_lead(
        "Other", email="o@x.vn", street="1 Lê Lợi", city="Huế", priority=3, tags=[hot], description="<p>B</p>"
    )
    third = make_lead("Third", phone="0912 345 678", partner=make_partner("Khách"))
    PageView.objects.create(lead=other, url="https://pheu.vn/a")
    PageView.objects.create(lead=survivor, url="https://pheu.vn/b")
    log_entry(record=other, kind=HistoryKind.NOTE, body="Ghi chú")
    log_entry(record=third, kind=HistoryKind.NOTE, body="Ghi chú 2")
    _make_activity(third, actors.sales1)
    earlier = make_lead("Earlier", active=False, merged_into=third)
    ids = [survivor.pk, other.pk, third.pk, earlier.pk]
    before = _state(ids)

    merge = merge_leads(actor=actors.manager, leads=[other, survivor, third])
    assert _state(ids) != before
    result = unmerge(actor=actors.manager, merge_id=merge.pk)

    after = _state(ids)
    # The history keeps the trace of the merge and of its undo, on top of everything as it was.
    new_entries = set(after["history"]) - set(before["history"])
    assert {(row[1], row[2]) for row in new_entries} == {
        (survivor.pk, HistoryKind.SYSTEM),
        (other.pk, HistoryKind.SYSTEM),
        (third.pk, HistoryKind.SYSTEM),
    }
    assert len(new_entries) == 6  # merge + unmerge on each
    after["history"] = sorted(set(after["history"]) - new_entries)
    assert after == before
    assert result.kept_fields == ()
    merge.refresh_from_db()
    assert merge.is_undone and merge.undone_by == actors.manager


def test_unmerge_keeps_a_later_edit_of_the_survivor(actors):
    survivor = aged(make_lead("S", email=""), 30)
    other = make_lead("O", email="o@x.vn", city="Huế")
    merge = merge_leads(actor=actors.manager, leads=[survivor, other])
    Lead.objects.filter(pk=survivor.pk).update(city="Đà Nẵng")
    result = unmerge(actor=actors.manager, merge_id=merge.pk)
    lead = fresh(survivor)
    assert result.kept_fields == ("city",)
    assert (lead.city, lead.email) == ("Đà Nẵng", "")


def test_unmerge_refusals(actors):
    a, b, c = aged(make_lead("A"), 30), make_lead("B"), make_lead("C")
    with pytest.raises(MergeError) as err:
        unmerge(actor=actors.manager, merge_id=12345)
    assert err.value.code == MergeError.Code.NOT_FOUND
    first = merge_leads(actor=actors.manager, leads=[a, b])
    second = merge_leads(actor=actors.manager, leads=[a, c])
    with pytest.raises(MergeError) as err:
        unmerge(actor=actors.manager, merge_id=first.pk)
    assert err.value.code == MergeError.Code.LATER_MERGE
    unmerge(actor=actors.manager, merge_id=second.pk)
    with pytest.raises(MergeError) as err:
        unmerge(actor=actors.manager, merge_id=second.pk)
    assert err.value.code == MergeError.Code.ALREADY_UNDONE
    unmerge(actor=actors.manager, merge_id=first.pk)
    assert Lead.objects.filter(active=True).count() == 3


def test_unmerge_needs_permission_on_the_survivor(actors):
    a = make_lead("A", user=actors.sales3, team=actors.south)
    b = make_lead("B", user=actors.sales3, team=actors.south)
    merge = merge_leads(actor=actors.manager, leads=[a, b])
    with pytest.raises(PermissionDeniedError):
        unmerge(actor=actors.sales1, merge_id=merge.pk)
    merge.refresh_from_db()
    assert not merge.is_undone


def test_a_merged_record_s_language_is_shown_by_its_name_not_its_code(client, actors):
    survivor = make_lead("Giữ lại", email="a@x.vn", language="")
    merged = make_lead("Gộp vào", email="a@x.vn", language="vi")
    merge_leads(actor=actors.manager, leads=[survivor, merged])
    client.force_login(actors.manager)
    html = client.get(f"/leads/{survivor.pk}/").content.decode()
    assert "Tiếng Việt" in html
    assert not re.search(r">\s*vi\s*<", html)
    actors.manager.language = "en"
    actors.manager.save()
    client.cookies["pheu_language"] = "en"
    assert "Vietnamese" in client.get(f"/leads/{survivor.pk}/").content.decode()
