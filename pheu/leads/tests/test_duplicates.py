"""Duplicate detection: each match reason, public domains, Vietnamese names, phone formats, the base scan."""

from __future__ import annotations

import pytest

from pheu.core.models import PheuSettings
from pheu.leads.choices import WonStatus
from pheu.leads.duplicates import (
    Reason,
    find_duplicates,
    scan_duplicates,
    suggest_partners,
)
from pheu.leads.matching import company_core
from pheu.leads.models import Lead
from pheu.lib.public_domains import PUBLIC_EMAIL_DOMAINS, is_public_domain
from pheu.testing import make_lead, make_partner

pytestmark = pytest.mark.django_db


def reasons_by_id(lead: Lead) -> dict[int, set[str]]:
    return {match.lead_id: set(match.codes) for match in find_duplicates(lead)}


# --- exact keys -----------------------------------------------------------------------------------------
def test_same_email_whatever_the_case_and_spaces():
    a = make_lead("Web form", email=" An.Nguyen@ThepViet.vn ")
    b = make_lead("E-mail", email="an.nguyen@thepviet.vn")
    make_lead("Someone else", email="binh@other.vn")
    [match] = find_duplicates(a)
    assert match.lead_id == b.pk
    assert match.reasons[0].code == Reason.EMAIL
    assert match.reasons[0].value == "an.nguyen@thepviet.vn"
    assert match.propose


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [
        ({"phone": "0912 345 678"}, {"phone": "+84 912345678"}),
        ({"phone": "0912 345 678"}, {"mobile": "84912345678"}),
        ({"mobile": "+84 912345678"}, {"phone": "84912345678"}),  # either way round
        ({"mobile": "0912.345.678"}, {"mobile": "+84912345678"}),
    ],
)
def test_same_phone_in_every_format_as_phone_or_mobile(mine, theirs):
    a = make_lead("A", **mine)
    b = make_lead("B", **theirs)
    assert reasons_by_id(a) == {b.pk: {Reason.PHONE}}
    assert reasons_by_id(b) == {a.pk: {Reason.PHONE}}


def test_different_phones_do_not_match():
    a = make_lead("A", phone="0912 345 678")
    make_lead("B", phone="0912 345 679")
    assert find_duplicates(a) == []


def test_same_customer_or_a_customer_of_the_same_company():
    company = make_partner("Thép Việt", is_company=True)
    person = make_partner("Nguyễn Văn An", parent=company)
    colleague = make_partner("Lê Thị Bình", parent=company)
    other = make_partner("Công ty Khác", is_company=True)
    a = make_lead("A", partner=person)
    same_person = make_lead("B", partner=person)
    the_company = make_lead("C", partner=company)
    a_colleague = make_lead("D", partner=colleague)
    make_lead("E", partner=other)
    assert reasons_by_id(a) == {
        same_person.pk: {Reason.PARTNER},
        the_company.pk: {Reason.PARTNER},
        a_colleague.pk: {Reason.PARTNER},
    }
    # …and from the company's side: its contacts.
    assert set(reasons_by_id(the_company)) == {a.pk, same_person.pk, a_colleague.pk}


def test_same_company_email_domain():
    a = make_lead("A", email="an@thepviet.vn")
    b = make_lead("B", email="binh@ThepViet.vn")
    make_lead("C", email="chi@thepviet.com.vn")
    assert reasons_by_id(a) == {b.pk: {Reason.EMAIL_DOMAIN}}


def test_a_large_company_domain_lists_a_bounded_number_with_the_same_person_first(monkeypatch):
    from pheu.leads import duplicates

    monkeypatch.setattr(duplicates, "CANDIDATE_LIMIT", 3)
    colleagues = [make_lead(f"Colleague {i}", email=f"c{i}@thepviet.vn") for i in range(5)]
    same_person = make_lead("Again", email="an@thepviet.vn")
    a = make_lead("A", email="an@thepviet.vn")
    found = reasons_by_id(a)
    assert len(found) == 3
    assert Reason.EMAIL in found[same_person.pk]
    assert set(found) - {same_person.pk} <= {c.pk for c in colleagues}


