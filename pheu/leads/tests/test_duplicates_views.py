"""Pages: Duplicates, merge preview and merge, undo, conversion, and the panels of the lead page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from pheu.contacts.models import Partner
from pheu.leads.choices import LeadType, WonStatus
from pheu.leads.models import Lead, Merge
from pheu.testing import PASSWORD, make_lead, make_partner

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, english):
    def sign_in(user):
        client.login(username=user.username, password=PASSWORD)
        return client

    return sign_in


def test_duplicates_page_lists_groups_the_user_may_see(signed_in, actors):
    a = make_lead("Khách A", email="an@thepviet.vn", user=actors.sales1)
    make_lead("Khách B", email="an@thepviet.vn", user=actors.sales1)
    make_lead("Hidden", email="an@thepviet.vn", user=actors.sales3)
    response = signed_in(actors.sales1).get(reverse("leads:duplicates"))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Khách A" in text and "Khách B" in text and "Hidden" not in text
    assert "same e-mail" in text
    assert f'value="{a.pk}"' in text
    assert 'href="/leads/duplicates/"' in text or reverse("leads:duplicates") in text  # menu entry


def test_duplicates_page_without_duplicates(signed_in, actors):
    make_lead("Alone", user=actors.sales1)
    response = signed_in(actors.sales1).get(reverse("leads:duplicates") + "?similar=0")
    assert "No duplicates found." in response.content.decode()


def test_merge_preview_then_merge_then_undo(signed_in, actors):
    opp = make_lead("Opp", type=LeadType.OPPORTUNITY, user=actors.sales1)
    lead = make_lead("Lead", user=actors.sales1)
    client = signed_in(actors.sales1)
    url = reverse("leads:merge")
    preview = client.get(url, {"ids": [lead.pk, opp.pk]})
    text = preview.content.decode()
    assert preview.status_code == 200 and "Kept" in text
    assert text.index("Opp") < text.index(">Lead<")  # the survivor first
    assert not Merge.objects.exists()

    response = client.post(url, {"ids": [lead.pk, opp.pk]})
    assert response.status_code == 302 and response.url == reverse("leads:detail", args=[opp.pk])
    merge = Merge.objects.get()
    page = client.get(response.url).content.decode()
    assert "records were merged into this one" in page and "merges-panel" in page
    assert reverse("leads:unmerge", args=[merge.pk]) in page

    response = client.post(reverse("leads:unmerge", args=[merge.pk]))
    assert response.status_code == 302
    assert Lead.objects.get(pk=lead.pk).active
    assert "every record is back" in client.get(response.url).content.decode()


def test_merge_page_refusals_show_the_cause_and_change_nothing(signed_in, actors):
    a = make_lead("A", user=actors.sales1)
    theirs = make_lead("Theirs", user=actors.sales3)
    client = signed_in(actors.sales1)
    url = reverse("leads:merge")
    response = client.post(url, {"ids": [a.pk]})
    assert response.status_code == 400 and "at least two" in response.content.decode()
    response = client.post(url, {"ids": [a.pk, a.pk]})
    assert response.status_code == 400 and "itself" in response.content.decode()
    response = client.post(url, {"ids": [a.pk, theirs.pk]})
    assert response.status_code == 400 and f"#{theirs.pk}" in response.content.decode()
    assert not Merge.objects.exists() and Lead.objects.filter(active=True).count() == 2


def test_merge_of_different_customers_asks_for_the_confirmation_and_won_is_told(signed_in, actors):
    a = make_lead("A", partner=make_partner("K1"), won_status=WonStatus.WON, type=LeadType.OPPORTUNITY)
    b = make_lead("B", partner=make_partner("K2"))
    client = signed_in(actors.manager)
    url = reverse("leads:merge")
    preview = client.get(url, {"ids": [a.pk, b.pk]}).content.decode()
    assert "confirm-different-customers" in preview and "is won; it will be merged too" in preview
    response = client.post(url, {"ids": [a.pk, b.pk]})
    assert response.status_code == 400 and "different customers" in response.content.decode()
    response = client.post(url, {"ids": [a.pk, b.pk], "confirm_different_customers": "on"}, follow=True)
    assert Merge.objects.count() == 1
    assert "is won; it was merged too" in response.content.decode()


def test_a_contact_and_its_company_merge_without_the_confirmation(signed_in, actors):
    company = make_partner("Thép Việt")
    contact = make_partner("Anh Minh", parent=company)
    a, b = make_lead("A", partner=company), make_lead("B", partner=contact)
    preview = signed_in(actors.manager).get(reverse("leads:merge"), {"ids": [a.pk, b.pk]}).content.decode()
    assert "confirm-different-customers" not in preview


def test_lead_page_shows_similar_records_and_the_convert_button(signed_in, actors):
    a = make_lead("Khách A", phone="0912 345 678", user=actors.sales1)
    b = make_lead("Khách B", mobile="+84 912 345 678", user=actors.sales1)
    text = signed_in(actors.sales1).get(reverse("leads:detail", args=[a.pk])).content.decode()
    assert "1 similar" in text and "Khách B" in text and "same phone" in text
    assert reverse("leads:convert", args=[a.pk]) in text
    assert f"ids={a.pk}&amp;ids={b.pk}" in text


def test_convert_page_suggests_the_customer_and_preselects_duplicates(signed_in, actors):
    partner = make_partner("Thép Việt", is_company=True, email="an@thepviet.vn")
    lead = make_lead(
        "A", email="an@thepviet.vn", company_name="Thép Việt", user=actors.sales1, team=actors.north
    )
    dup = make_lead("B", email="an@thepviet.vn", user=actors.sales1)
    client = signed_in(actors.sales1)
    url = reverse("leads:convert", args=[lead.pk])
    page = client.get(url).content.decode()
    assert "Thép Việt" in page and f'value="{dup.pk}"' in page
    assert re.search(rf'<input type="checkbox" name="merge" value="{dup.pk}"[^>]* checked', page)
    response = client.post(
        url,
        {
            "team": actors.north.pk,
            "user": actors.sales1.pk,
            "customer": "link",
            "partner": partner.pk,
            "merge": [dup.pk],
        },
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.type, lead.partner) == (LeadType.OPPORTUNITY, partner)
    assert Lead.objects.get(pk=dup.pk).merged_into_id == lead.pk
    # The message says both: the conversion and the merge.
    told = client.get(response["Location"]).content.decode()
    assert "“A” is now an opportunity. 1 duplicate was merged into it." in told


def test_convert_page_shows_service_errors(signed_in, actors):
    lead = make_lead("A", user=actors.sales1, team=actors.north)
    response = signed_in(actors.sales1).post(
        reverse("leads:convert", args=[lead.pk]), {"customer": "create", "user": actors.sales1.pk}
    )
    assert response.status_code == 200
    assert "neither a company nor a contact name" in response.content.decode()
    assert Lead.objects.get(pk=lead.pk).type == LeadType.LEAD


def test_convert_a_selection(signed_in, actors):
    a = make_lead("A", company_name="Thép Việt", user=actors.sales1)
    b = make_lead("B", user=actors.sales1)
    client = signed_in(actors.sales1)
    url = reverse("leads:convert_selection")
    assert "Convert 2 leads" in client.get(url, {"ids": [a.pk, b.pk]}).content.decode()
    response = client.post(url, {"ids": [a.pk, b.pk], "customer": "create"})
    assert response.status_code == 302
    assert set(Lead.objects.values_list("type", flat=True)) == {LeadType.OPPORTUNITY}
    assert list(Partner.objects.values_list("name", flat=True)) == ["Thép Việt"]


def test_pages_of_records_the_user_cannot_see_are_404(signed_in, actors):
    theirs = make_lead("Theirs", user=actors.sales3)
    other = make_lead("Other", user=actors.sales3)
    merge = Merge.objects.create(survivor=theirs, merged_ids=[other.pk])
    client = signed_in(actors.sales1)
    assert client.get(reverse("leads:convert", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("leads:unmerge", args=[merge.pk])).status_code == 404


def test_a_large_group_is_listed_a_page_of_records_at_a_time(signed_in, actors):
    leads = [make_lead(f"Khách {i:02d}", email="an@thepviet.vn", user=actors.sales1) for i in range(25)]
    client = signed_in(actors.sales1)
    text = client.get(reverse("leads:duplicates") + "?similar=0").content.decode()
    assert "25 records" in text and "Records 1–20 of 25 in this group" in text
    assert text.count('name="ids"') == 20
    assert "group=0&amp;records=2" in text
    text = client.get(reverse("leads:duplicates") + "?similar=0&group=0&records=2").content.decode()
    assert text.count('name="ids"') == 5 and "Records 21–25 of 25" in text
    assert f'value="{leads[-1].pk}"' in text


def test_similar_groups_show_their_pairs_with_probability_and_evidence(signed_in, actors):
    make_lead(
        "A", contact_name="Nguyễn Văn An", street="12 Lý Thường Kiệt", city="Hà Nội", user=actors.sales1
    )
    make_lead(
        "B", contact_name="Nguyen Van An", street="12 Ly Thuong Kiet", city="Ha Noi", user=actors.sales1
    )
    text = signed_in(actors.sales1).get(reverse("leads:duplicates") + "?similar=1").content.decode()
    assert "likely the same · 99%" in text or "likely the same · 100%" in text
    assert "same street +" in text and "same name +" in text


def test_lead_page_lists_a_lost_lookalike_flagged_and_the_convert_page_does_not_tick_it(signed_in, actors):
    a = make_lead("Khách A", email="an@thepviet.vn", user=actors.sales1)
    lost = make_lead(
        "Khách cũ", email="an@thepviet.vn", user=actors.sales1, won_status=WonStatus.LOST, active=False
    )
    client = signed_in(actors.sales1)
    text = client.get(reverse("leads:detail", args=[a.pk])).content.decode()
    assert "Khách cũ" in text and "similar-lost" in text and "same e-mail +" in text
    page = client.get(reverse("leads:convert", args=[a.pk])).content.decode()
    assert f'value="{lost.pk}"' in page
    assert not re.search(rf'<input type="checkbox" name="merge" value="{lost.pk}"[^>]* checked', page)


def test_the_duplicates_page_says_how_many_keys_were_too_common(signed_in, actors):
    from pheu.leads.matching import BLOCK_CAP

    for i in range(BLOCK_CAP + 1):
        make_lead(f"C{i}", contact_name=f"X{i:02d}a Y{i:02d}b", email=f"p{i}@bigcorp.vn", user=actors.sales1)
    text = signed_in(actors.sales1).get(reverse("leads:duplicates") + "?similar=1").content.decode()
    assert f"Keys shared by more than {BLOCK_CAP} records" in text
    assert "1 such keys pair no records" in text
