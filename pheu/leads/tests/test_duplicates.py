"""Duplicate detection: each match reason, public domains, Vietnamese names, phone formats, the base scan."""

from __future__ import annotations

import pytest

from pheu.leads.duplicates import (
    Reason,
    Signal,
    company_core,
    find_duplicates,
    name_similarity,
    scan_duplicates,
    suggest_partners,
)
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
    assert match.score == 100


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


# --- similar names ----------------------------------------------------------------------------------------
def test_vietnamese_name_with_and_without_accents_in_the_same_city():
    a = make_lead("Cần báo giá", contact_name="Nguyễn Văn An", city="Hà Nội")
    b = make_lead("Need a quote", contact_name="NGUYEN VAN AN", city="Ha Noi")
    [match] = find_duplicates(a)
    assert match.lead_id == b.pk
    [reason] = match.reasons
    assert (reason.code, reason.score, reason.signals) == (Reason.SIMILAR_NAME, 100, (Signal.CITY,))


def test_a_similar_name_alone_is_not_a_duplicate():
    a = make_lead("A", contact_name="Nguyễn Văn An", city="Hà Nội")
    make_lead("B", contact_name="Nguyễn Văn An", city="Đà Nẵng")
    assert find_duplicates(a) == []


def test_a_typo_in_the_given_name_matches_when_corroborated_by_the_postcode():
    a = make_lead("A", contact_name="Nguyễn Văn An", zip="100000")
    b = make_lead("B", contact_name="Nguyen Van Anh", zip="100000")
    [match] = find_duplicates(a)
    assert match.lead_id == b.pk
    assert match.reasons[0].code == Reason.SIMILAR_NAME
    assert 85 <= match.score < 100
    assert match.reasons[0].signals == (Signal.ZIP,)


def test_people_of_the_same_family_are_not_similar():
    a = make_lead("A", contact_name="Nguyễn Văn An", city="Hà Nội")
    make_lead("B", contact_name="Nguyễn Văn Bình", city="Hà Nội")
    make_lead("C", contact_name="Trần Văn An", city="Hà Nội")
    assert find_duplicates(a) == []


def test_similar_email_local_part_corroborates_a_similar_name():
    a = make_lead("A", contact_name="Phạm Thị Lan", email="lan.pham@gmail.com")
    b = make_lead("B", contact_name="Pham Thi Lan", email="lan.pham@congtyabc.vn")
    [match] = find_duplicates(a)
    assert match.lead_id == b.pk
    assert match.reasons[0].signals == (Signal.EMAIL_LOCAL,)


def test_similar_company_names_without_their_legal_form():
    a = make_lead("A", company_name="Công ty TNHH Thép Việt", zip="700000")
    b = make_lead("B", company_name="Thep Viet Co., Ltd", zip="700000")
    matches = {m.lead_id: m for m in find_duplicates(a)}
    assert Reason.SIMILAR_COMPANY in matches[b.pk].codes


def test_name_similarity_is_strict_about_the_given_name():
    assert name_similarity("nguyen van an", "nguyen van an") == 100
    assert name_similarity("nguyen van an", "an nguyen van") >= 95  # order of words
    assert name_similarity("nguyen van an", "nguyen an") == 90  # a missing middle name
    assert name_similarity("nguyen van an", "nguyen van binh") == 0
    assert name_similarity("john smith", "jon smith") >= 85
    assert company_core("cong ty tnhh thep viet") == company_core("thep viet co., ltd") == "thep viet"


# --- scope ----------------------------------------------------------------------------------------------
def test_inactive_and_merged_away_records_are_not_candidates():
    a = make_lead("A", email="an@thepviet.vn")
    make_lead("B", email="an@thepviet.vn", active=False)
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
    with django_assert_max_num_queries(3):
        matches = find_duplicates(a)
    assert len(matches) == 5


# --- the whole base -------------------------------------------------------------------------------------
def test_scan_lists_groups_with_reasons_and_scores():
    a = make_lead("A", email="an@gmail.com", phone="0912 345 678")
    b = make_lead("B", email="AN@gmail.com", mobile="+84 912345678")
    c = make_lead("C", phone="84912345678")
    d = make_lead("D", contact_name="Nguyễn Văn An", city="Hà Nội")
    e = make_lead("E", contact_name="Nguyen Van Anh", city="Ha Noi")
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
    assert [r.code for r in groups[tuple(sorted([a.pk, b.pk, c.pk]))].reasons] == [Reason.PHONE]
    similar = groups[tuple(sorted([d.pk, e.pk]))]
    assert similar.reasons[0].code == Reason.SIMILAR_NAME and 85 <= similar.score < 100
    assert similar.as_dict()["ids"] == sorted([d.pk, e.pk])


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