@pytest.mark.parametrize("domain", ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com"])
def test_public_email_domains_are_not_a_reason(domain):
    a = make_lead("A", email=f"an@{domain}")
    make_lead("B", email=f"binh@{domain}")
    assert find_duplicates(a) == []
    assert is_public_domain(domain)


def test_the_public_domain_list_is_lower_case_and_includes_vietnamese_providers():
    assert all(d == d.lower().strip() for d in PUBLIC_EMAIL_DOMAINS)
    assert {"yahoo.com.vn", "gmail.com"} <= PUBLIC_EMAIL_DOMAINS
    assert not is_public_domain("thepviet.vn")


# --- the matcher's probability ------------------------------------------------------------------------
def test_vietnamese_name_with_and_without_accents_and_the_same_address():
    a = make_lead("Cần báo giá", contact_name="Nguyễn Văn An", street="12 Lý Thường Kiệt", city="Hà Nội")
    b = make_lead("Need a quote", contact_name="NGUYEN VAN AN", street="12 Ly Thuong Kiet", city="Ha Noi")
    [match] = find_duplicates(a)
    assert match.lead_id == b.pk and match.codes == (Reason.SIMILAR_NAME,)
    assert match.probability >= 0.9 and match.propose
    assert [(e.field, e.level) for e in match.evidence] == [
        ("street", "same"),
        ("name", "same"),
        ("city", "same"),
    ]
    assert all(e.weight > 0 for e in match.evidence)


def test_the_same_name_with_another_city_and_phone_is_not_similar():
    a = make_lead("A", contact_name="Nguyễn Văn An", city="Hà Nội", phone="0912 345 678")
    make_lead("B", contact_name="Nguyễn Văn An", city="Đà Nẵng", phone="0987 654 321")
    assert find_duplicates(a) == []


def test_a_typo_and_swapped_name_parts_match_with_the_same_phone_in_another_form():
    a = make_lead("A", contact_name="Trần Thị Bích Ngọc", phone="0912 345 678", city="Hà Nội")
    b = make_lead("B", contact_name="Ngoc Bich Tran Thi", mobile="+84 912 345 678")  # swapped, no accents
    make_lead("C", contact_name="Trần Thị Bích Ngọc", phone="0977 111 222", city="Cần Thơ")  # a namesake
    [match] = find_duplicates(a)
    assert match.lead_id == b.pk and match.codes[0] == Reason.PHONE and match.propose
    assert {e.field: e.level for e in match.evidence} == {"name": "same", "phone": "same"}


def test_a_typo_in_the_name_with_the_same_street_and_postcode():
    a = make_lead("A", contact_name="Nguyễn Văn Thành", street="45 Nguyễn Huệ", zip="700000")
    b = make_lead("B", contact_name="Nguyen Van Thanhh", street="45 Nguyen Hue", zip="700000")
    [match] = find_duplicates(a)
    assert match.lead_id == b.pk and match.probability >= 0.9
    name = next(e for e in match.evidence if e.field == "name")
    assert name.level == "close" and 0.9 < name.similarity < 1 and name.weight > 0
    assert "0.9" in str(name) and str(name).endswith(f"{name.weight:+.1f}")


def test_people_of_the_same_family_are_not_similar():
    a = make_lead("A", contact_name="Nguyễn Văn An", city="Hà Nội", zip="100000")
    make_lead("B", contact_name="Nguyễn Văn Bình", city="Hà Nội", zip="100000")
    make_lead("C", contact_name="Trần Văn An", city="Hà Nội", zip="100000")
    assert find_duplicates(a) == []


def test_the_thresholds_come_from_the_settings():
    a = make_lead("A", contact_name="Phạm Thị Lan", city="Huế", zip="530000")
    b = make_lead("B", contact_name="Pham Lan", city="Đà Nẵng", zip="530000")  # middle name left out
    [match] = find_duplicates(a)
    assert match.lead_id == b.pk and match.propose and match.score < 99
    PheuSettings.objects.filter(pk=1).update(duplicate_merge_threshold=match.score + 1)
    [match] = find_duplicates(a)
    assert not match.propose
    PheuSettings.objects.filter(pk=1).update(duplicate_show_threshold=match.score + 1)
    assert find_duplicates(a) == []


def test_a_shared_company_name_alone_is_listed():
    a = make_lead("A", company_name="Công ty TNHH Thép Việt", contact_name="Lê Văn Tám")
    b = make_lead("B", company_name="CÔNG TY TNHH THÉP VIỆT", contact_name="Hoàng Thị Hoa")
    [match] = find_duplicates(a)
    assert match.lead_id == b.pk and match.codes == (Reason.COMPANY,)
    assert not match.propose


def test_similar_company_names_without_their_legal_form():
    assert company_core("cong ty tnhh thep viet") == company_core("thep viet co., ltd") == "thep viet"


def test_lost_records_are_listed_flagged_and_never_proposed():
    a = make_lead("A", email="an@thepviet.vn")
    lost = make_lead("Lost", email="an@thepviet.vn", won_status=WonStatus.LOST, active=False)
    [match] = find_duplicates(a)
    assert (match.lead_id, match.lost, match.propose) == (lost.pk, True, False)
    assert match.as_dict()["lost"] is True


# --- scope ----------------------------------------------------------------------------------------------
def test_merged_away_records_are_not_candidates():
    a = make_lead("A", email="an@thepviet.vn")
    survivor = make_lead("S")
    make_lead("B", email="an@thepviet.vn", active=False, merged_into=survivor)
    assert find_duplicates(a) == []


def test_the_queryset_narrows_the_candidates(actors):
    a = make_lead("A", email="an@thepviet.vn", user=actors.sales1)
    make_lead("B", email="an@thepviet.vn", user=actors.sales3)
    assert find_duplicates(a, queryset=Lead.objects.visible_to(actors.sales1)) == []
    assert len(find_duplicates(a, queryset=Lead.objects.visible_to(actors.manager))) == 1


def test_an_unsaved_lead_is_checked_by_its_fields():
    existing = make_lead("A", phone="0912 345 678")
    assert [m.lead_id for m in find_duplicates(Lead(name="new", phone="+84912345678"))] == [existing.pk]


def test_one_lookup_takes_at_most_three_queries(django_assert_max_num_queries):
    company = make_partner("Thép Việt", is_company=True)
    a = make_lead(
        "A",
        contact_name="Nguyễn Văn An",
        company_name="Thép Việt",
        email="an@thepviet.vn",
        phone="0912 345 678",
        zip="100000",
        partner=company,
    )
    for i in range(5):
        make_lead(f"B{i}", email=f"x{i}@thepviet.vn", contact_name="Nguyen Van An", zip="100000")
    PheuSettings.load()  # the settings row exists (it is made once, on first read)
    with django_assert_max_num_queries(3):
        matches = find_duplicates(a)
    assert len(matches) == 5


# --- the whole base -------------------------------------------------------------------------------------
def test_scan_lists_groups_with_reasons_and_scores():
    a = make_lead("A", email="an@gmail.com", phone="0912 345 678")
    b = make_lead("B", email="AN@gmail.com", mobile="+84 912345678")
    c = make_lead("C", phone="84912345678")
    d = make_lead("D", contact_name="Nguyễn Văn An", city="Hà Nội", street="3 Tràng Tiền")
    e = make_lead("E", contact_name="Nguyen Van Ann", city="Ha Noi", street="3 Trang Tien")
    make_lead("F", contact_name="Nguyễn Văn Bình", city="Hà Nội")
    make_lead("G", email="g@gmail.com")
    make_lead("H", email="an@gmail.com", active=False)
    groups = {g.ids: g for g in scan_duplicates()}
    assert set(groups) == {
        tuple(sorted([a.pk, b.pk])),
        tuple(sorted([a.pk, b.pk, c.pk])),
        tuple(sorted([d.pk, e.pk])),
    }
    assert [r.code for r in groups[tuple(sorted([a.pk, b.pk]))].reasons] == [Reason.EMAIL]
    assert groups[tuple(sorted([a.pk, b.pk, c.pk]))].reasons[0].code == Reason.PHONE
    similar = groups[tuple(sorted([d.pk, e.pk]))]
    assert similar.reasons[0].code == Reason.SIMILAR and 90 <= similar.score < 100
    [pair] = similar.pairs
    assert (pair.a, pair.b, pair.percent) == (d.pk, e.pk, similar.score)
    data = similar.as_dict()
    assert data["ids"] == sorted([d.pk, e.pk]) and data["pair_count"] == 1
    assert {e["field"] for e in data["pairs"][0]["evidence"]} == {"name", "city", "street"}


def test_scan_keeps_large_groups():
    # Twelve entries of one person (more than the old scan's silent limit of ten), each a typo away.
    leads = [
        make_lead(f"L{i}", contact_name=f"Đỗ Minh Khôi{'i' * (i % 3)}", street="8 Hàng Bài", zip="100000")
        for i in range(12)
    ]
    [group] = [g for g in scan_duplicates() if g.reasons[0].code == Reason.SIMILAR]
    assert group.ids == tuple(sorted(lead.pk for lead in leads))
    assert group.pair_count == len(group.pairs) >= 11


def test_scan_joins_reasons_of_the_same_records_and_finds_partner_and_domain_groups():
    company = make_partner("Thép Việt", is_company=True)
    person = make_partner("An", parent=company)
    a = make_lead("A", partner=company, email="an@thepviet.vn")
    b = make_lead("B", partner=person, email="binh@thepviet.vn")
    groups = scan_duplicates()
    assert [(g.ids, [r.code for r in g.reasons]) for g in groups] == [
        (tuple(sorted([a.pk, b.pk])), [Reason.PARTNER, Reason.EMAIL_DOMAIN])
    ]


def test_scan_respects_the_queryset(actors):
    make_lead("A", email="an@thepviet.vn", user=actors.sales1)
    make_lead("B", email="an@thepviet.vn", user=actors.sales3)
    assert scan_duplicates(Lead.objects.visible_to(actors.sales1)) == []
    assert len(scan_duplicates(Lead.objects.visible_to(actors.manager))) == 1


# --- customers to suggest on conversion ------------------------------------------------------------------
def test_suggested_partners_match_by_email_phone_or_name():
    by_email = make_partner("Someone", email="AN@thepviet.vn")
    by_phone = make_partner("Other", phone="+84 912 345 678")
    by_name = make_partner("Thép Việt", is_company=True)
    make_partner("Unrelated", email="x@y.vn")
    lead = make_lead("A", email="an@thepviet.vn", mobile="0912345678", company_name="THEP VIET")
    assert set(suggest_partners(lead)) == {by_email, by_phone, by_name}


def test_the_merge_threshold_cannot_be_below_the_show_threshold():
    from django.core.exceptions import ValidationError

    settings = PheuSettings.load()
    assert (settings.duplicate_show_threshold, settings.duplicate_merge_threshold) == (60, 90)
    settings.duplicate_merge_threshold = 50
    with pytest.raises(ValidationError) as err:
        settings.full_clean()
    assert "duplicate_merge_threshold" in err.value.message_dict
    settings.duplicate_merge_threshold, settings.duplicate_show_threshold = 100, 0
    with pytest.raises(ValidationError) as err:
        settings.full_clean()
    assert "duplicate_show_threshold" in err.value.message_dict
